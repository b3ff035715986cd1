"""Platform services when platforms misbehave, with real sandbox platforms: a cached access token
the platform rejects is fetched again once; one unreachable platform (its URLs on a closed port)
never stops the other tenants in ``commons roster sync``, ``commons boards grades`` or the worker's
jobs - each reports a summary without stack traces or URLs and exits 1 at the end."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import func, select, update

from plugin.db import new_session
from plugin.jobs import DONE, QUEUED, Job
from plugin.lti import advantage
from plugin.lti.models import AccessTokenCache, Context, Membership, Placement, Platform, User
from sandbox.platform.demo import DEMO_COURSE_ID
from tests.conftest import CLIENT_ID
from tests.support.browser import Browser
from tests.support.lti import cli, launch

OTHER_CLIENT = "other-client"


def closed_port_url() -> str:
    """A loopback address nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/gone"


def cached_tokens(app) -> dict[str, str]:
    with new_session(app) as s:
        return {r.scope_key: r.access_token for r in s.scalars(select(AccessTokenCache))}


# --- item 7: a rejected cached token -------------------------------------------------------------
def test_a_cached_token_the_platform_rejects_is_dropped_and_fetched_again_once(app, lms) -> None:
    launch(Browser(), lms, "u-ines", resource_link=lms.placement().resource_link_id)
    with new_session(app) as s:
        ctx = s.scalars(select(Context)).one()
        advantage.sync_roster(s, ctx)
        s.commit()
    before = cached_tokens(app)
    assert before and lms.platform.live_access_tokens(CLIENT_ID) == len(before)
    # the platform restarts (or an administrator revokes the tool's tokens): the cache is stale
    assert lms.platform.revoke_access_tokens(CLIENT_ID) == len(before)
    with new_session(app) as s:
        ctx = s.scalars(select(Context)).one()
        counts = advantage.sync_roster(s, ctx)  # 401 → new token → the same call again
        s.commit()
    assert counts["members"] == len(lms.platform.people(DEMO_COURSE_ID))
    after = cached_tokens(app)
    assert set(after) == set(before) and not set(after.values()) & set(before.values())
    assert lms.platform.live_access_tokens(CLIENT_ID) == len(after)
    # the grade book too (AGS): its cached token is refreshed the same way
    with new_session(app) as s:
        placement = s.scalars(select(Placement)).one()
        user = s.scalars(select(User).where(User.sub == "u-lea")).one()
        advantage.post_score(s, placement, user, score_given=1, score_maximum=2)
        s.commit()
    lms.platform.revoke_access_tokens(CLIENT_ID)
    with new_session(app) as s:
        placement = s.scalars(select(Placement)).one()
        user = s.scalars(select(User).where(User.sub == "u-lea")).one()
        advantage.post_score(s, placement, user, score_given=2, score_maximum=2)
        s.commit()
    (*_, last) = lms.platform.received_scores(DEMO_COURSE_ID, user_id="u-lea")
    assert last.score_given == 2


def test_a_token_refused_by_the_platform_is_not_retried_forever(app, lms) -> None:
    """A token fetched just now and refused is an error (once), not a loop."""
    launch(Browser(), lms, "u-ines", resource_link=lms.placement().resource_link_id)
    with new_session(app) as s:
        ctx = s.scalars(select(Context)).one()
        advantage.sync_roster(s, ctx)
        s.commit()
    # an administrator suspends the tool: its tokens go, and new ones are refused (401)
    lms.platform.revoke_access_tokens(CLIENT_ID)
    lms.platform.suspend_tool(CLIENT_ID)
    with new_session(app) as s:
        ctx = s.scalars(select(Context)).one()
        with pytest.raises(advantage.ServiceError) as refused:
            advantage.sync_roster(s, ctx)
        s.rollback()
    assert "HTTP 401" in str(refused.value) and lms.issuer not in str(refused.value)
    assert lms.platform.live_access_tokens(CLIENT_ID) == 0
    lms.platform.suspend_tool(CLIENT_ID, suspended=False)
    with new_session(app) as s:  # back in service: the next call fetches a token again
        advantage.sync_roster(s, s.scalars(select(Context)).one())
        s.commit()


# --- item 8: one unreachable platform never stops the others ------------------------------------
class Tenants:
    """Two platforms with a graded board each, staff and a learner launched; ``down``'s every
    URL (keys, token, NRPS, AGS) then points at a closed port."""

    def __init__(self, app, lms_factory) -> None:
        # the unreachable one first: a run that stopped at it would never reach the other
        self.down = lms_factory(name="Down LMS", client_id=OTHER_CLIENT)
        self.up = lms_factory(name="Up LMS")
        self.boards: dict[str, int] = {}
        for name, lms, client in (("down", self.down, OTHER_CLIENT), ("up", self.up, CLIENT_ID)):
            link = lms.platform.add_resource_link(
                DEMO_COURSE_ID,
                client,
                "Graded talk",
                custom={"widget": "board", "setting_grade_threads": "1"},
            )
            for user in ("u-ines", "u-lea"):
                page = launch(
                    Browser(), lms, user, client_id=client, resource_link=link.resource_link_id
                )
                assert page.status_code == 200, page.text[:300]
            with new_session(app) as s:
                from plugin.social.models import Board

                platform_id = s.scalars(
                    select(Platform.id).where(Platform.issuer == lms.issuer)
                ).one()
                self.boards[name] = s.scalars(
                    select(Board.id)
                    .join(Context, Context.id == Board.context_id)
                    .where(Context.platform_id == platform_id)
                ).one()
        self.gone = closed_port_url()
        issuer = self.down.issuer
        with new_session(app) as s:
            platform = s.scalars(select(Platform).where(Platform.issuer == issuer)).one()
            for column in ("auth_login_url", "auth_token_url", "key_set_url"):
                setattr(platform, column, getattr(platform, column).replace(issuer, self.gone))
            s.execute(
                update(Context)
                .where(Context.platform_id == platform.id)
                .values(
                    nrps_url=func.replace(Context.nrps_url, issuer, self.gone),
                    groups_url=func.replace(Context.groups_url, issuer, self.gone),
                    group_sets_url=func.replace(Context.group_sets_url, issuer, self.gone),
                    ags_lineitems_url=func.replace(Context.ags_lineitems_url, issuer, self.gone),
                )
            )
            s.commit()
            self.down_id, self.up_id = (
                platform.id,
                s.scalars(select(Platform.id).where(Platform.issuer == self.up.issuer)).one(),
            )

    def members(self, app, platform_id: int) -> int:
        with new_session(app) as s:
            return len(
                s.scalars(
                    select(Membership.id)
                    .join(Context, Context.id == Membership.context_id)
                    .where(Context.platform_id == platform_id)
                ).all()
            )


def _clean(output: str, tenants: Tenants) -> None:
    assert "Traceback" not in output
    assert tenants.gone not in output and "127.0.0.1" not in output  # no URLs
    assert "Bearer" not in output and "access_token" not in output


def test_roster_sync_command_goes_on_past_an_unreachable_platform(app, lms_factory) -> None:
    t = Tenants(app, lms_factory)
    assert t.members(app, t.up_id) == 2  # Ines and Lea launched
    result = cli(app, "roster", "sync")
    assert result.exit_code == 1, result.output
    _clean(result.output, t)
    assert "Rosters: 1 synced, 1 failed." in result.output
    lines = result.output.splitlines()
    (ok,) = [line for line in lines if f"platform {t.up_id} " in line]
    assert "9 members" in ok and not ok.startswith("FAILED")
    (failed,) = [line for line in lines if f"platform {t.down_id} " in line]
    assert failed.startswith("FAILED course")
    assert "could not be reached" in failed
    assert t.members(app, t.up_id) == len(t.up.platform.people(DEMO_COURSE_ID)) == 9
    assert t.members(app, t.down_id) == 2  # unchanged


def test_boards_grades_command_goes_on_past_an_unreachable_platform(app, lms_factory) -> None:
    t = Tenants(app, lms_factory)
    result = cli(app, "boards", "grades", "--all")
    assert result.exit_code == 1, result.output
    _clean(result.output, t)
    assert "Boards: 1 sent, 1 with grades not sent." in result.output
    assert f"FAILED board {t.boards['down']}" in result.output
    assert "could not be reached" in result.output
    assert "Lea Learner: 0/100 sent" in result.output
    assert [s.user_id for s in t.up.platform.received_scores(DEMO_COURSE_ID)] == ["u-lea"]
    # named boards, the unreachable one first: the same
    again = cli(app, "boards", "grades", str(t.boards["down"]), str(t.boards["up"]))
    assert again.exit_code == 1 and "Boards: 1 sent, 1 with grades not sent." in again.output
    assert cli(app, "boards", "grades").exit_code == 2  # usage


def test_worker_jobs_go_on_past_an_unreachable_platform(app, lms_factory) -> None:
    t = Tenants(app, lms_factory)
    with new_session(app) as s:
        queued = s.scalars(select(Job).where(Job.kind == "lti.roster_sync")).all()
        assert {j.payload["platform_id"] for j in queued} == {t.down_id, t.up_id}
        assert {j.state for j in queued} == {QUEUED}
    result = cli(app, "worker", "--once")
    assert result.exit_code == 1, result.output
    _clean(result.output, t)
    assert "1 to retry" in result.output and "could not be reached" in result.output
    with new_session(app) as s:
        jobs = {
            j.payload["platform_id"]: j
            for j in s.scalars(select(Job))
            if j.kind == "lti.roster_sync"
        }
        assert jobs[t.up_id].state == DONE
        failed = jobs[t.down_id]
        assert failed.state == QUEUED and failed.attempts == 1
        assert "could not be reached" in failed.last_error and t.gone not in failed.last_error
        kinds = {j.kind for j in s.scalars(select(Job).where(Job.state == DONE))}
        assert {"lti.purge", "jobs.cleanup"} <= kinds  # the periodic tasks ran too
    assert t.members(app, t.up_id) == len(t.up.platform.people(DEMO_COURSE_ID))
