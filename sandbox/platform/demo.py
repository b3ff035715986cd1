"""The demo course every sandbox starts from: "Leadership Foundations" with an instructor, a learner,
five classmates, a teaching assistant and a mentor of the learner, in two cohorts."""

from __future__ import annotations

from sandbox.platform.course import CourseModel
from sandbox.platform.vocabulary import (
    ROLE_INSTITUTION_FACULTY,
    ROLE_INSTITUTION_MENTOR,
    ROLE_INSTITUTION_STUDENT,
    ROLE_INSTRUCTOR,
    ROLE_LEARNER,
    ROLE_MENTOR,
    ROLE_TEACHING_ASSISTANT,
)

DEMO_COURSE_ID = "leadership-foundations"
DEMO_INSTRUCTOR_ID = "u-ines"
DEMO_LEARNER_ID = "u-lea"
DEMO_TA_ID = "u-tomas"
DEMO_MENTOR_ID = "u-grace"


def seed_demo_course(platform: CourseModel) -> None:
    """Add the demo course to ``platform``.

    People: Ines Instructor (``u-ines``), Lea Learner (``u-lea``), five classmates,
    a teaching assistant (``u-tomas``) and a mentor of Lea (``u-grace``).  Groups
    "Cohort A" and "Cohort B" in the group set "Cohorts".
    """
    ctx = DEMO_COURSE_ID
    platform.add_course(ctx, "LEAD-101", "Leadership Foundations")
    learner_roles = [ROLE_LEARNER, ROLE_INSTITUTION_STUDENT]
    people: list[tuple[str, str, str, str, list[str]]] = [
        (
            DEMO_INSTRUCTOR_ID,
            "Ines",
            "Instructor",
            "ines.instructor@example.edu",
            [ROLE_INSTRUCTOR, ROLE_INSTITUTION_FACULTY],
        ),
        (DEMO_LEARNER_ID, "Lea", "Learner", "lea.learner@example.edu", learner_roles),
        ("u-amara", "Amara", "Okafor", "amara.okafor@example.edu", learner_roles),
        ("u-benjamin", "Benjamin", "Hartley", "benjamin.hartley@example.edu", learner_roles),
        ("u-chen", "Chen", "Wei", "chen.wei@example.edu", learner_roles),
        ("u-diego", "Diego", "Ramírez", "diego.ramirez@example.edu", learner_roles),
        ("u-sofia", "Sofia", "Lindqvist", "sofia.lindqvist@example.edu", learner_roles),
        (
            DEMO_TA_ID,
            "Tomás",
            "Alvarez",
            "tomas.alvarez@example.edu",
            # Best practice: a sub-role comes with its principal role.
            [ROLE_INSTRUCTOR, ROLE_TEACHING_ASSISTANT, ROLE_INSTITUTION_STUDENT],
        ),
        (
            DEMO_MENTOR_ID,
            "Grace",
            "Whitfield",
            "grace.whitfield@example.edu",
            [ROLE_MENTOR, ROLE_INSTITUTION_MENTOR],
        ),
    ]
    for user_id, given, family, email, roles in people:
        platform.add_person(user_id, given, family, email)
        mentees = [DEMO_LEARNER_ID] if user_id == DEMO_MENTOR_ID else []
        platform.enroll(user_id, ctx, roles, mentees=mentees)
    platform.add_group_set(ctx, "cohorts", "Cohorts")
    platform.add_group(
        ctx,
        "cohort-a",
        "Cohort A",
        set_id="cohorts",
        members=[DEMO_LEARNER_ID, "u-amara", "u-benjamin"],
    )
    platform.add_group(
        ctx, "cohort-b", "Cohort B", set_id="cohorts", members=["u-chen", "u-diego", "u-sofia"]
    )
