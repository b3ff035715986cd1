"""The staff pages over real HTTP: the frameworks list, importing (by file and by CASE URL), the
tree, refusals, escaping."""

from __future__ import annotations

import copy
import json

from sqlalchemy import select

from plugin.db import new_session
from plugin.performance.models import Framework
from tests.conftest import row_counts
from tests.performance.perf_world import (
    SMART_ID,
    case_data,
    learner_token,
    open_page,
    smart_file,
    staff_token,
)


def test_staff_pages_import_and_show_the_tree(app, tool_server, tenant, case_service) -> None:
    token = staff_token(app, tenant)
    listing = open_page(tool_server, "/competencies/frameworks", token)
    assert listing.status_code == 200
    html = listing.text
    assert "<h1>Competency frameworks</h1>" in html and "No frameworks yet" in html
    assert 'name="lc" value="' in html  # the form's page token (docs/security.md)
    assert (
        '<label for="file">' in html
        and 'id="file"' in html
        and 'enctype="multipart/form-data"' in html
    )
    assert '<label for="url">' in html and 'type="url"' in html

    result = open_page(
        tool_server, "/competencies/frameworks/import", token, files={"file": smart_file()}
    )
    assert result.status_code == 200
    assert "SmartLevel Test was imported" in result.text and "14 competencies" in result.text

    by_url = open_page(
        tool_server,
        "/competencies/frameworks/import",
        token,
        data={"url": f"{case_service.url}/ims/case/v1p0/CFPackages/{SMART_ID}"},
    )
    assert by_url.status_code == 200 and "SmartLevel Test was updated" in by_url.text

    listing = open_page(tool_server, "/competencies/frameworks", token).text
    assert "SmartLevel Test" in listing and "<td>14</td>" in listing
    with new_session(app) as session:
        framework_id = session.scalar(select(Framework.id))
    tree = open_page(tool_server, f"/competencies/frameworks/{framework_id}", token)
    assert tree.status_code == 200
    assert tree.text.count("<details") == 2  # Item 1 and Item 2 have children
    assert "Item 1.10" in tree.text and "in 2 levels" in tree.text
    assert 'aria-controls="tree"' in tree.text and "Proficient" in tree.text


def test_pages_refuse_bad_input_learners_and_other_tenants(app, tool_server, tenant, other) -> None:
    token = staff_token(app, tenant)
    counts = row_counts(app)
    bad = open_page(
        tool_server,
        "/competencies/frameworks/import",
        token,
        files={"file": ("oops.csv", b"a,b,c\n1,2,3\n", "text/csv")},
    )
    assert bad.status_code == 422
    assert 'role="alert"' in bad.text and "neither CASE JSON nor a Moodle" in bad.text
    assert "Nothing was changed" in bad.text
    empty = open_page(tool_server, "/competencies/frameworks/import", token, data={"url": ""})
    assert empty.status_code == 400 and "Upload one file" in empty.text
    assert row_counts(app) == counts

    learner = open_page(tool_server, "/competencies/frameworks", learner_token(app, tenant))
    assert learner.status_code == 403 and "Only course staff" in learner.text

    theirs = open_page(
        tool_server,
        "/competencies/frameworks/import",
        staff_token(app, other),
        files={"file": smart_file()},
    )
    assert theirs.status_code == 200
    with new_session(app) as session:
        their_id = session.scalar(select(Framework.id))
    missing = open_page(tool_server, f"/competencies/frameworks/{their_id}", token)
    assert missing.status_code == 404 and "Framework not found" in missing.text


def test_framework_text_is_escaped(app, tool_server, tenant) -> None:
    data = copy.deepcopy(case_data("opensalt-AdoptedTestFramework.json"))
    data["CFItems"][0]["fullStatement"] = '<script>alert("x")</script> & more'
    data["CFDocument"]["title"] = "<b>Bold</b> title"
    token = staff_token(app, tenant)
    open_page(
        tool_server,
        "/competencies/frameworks/import",
        token,
        files={"file": ("x.json", json.dumps(data).encode(), "application/json")},
    )
    with new_session(app) as session:
        framework_id = session.scalar(select(Framework.id))
    html = open_page(tool_server, f"/competencies/frameworks/{framework_id}", token).text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more" in html
    assert "<script>alert" not in html and "&lt;b&gt;Bold&lt;/b&gt; title" in html
