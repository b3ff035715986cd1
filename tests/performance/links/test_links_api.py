"""The competency-links API over real HTTP: a board's links read by its course, changed by staff,
other platforms' competencies refused."""

from __future__ import annotations

from plugin.db import new_session
from tests.performance.perf_world import (
    Tenant,
    api_client,
    learner_token,
    moodle_file,
    staff_token,
)


def board_of(app, tenant: Tenant) -> int:
    """The tenant's board, its staff member and learner members of the course."""
    from plugin.lti import roles
    from plugin.lti.models import Membership, Placement
    from plugin.social import boards

    with new_session(app) as session:
        session.add_all(
            [
                Membership(
                    context_id=tenant.context_id, user_id=tenant.staff_id, roles=[roles.INSTRUCTOR]
                ),
                Membership(
                    context_id=tenant.context_id, user_id=tenant.learner_id, roles=[roles.LEARNER]
                ),
            ]
        )
        board = boards.board_for_placement(session, session.get(Placement, tenant.placement_id))
        session.commit()
        return board.id


def test_api_links(app, tool_server, tenant, other) -> None:
    staff = api_client(tool_server, staff_token(app, tenant))
    staff("POST", "/frameworks/import", files={"file": moodle_file()})
    ids = {
        c["name"]: c["id"]
        for c in staff("GET", "/competencies/search", params={"q": "e", "limit": 100}).json()
    }
    first, second = sorted(ids.values())[:2]
    other_staff = api_client(tool_server, staff_token(app, other))
    theirs = other_staff("POST", "/frameworks/import", files={"file": moodle_file()}).json()
    board, their_board = board_of(app, tenant), board_of(app, other)
    path = f"/links/board/{board}"

    put = staff("PUT", path, json={"competency_ids": [second, first]})
    assert put.status_code == 200, put.text
    assert [c["id"] for c in put.json()["competencies"]] == [second, first]
    got = staff("GET", path).json()
    assert got["ref_kind"] == "board" and got["ref_key"] == str(board)
    assert [c["id"] for c in got["competencies"]] == [second, first]

    learner = api_client(tool_server, learner_token(app, tenant))
    assert learner("GET", path).status_code == 200  # reading is for the course's members
    refused = learner("PUT", path, json={"competency_ids": []})
    assert refused.status_code == 403 and "staff" in refused.json()["message"]

    their_item = other_staff("GET", f"/frameworks/{theirs['framework_id']}/competencies").json()[
        "items"
    ][0]
    cross = staff("PUT", path, json={"competency_ids": [their_item["id"]]})
    assert cross.status_code == 404 and "competency" in cross.json()["message"]
    assert staff("PUT", "/links/Board!/7", json={"competency_ids": []}).status_code == 404
    bad = staff("PUT", path, json={"competency_ids": ["x"]})
    assert bad.status_code == 422 and bad.json()["errors"] == {
        "json": {"competency_ids": {"0": ["Not a valid integer."]}}
    }
    assert [c["id"] for c in staff("GET", path).json()["competencies"]] == [second, first]
    # The other tenant's board is not this tenant's, whatever its id.
    assert other_staff("GET", path).status_code == 404
    assert staff("GET", f"/links/board/{their_board}").status_code == 404

    cleared = staff("PUT", path, json={"competency_ids": []})
    assert cleared.json()["competencies"] == []
