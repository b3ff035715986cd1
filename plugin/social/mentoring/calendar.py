"""Calendar invites for a mentoring pair's meetings: one ``.ics`` file (iCalendar, RFC 5545)
that puts the whole cadence in both people's calendars.

The file is built with the ``icalendar`` library, never by hand: it escapes text (commas,
semicolons, new lines), quotes parameters, folds long lines and writes the time zone
(``VTIMEZONE``) from ``zoneinfo``. It holds one ``VCALENDAR`` with ``METHOD:REQUEST`` and one
``VEVENT``:

- ``UID`` ``mentoring-pair-<pair id>@<uid domain>``: the same for every version of a pair's
  invite, so a calendar replaces the series it already has instead of adding a second one;
- ``SEQUENCE``: 0 for the first invite, one more for each update (new cadence, place, end date);
- ``DTSTART``/``DTEND`` in the pair's time zone (``TZID``, with its ``VTIMEZONE``), so the
  meeting stays at the same wall-clock time across summer-time changes;
- ``RRULE``: ``FREQ=WEEKLY;INTERVAL=n/7`` when the cadence is a whole number of weeks, else
  ``FREQ=DAILY;INTERVAL=n``; never ``MONTHLY`` — a cadence is kept in days (the reminders count
  days), and "monthly" in iCalendar means the same day of each month, which drifts away from
  every 30 days. ``UNTIL`` is the end of the end date in the pair's time zone, in UTC (as RFC
  5545 requires with a ``TZID`` start), so a meeting on the end date is included;
- ``ORGANIZER`` the mentor, ``ATTENDEE`` every person (the mentor accepted, the mentee asked to
  answer; in a group circle also the co-mentor and the other mentees);
- ``LOCATION`` the place (or the link when there is no place), ``URL`` the meeting link.

What the pair writes to each other — check-in notes, goals, next steps — never goes in: the
input (:class:`MeetingSeries`) has no field for it, and the description is made here from the
cadence and the dates only.

Every bad input is a :class:`plugin.access.Refusal` 400 with a message that says what to fix.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress
from icalendar.prop import vText

from plugin.access import Refusal

PRODID = "-//Learning Commons//Mentoring//EN"
MEDIA_TYPE = "text/calendar; method=REQUEST; charset=utf-8"
MAX_TITLE_CHARS = 200
MAX_NAME_CHARS = 255
MAX_PLACE_CHARS = 500
MAX_LINK_CHARS = 1000
MAX_DURATION_MINUTES = 24 * 60
MAX_CADENCE_DAYS = 366
MAX_YEARS = 10  # an end date more than 10 x 365 days after the start is refused

_EMAIL = re.compile(r"[^@\s<>\"(),;:\\\[\]]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")
_DOMAIN = re.compile(r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9-]+)*")
_LINK = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)


@dataclass(frozen=True)
class Person:
    """One side of the pair as the invite names them."""

    name: str
    email: str


@dataclass(frozen=True)
class MeetingSeries:
    """A pair's meetings: what the agreement says about them. ``start_date``/``start_time`` are
    wall-clock values in ``time_zone`` (an IANA name such as ``Europe/Berlin``); ``end_date`` is
    the last day a meeting may fall on. ``place`` is where they meet (may be several lines),
    ``link`` the online meeting's address (http or https); at least one of them. ``uid_domain``
    is the tool's host name (stable: it is part of the UID). ``sequence`` counts updates."""

    pair_id: int
    title: str
    mentor: Person
    mentee: Person
    start_date: date
    start_time: time
    time_zone: str
    duration_minutes: int
    cadence_days: int
    end_date: date
    uid_domain: str
    place: str | None = None
    link: str | None = None
    sequence: int = 0
    # a group circle's other current members: a second mentor, the other mentees
    co_mentors: tuple[Person, ...] = ()
    other_mentees: tuple[Person, ...] = ()


def _bad(message: str) -> Refusal:
    return Refusal(400, message, title="This invite cannot be made")


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; 400 for anything else (including paths and ``localtime``)."""
    if not isinstance(name, str) or name not in _zone_names():
        raise _bad(
            f"{str(name)[:60]!r} is not a known time zone: use a name such as Europe/Berlin."
        )
    return ZoneInfo(name)


def _line(value: object, what: str, limit: int, *, required: bool = True) -> str:
    """One line of text: whitespace (new lines too) collapsed to single spaces."""
    if value is None:
        value = ""
    if not isinstance(value, str) or "\x00" in value:
        raise _bad(f"The {what} must be text.")
    text = " ".join(value.split())
    if required and not text:
        raise _bad(f"The {what} is missing.")
    if len(text) > limit:
        raise _bad(f"The {what} must be at most {limit} characters.")
    return text


def _whole(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"The {what} must be a whole number.")
    if not low <= value <= high:
        raise _bad(f"The {what} must be from {low} to {high}.")
    return value


def _person(person: Person, who: str) -> tuple[str, str]:
    name = _line(person.name, f"{who}'s name", MAX_NAME_CHARS)
    email = person.email.strip() if isinstance(person.email, str) else ""
    if not _EMAIL.fullmatch(email):
        raise _bad(f"The {who}'s e-mail address is not valid.")
    return name, email


def _place(value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or "\x00" in value:
        raise _bad("The place must be text.")
    lines = [" ".join(line.split()) for line in value.strip().splitlines()]
    text = "\n".join(line for line in lines if line)
    if len(text) > MAX_PLACE_CHARS:
        raise _bad(f"The place must be at most {MAX_PLACE_CHARS} characters.")
    return text or None


def _link(value: str | None) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    link = value.strip() if isinstance(value, str) else ""
    if len(link) > MAX_LINK_CHARS or not _LINK.fullmatch(link):
        raise _bad("The meeting link must be a web address starting with https:// or http://.")
    return link


def _start(series: MeetingSeries, zone: ZoneInfo) -> datetime:
    if not isinstance(series.start_date, date) or isinstance(series.start_date, datetime):
        raise _bad("The start date must be a date.")
    if not isinstance(series.start_time, time) or series.start_time.tzinfo is not None:
        raise _bad("The start time must be a time of day without a time zone.")
    if not isinstance(series.end_date, date) or isinstance(series.end_date, datetime):
        raise _bad("The end date must be a date.")
    start = datetime.combine(series.start_date, series.start_time.replace(microsecond=0), zone)
    if start.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != start.replace(tzinfo=None):
        raise _bad(
            f"{series.start_time:%H:%M} does not exist on {series.start_date:%d %B %Y} in "
            f"{series.time_zone} (the clocks change): choose another time."
        )
    return start


def _every(days: int) -> str:
    if days == 1:
        return "every day"
    if days % 7 == 0:
        weeks = days // 7
        return "every week" if weeks == 1 else f"every {weeks} weeks"
    return f"every {days} days"


def recurrence(cadence_days: int, until: datetime) -> dict[str, object]:
    """The ``RRULE`` for a cadence in days (see the module's doc for the choice of frequency)."""
    if cadence_days % 7 == 0:
        return {"FREQ": "WEEKLY", "INTERVAL": cadence_days // 7, "UNTIL": until}
    return {"FREQ": "DAILY", "INTERVAL": cadence_days, "UNTIL": until}


def uid(pair_id: int, uid_domain: str) -> str:
    """The series' stable UID: the same for every version of the pair's invite."""
    return f"mentoring-pair-{pair_id}@{uid_domain}"


def filename(pair_id: int) -> str:
    """The name the ``.ics`` download gets."""
    return f"mentoring-pair-{pair_id}.ics"


def invite(series: MeetingSeries, *, stamp: datetime | None = None) -> bytes:
    """The invite for the pair's meetings as the bytes of an ``.ics`` file. ``stamp`` is
    ``DTSTAMP`` (when the invite was made; now by default). 400 :class:`Refusal` for bad input:
    an unknown time zone, a cadence under 1 day, an end before the start, a start time the
    clocks skip, a bad e-mail address or link, neither place nor link."""
    pair_id = _whole(series.pair_id, "pair id", 1, 2**31 - 1)
    title = _line(series.title, "title", MAX_TITLE_CHARS)
    mentor_name, mentor_email = _person(series.mentor, "mentor")
    mentee_name, mentee_email = _person(series.mentee, "mentee")
    co_mentors = [_person(p, "co-mentor") for p in series.co_mentors]
    other_mentees = [_person(p, "mentee") for p in series.other_mentees]
    zone = time_zone(series.time_zone)
    duration = _whole(series.duration_minutes, "meeting length in minutes", 1, MAX_DURATION_MINUTES)
    cadence = _whole(series.cadence_days, "cadence in days", 1, MAX_CADENCE_DAYS)
    sequence = _whole(series.sequence, "sequence", 0, 2**31 - 1)
    domain = series.uid_domain if isinstance(series.uid_domain, str) else ""
    if not _DOMAIN.fullmatch(domain):
        raise _bad("The UID domain must be a host name such as commons.example.edu.")
    place, link = _place(series.place), _link(series.link)
    if place is None and link is None:
        raise _bad("Say where the pair meets: a place, a meeting link, or both.")
    start = _start(series, zone)
    if series.end_date < series.start_date:
        raise _bad(
            "The end date is before the start date: the last meeting must come after the first."
        )
    if (series.end_date - series.start_date).days > MAX_YEARS * 365:
        raise _bad(f"The end date must be within {MAX_YEARS} years of the start.")
    # The end of the end date, in the pair's zone, as UTC.
    until = datetime.combine(series.end_date, time(23, 59, 59), zone).astimezone(UTC)

    event = Event()
    event.add("uid", uid(pair_id, domain))
    event.add("dtstamp", (stamp or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0))
    event.add("sequence", sequence)
    event.add("summary", title)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=duration))
    event.add("rrule", recurrence(cadence, until))
    event.add(
        "description",
        f"Mentoring meetings of {_together([mentor_name, *(n for n, _ in co_mentors), mentee_name, *(n for n, _ in other_mentees)])}: {_every(cadence)}, "
        f"{duration} minutes, until {series.end_date:%d %B %Y}."
        + (f"\nJoin: {link}" if link else ""),
    )
    event.add("location", place or link)
    if link:
        event.add("url", link)
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _address(mentor_email, mentor_name))
    event.add(
        "attendee",
        _address(mentor_email, mentor_name, ROLE="CHAIR", PARTSTAT="ACCEPTED"),
    )
    event.add(
        "attendee",
        _address(
            mentee_email, mentee_name, ROLE="REQ-PARTICIPANT", PARTSTAT="NEEDS-ACTION", RSVP="TRUE"
        ),
    )
    for name, email in co_mentors:
        event.add(
            "attendee",
            _address(email, name, ROLE="CHAIR", PARTSTAT="NEEDS-ACTION", RSVP="TRUE"),
        )
    for name, email in other_mentees:
        event.add(
            "attendee",
            _address(email, name, ROLE="REQ-PARTICIPANT", PARTSTAT="NEEDS-ACTION", RSVP="TRUE"),
        )

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "REQUEST")
    calendar.add_component(event)
    calendar.add_missing_timezones(
        first_date=series.start_date, last_date=series.end_date + timedelta(days=2)
    )
    return calendar.to_ical()


def _together(names: list[str]) -> str:
    """``A and B``, ``A, B and C``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _address(email: str, name: str, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = vText(name)
    for key, value in params.items():
        address.params[key] = value
    return address
