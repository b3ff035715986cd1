"""The ``competencies`` command group and the 0003 migration on its own."""

from __future__ import annotations

import json

from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import create_engine, inspect

from plugin.migrate import downgrade, upgrade
from plugin.performance.cli import competencies
from tests.data_files import CASE_DIR, data_path
from tests.performance.perf_world import MOODLE_CSV, case_data, make_tenant

PERF_TABLES = {
    "perf_scale",
    "perf_scale_level",
    "perf_framework",
    "perf_competency",
    "perf_competency_link",
    "perf_evidence",
}


def test_cli_import_list_and_show(app) -> None:
    case_data("opensalt-SmartLevelFramework.json")  # skips when the CASE data is absent
    tenant = make_tenant(app)
    runner = CliRunner()
    info = ScriptInfo(create_app=lambda: app)
    pid = str(tenant.platform_id)

    done = runner.invoke(
        competencies, ["import", "--platform-id", pid, "--file", str(MOODLE_CSV)], obj=info
    )
    assert done.exit_code == 0, done.output
    assert "Imported framework" in done.output and "64 competencies (64 new" in done.output
    smart = data_path(CASE_DIR / "opensalt-SmartLevelFramework.json")
    done = runner.invoke(
        competencies, ["import", "--platform-id", pid, "--file", str(smart)], obj=info
    )
    assert done.exit_code == 0 and "“SmartLevel Test”: 14 competencies" in done.output

    listed = json.loads(
        runner.invoke(competencies, ["list", "--platform-id", pid, "--json"], obj=info).output
    )
    assert [(f["title"], f["competencies"]) for f in listed] == [
        ("OECD", 64),
        ("SmartLevel Test", 14),
    ]
    shown = runner.invoke(
        competencies, ["show", "--platform-id", pid, str(listed[1]["id"])], obj=info
    )
    assert shown.exit_code == 0
    assert "\n  Item 1\n    Item 1.1\n" in shown.output

    bad = runner.invoke(
        competencies, ["import", "--platform-id", pid, "--url", "ftp://x/y"], obj=info
    )
    assert bad.exit_code != 0 and "absolute http(s) URL" in bad.output
    both = runner.invoke(competencies, ["import", "--platform-id", pid], obj=info)
    assert both.exit_code != 0 and "either --file or --url" in both.output
    hidden = runner.invoke(competencies, ["show", "--platform-id", "999", "1"], obj=info)
    assert hidden.exit_code != 0 and "No framework 1 on platform 999" in hidden.output


def test_migration_down_and_up(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    engine = create_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) >= PERF_TABLES
        downgrade(url, "0001")
        assert not PERF_TABLES & set(inspect(engine).get_table_names())
        upgrade(url)
        tables = inspect(engine)
        assert set(tables.get_table_names()) >= PERF_TABLES
        uniques = {u["name"] for u in tables.get_unique_constraints("perf_competency_link")}
        assert uniques == {"uq_perf_competency_link"}
    finally:
        engine.dispose()
