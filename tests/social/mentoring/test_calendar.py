"""Calendar invites (plugin/social/mentoring/calendar.py): the bytes are parsed back with
icalendar and the series expanded with recurring-ical-events, as a calendar would."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from icalendar import Calendar

from plugin.access import Refusal
from plugin.social.mentoring import calendar
from plugin.social.mentoring.calendar import MeetingSeries, Person

STAMP = datetime(2025, 1, 2, 8, 0, tzinfo=UTC)


def series(**changes) -> MeetingSeries:
    base = MeetingSeries(
        pair_id=42,
        title="Mentoring: Mia and Max",
        mentor=Person("Mia Mentor", "mia@example.edu"),
        mentee=Person("Max Mentee", "max@example.edu"),
        start_date=date(2025, 3, 17),
        start_time=time(18, 0),
        time_zone="Europe/Berlin",
        duration_minutes=45,
        cadence_days=7,
        end_date=date(2025, 4, 14),
        uid_domain="commons.example.edu",
        place="Room 4",
        link="https://meet.example.edu/mia-max",
    )
    return dataclasses.replace(base, **changes)


def parse(data: bytes) -> tuple[Calendar, object]:
    cal = Calendar.from_ical(data)
    events = cal.walk("VEVENT")
    assert len(events) == 1
    return cal, events[0]


def starts(data: bytes) -> list[datetime]:
    cal = Calendar.from_ical(data)
    found = recurring_ical_events.of(cal).between(date(2024, 1, 1), date(2030, 1, 1))
    return sorted(e["DTSTART"].dt for e in found)


def unfolded(data: bytes) -> str:
    return data.decode().replace("\r\n ", "")


def test_weekly_meetings_keep_their_wall_clock_time_across_berlins_summer_time() -> None:
    data = calendar.invite(series(), stamp=STAMP)
    cal, event = parse(data)
    text = unfolded(data)

    assert cal["METHOD"] == "REQUEST"
    assert "RRULE:FREQ=WEEKLY;UNTIL=20250414T215959Z;INTERVAL=1" in text
    assert "DTSTART;TZID=Europe/Berlin:20250317T180000" in text
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    got = starts(data)
    berlin = ZoneInfo("Europe/Berlin")
    assert [d.astimezone(berlin).replace(tzinfo=None) for d in got] == [
        datetime(2025, 3, 17, 18, 0),
        datetime(2025, 3, 24, 18, 0),
        datetime(2025, 3, 31, 18, 0),  # the clocks went forward on 30 March
        datetime(2025, 4, 7, 18, 0),
        datetime(2025, 4, 14, 18, 0),  # the end date itself is included
    ]
    assert [d.astimezone(UTC).hour for d in got] == [17, 17, 16, 16, 16]
    assert event["DTEND"].dt - event["DTSTART"].dt == timedelta(minutes=45)


def test_a_cadence_in_days_across_new_yorks_autumn_change() -> None:
    data = calendar.invite(
        series(
            time_zone="America/New_York",
            start_date=date(2025, 10, 20),
            start_time=time(9, 30),
            cadence_days=10,
            end_date=date(2025, 11, 29),
        ),
        stamp=STAMP,
    )
    assert "RRULE:FREQ=DAILY;UNTIL=20251130T045959Z;INTERVAL=10" in unfolded(data)
    got = starts(data)
    new_york = ZoneInfo("America/New_York")
    assert [d.astimezone(new_york).replace(tzinfo=None) for d in got] == [
        datetime(2025, 10, 20, 9, 30),
        datetime(2025, 10, 30, 9, 30),
        datetime(2025, 11, 9, 9, 30),  # the clocks went back on 2 November
        datetime(2025, 11, 19, 9, 30),
        datetime(2025, 11, 29, 9, 30),
    ]
    assert [d.astimezone(UTC).strftime("%H:%M") for d in got] == [
        "13:30",
        "13:30",
        "14:30",
        "14:30",
        "14:30",
    ]
    # a day before the last meeting as the end date leaves it out
    shorter = calendar.invite(
        series(
            time_zone="America/New_York",
            start_date=date(2025, 10, 20),
            start_time=time(9, 30),
            cadence_days=10,
            end_date=date(2025, 11, 28),
        ),
        stamp=STAMP,
    )
    assert len(starts(shorter)) == 4


def test_whole_weeks_are_weekly_and_other_cadences_daily() -> None:
    assert "FREQ=WEEKLY;UNTIL=20250414T215959Z;INTERVAL=2" in unfolded(
        calendar.invite(series(cadence_days=14), stamp=STAMP)
    )
    one_a_day = calendar.invite(series(cadence_days=1, end_date=date(2025, 3, 20)), stamp=STAMP)
    assert "FREQ=DAILY;UNTIL=20250320T225959Z;INTERVAL=1" in unfolded(one_a_day)
    assert len(starts(one_a_day)) == 4
    assert len(starts(calendar.invite(series(cadence_days=30), stamp=STAMP))) == 1


def test_the_uid_is_stable_and_updates_carry_a_higher_sequence() -> None:
    first = parse(calendar.invite(series(), stamp=STAMP))[1]
    update = parse(
        calendar.invite(
            series(sequence=1, cadence_days=14, place="Room 9", end_date=date(2025, 6, 30)),
            stamp=datetime(2025, 2, 1, tzinfo=UTC),
        )
    )[1]
    other_pair = parse(calendar.invite(series(pair_id=43), stamp=STAMP))[1]

    assert str(first["UID"]) == "mentoring-pair-42@commons.example.edu"
    assert str(update["UID"]) == str(first["UID"])
    assert str(other_pair["UID"]) == "mentoring-pair-43@commons.example.edu"
    assert (first["SEQUENCE"], update["SEQUENCE"]) == (0, 1)
    assert first["DTSTAMP"].dt == STAMP
    # the same input gives the same bytes
    assert calendar.invite(series(), stamp=STAMP) == calendar.invite(series(), stamp=STAMP)
    assert calendar.filename(42) == "mentoring-pair-42.ics"


def test_organizer_attendees_place_and_link() -> None:
    event = parse(calendar.invite(series(), stamp=STAMP))[1]
    assert str(event["ORGANIZER"]) == "mailto:mia@example.edu"
    assert event["ORGANIZER"].params["CN"] == "Mia Mentor"
    attendees = {str(a): a.params for a in event["ATTENDEE"]}
    assert set(attendees) == {"mailto:mia@example.edu", "mailto:max@example.edu"}
    assert attendees["mailto:max@example.edu"]["PARTSTAT"] == "NEEDS-ACTION"
    assert attendees["mailto:max@example.edu"]["RSVP"] == "TRUE"
    assert attendees["mailto:mia@example.edu"]["PARTSTAT"] == "ACCEPTED"
    assert str(event["LOCATION"]) == "Room 4"
    assert str(event["URL"]) == "https://meet.example.edu/mia-max"

    online_only = parse(calendar.invite(series(place=None), stamp=STAMP))[1]
    assert str(online_only["LOCATION"]) == "https://meet.example.edu/mia-max"
    in_person = parse(calendar.invite(series(link=None), stamp=STAMP))[1]
    assert "URL" not in in_person
    assert "https://" not in str(in_person["DESCRIPTION"])


def test_commas_semicolons_and_new_lines_are_escaped() -> None:
    data = calendar.invite(
        series(
            title="Coaching, feedback; goals",
            place="Room 4, Building B;\nsecond floor",
            mentor=Person('Mentor, Mia "M"; PhD', "mia@example.edu"),
        ),
        stamp=STAMP,
    )
    text = unfolded(data)
    assert "SUMMARY:Coaching\\, feedback\\; goals\r\n" in text
    assert "LOCATION:Room 4\\, Building B\\;\\nsecond floor\r\n" in text
    assert all(len(line.encode()) <= 75 for line in data.decode().split("\r\n"))
    event = parse(data)[1]
    assert str(event["SUMMARY"]) == "Coaching, feedback; goals"
    assert str(event["LOCATION"]) == "Room 4, Building B;\nsecond floor"
    assert event["ORGANIZER"].params["CN"] == 'Mentor, Mia "M"; PhD'
    # a one-line field never carries a new line into the file
    flat = parse(calendar.invite(series(title="Line one\nBEGIN:VALARM"), stamp=STAMP))[1]
    assert str(flat["SUMMARY"]) == "Line one BEGIN:VALARM"


def test_no_private_notes_can_go_in() -> None:
    # The input has no field for what the pair writes (check-in notes, goals, next steps), and
    # the description is made from the cadence and the dates only.
    assert {f.name for f in dataclasses.fields(MeetingSeries)} == {
        "pair_id",
        "title",
        "mentor",
        "mentee",
        "start_date",
        "start_time",
        "time_zone",
        "duration_minutes",
        "cadence_days",
        "end_date",
        "uid_domain",
        "place",
        "link",
        "sequence",
        "co_mentors",  # a group circle's other people: names and addresses only
        "other_mentees",
    }
    event = parse(calendar.invite(series(), stamp=STAMP))[1]
    assert str(event["DESCRIPTION"]) == (
        "Mentoring meetings of Mia Mentor and Max Mentee: every week, 45 minutes, "
        "until 14 April 2025.\nJoin: https://meet.example.edu/mia-max"
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"end_date": date(2025, 3, 16)}, "The end date is before the start date"),
        ({"cadence_days": 0}, "The cadence in days must be from 1 to 366."),
        ({"cadence_days": -7}, "The cadence in days must be from 1 to 366."),
        ({"cadence_days": 1.5}, "The cadence in days must be a whole number."),
        ({"time_zone": "Mars/Olympus_Mons"}, "'Mars/Olympus_Mons' is not a known time zone"),
        ({"time_zone": "../../etc/passwd"}, "is not a known time zone"),
        ({"time_zone": ""}, "is not a known time zone"),
        ({"duration_minutes": 0}, "The meeting length in minutes must be from 1 to 1440."),
        ({"start_time": time(2, 30)}, "02:30 does not exist on 30 March 2025 in Europe/Berlin"),
        ({"mentee": Person("Max", "max@example.edu\nBCC:x@y.z")}, "mentee's e-mail address"),
        ({"mentor": Person(" ", "mia@example.edu")}, "The mentor's name is missing."),
        ({"link": "javascript:alert(1)"}, "The meeting link must be a web address"),
        ({"place": None, "link": None}, "Say where the pair meets"),
        ({"title": "x" * 201}, "The title must be at most 200 characters."),
        ({"title": "a\x00b"}, "The title must be text."),
        ({"uid_domain": "evil@domain"}, "The UID domain must be a host name"),
        ({"end_date": date(2036, 1, 1)}, "within 10 years"),
        ({"pair_id": 0}, "The pair id must be from 1"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(changes: dict, message: str) -> None:
    if "start_time" in changes:
        changes = {**changes, "start_date": date(2025, 3, 30)}
    with pytest.raises(Refusal) as refused:
        calendar.invite(series(**changes), stamp=STAMP)
    assert refused.value.status == 400
    assert message in refused.value.message
