"""A proposed pair for the mentorship tests: the programme world (:mod:`.programme_world`) with
Lea as a mentee, Leo as a mentor (one place), Lea's request accepted by Leo at ``WHEN``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.social.mentoring import profiles, requests
from plugin.social.mentoring.models import Pair
from tests.social.mentoring.programme_world import World, programme_world

WHEN = datetime(2026, 3, 2, 9, tzinfo=UTC)


@dataclass
class PairWorld:
    world: World
    pair_id: int

    def viewer(self, session: Session, name: str):
        return self.world.viewer(session, name)

    def user_id(self, name: str) -> int:
        return self.world.course.users[name].id


def pair_world(session: Session, **settings: str) -> PairWorld:
    world = programme_world(session, **settings)
    coaching, feedback, _delegating = world.competencies
    for key, user in world.course.users.items():
        user.email = f"{key}@example.org"
    profiles.save_profile(
        session,
        world.viewer(session, "lea"),
        world.programme,
        as_mentor=False,
        as_mentee=True,
        mentee_needs={coaching.id: (1, 3), feedback.id: (0, 2)},
    )
    profiles.save_profile(
        session,
        world.viewer(session, "leo"),
        world.programme,
        as_mentor=True,
        as_mentee=False,
        mentor_levels={coaching.id: 3, feedback.id: 3},
        capacity=1,
        time_zone="Europe/Paris",
        availability=[[1, 18, 20]],
    )
    request = requests.send_request(
        session,
        world.viewer(session, "lea"),
        world.programme,
        {coaching.id: (1, 3), feedback.id: (0, 2)},
        goal="Run better one-to-ones.",
        cadence_days="14",
        mentor_id=world.course.users["leo"].id,
        now=WHEN,
    )
    requests.answer(session, world.viewer(session, "leo"), request.id, accept=True, now=WHEN)
    session.commit()
    pair_id = session.scalar(select(Pair.id).where(Pair.request_id == request.id))
    return PairWorld(world, pair_id)
