"""A whole load run through real servers and a real Locust process, on the suite's database
kind (SQLite, or PostgreSQL when TEST_DATABASE_URL is set); then the same portal tampered with,
and the audit must name what was lost, doubled and changed."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.core.config import Settings
from loadtest.drive.processes import drive, started_servers
from loadtest.drive.run import RunOptions, prepare
from loadtest.judge.audit import Procedure, audit_portal
from loadtest.model.workload import DEFAULT_WORKLOAD, load_workload
from loadtest.model.world import generated_catalogue
from loadtest.results_model import load_results, to_json
from tests.loadtest.judge.results_data import CURRENT, key_structure, stored

SECONDS = 30
SPEED = 2400.0
# The scale these runs were built for (enough returned dossiers to tamper with two), whatever
# the default scale.
SCALE = 0.012


def _sync_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername.startswith("postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _tamper(database_url: str, lost: str, changed: str) -> None:
    """Rename one dossier (its code vanishes, an unknown one appears) and move another back."""
    engine = create_engine(_sync_url(database_url))
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE dossiers SET code = code || 'X' WHERE code = :code"), {"code": lost}
        )
        connection.execute(
            text("UPDATE dossiers SET status = 4 WHERE code = :code"), {"code": changed}
        )
    engine.dispose()


def _scenario(database_url: str, out: Path) -> None:
    workload = load_workload(DEFAULT_WORKLOAD)
    options = RunOptions(
        duration=f"{SECONDS}s",
        speed=SPEED,
        scale=SCALE,
        seed=5,
        out=out,
        run_id="e2e",
        database_url=database_url,
    )
    folder = out / "e2e"
    folder.mkdir(parents=True)
    said: list[str] = []
    planned = prepare(options)  # as `portalsim run`: before the servers start
    with started_servers(workload, SPEED, folder, database_url) as servers:
        env = {**os.environ, **servers.environment}
        code = drive(
            planned,
            servers.portal,
            env,
            said.append,
            processes=options.processes,
            gateway=servers.gateway,
            portal_pid=servers.portal_pid,
            fresh_portal=options.database_url is None,
        )
        assert code == 0, "\n".join(said)
        assert said[-1] == "OK: valid run, audit passed"
        results: dict[str, Any] = json.loads((folder / "results.json").read_text())
        ledger: dict[str, dict[str, Any]] = json.loads((folder / "ledger.json").read_text())

        assert results["schema"] == "portalsim.results/1"
        # The format written before it had a type: the same keys in the same order, and the
        # model writes the file back byte for byte.
        assert key_structure(results) == key_structure(stored(CURRENT))
        written = (folder / "results.json").read_text()
        assert to_json(load_results(folder / "results.json")) == written
        assert results["run"]["valid"] is True
        assert results["run"]["speed"] == SPEED
        # The reviewers' files sit beside results.json; the portal's memory was sampled.
        assert (folder / "report.html").read_text().startswith("<!doctype html>")
        assert "portalsim run `e2e`" in (folder / "report.md").read_text()
        assert results["memory"]["sampled"] is True
        assert all(mib > 10 for _, mib in results["memory"]["series_mib"])
        submits = results["requests"]["POST /api/v1/dossiers"]
        assert submits["count"] > 0
        assert submits["failures"] == 0
        assert submits["latency_ms"]["p50"] <= submits["latency_ms"]["p999"]
        online = [r for r in ledger.values() if r["channel"] == 2]
        assert results["business"]["submitted"] == len(ledger) > len(online) > 0
        assert results["business"]["finished"] > 0
        assert results["audit"]["ok"]
        assert results["audit"]["checked"] >= len(online)
        assert results["sync"]["accepted"] > 0
        assert results["sync"]["refused"] == 0
        assert results["arrivals"]["started"] > 0
        assert results["timeseries"]

        returned = sorted(c for c, r in ledger.items() if r["status"] == 10 and r["channel"] == 2)
        lost, changed = returned[0], returned[1]
        _tamper(database_url, lost, changed)
        procedures = generated_catalogue(0, 3).procedures
        report = audit_portal(
            servers.portal,
            ledger,
            agencies=sorted({r["agency"] for r in ledger.values()}),
            procedures={
                p.code: Procedure(p.processing_time, p.processing_unit) for p in procedures
            },
            since=datetime.fromisoformat(results["run"]["simulated_from"]).astimezone(UTC),
            settings=Settings(),  # the servers inherit this environment's SECRET_KEY and calendar
        )
    assert not report.ok
    assert report.lost == [lost]
    assert report.duplicated == [f"{lost}X"]
    assert [m.split(":")[0] for m in report.mismatched] == [changed]
    assert "status 4, the harness drove it to 10" in report.mismatched[0]


async def test_a_short_run_is_valid_and_its_audit_catches_a_tampered_portal(
    scratch_settings: Settings, tmp_path: Path
) -> None:
    await asyncio.to_thread(_scenario, scratch_settings.database_url, tmp_path)


def _counts(out: Path, processes: int) -> dict[str, int]:
    workload = load_workload(DEFAULT_WORKLOAD)
    run_id = f"p{processes}"
    folder = out / run_id
    folder.mkdir(parents=True)
    options = RunOptions(
        duration="20s",
        speed=SPEED,
        scale=SCALE,
        seed=9,
        out=out,
        run_id=run_id,
        processes=processes,
    )
    said: list[str] = []
    planned = prepare(options)  # as `portalsim run`: before the servers start
    with started_servers(workload, SPEED, folder, None) as servers:
        env = {**os.environ, **servers.environment}
        assert (
            drive(
                planned,
                servers.portal,
                env,
                said.append,
                processes=options.processes,
                gateway=servers.gateway,
            )
            == 0
        ), "\n".join(said)
    results = json.loads((folder / "results.json").read_text())
    ledger = json.loads((folder / "ledger.json").read_text())
    requests = results["requests"]
    return {
        "workers": results["run"]["workers"],
        "online": sum(1 for r in ledger.values() if r["channel"] == 2),
        "counter": sum(1 for r in ledger.values() if r["channel"] == 1),
        "visits": requests["GET /api/v1/procedures?q"]["count"],
        "inbox": requests["GET /api/v1/agency/dossiers"]["count"],
    }


@pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")),
    reason="how Locust processes split a schedule does not depend on the target's database: "
    "run once, in the SQLite pass (its servers use SQLite files in any case)",
)
def test_two_processes_give_the_totals_of_one(tmp_path: Path) -> None:
    """The schedule belongs to the agencies, not to the workers: the same seed gives the same
    arrivals whether one Locust process or a master and two workers run it."""
    one, two = _counts(tmp_path, 1), _counts(tmp_path, 2)
    assert (one.pop("workers"), two.pop("workers")) == (1, 2)
    assert one == two
    assert one["online"] > 0
