"""Short real runs about what the harness counts as the target's failure: every kind of request
every actor sends is answered as the portal documents it (no false failures), and a portal
killed in the middle of a run gives a run that still writes what it measured and says, in its
exit code and last line, that the portal stopped answering and when."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from app.core.config import Settings
from loadtest.drive.processes import drive, started_servers
from loadtest.drive.requests import REQUESTS
from loadtest.drive.run import RunOptions, prepare
from loadtest.judge.results import EXIT_TARGET
from loadtest.model.workload import DEFAULT_WORKLOAD, load_workload

SPEED = 2400.0
# Enough dossiers that some are returned (and rated) within the run, whatever the default scale.
EVERY_STEP_SCALE = 0.02
# The rarer steps of a dossier's life made common, so that a short run sends every kind of
# request: withdrawals, supplements, ratings and complaints.
COMMON = {
    "withdraw_probability": 0.3,
    "rating_probability": 0.9,
    "complaint_probability": 0.6,
    "supplement_at_intake": 0.25,
}


def _workload_with_every_step(folder: Path) -> Path:
    text = DEFAULT_WORKLOAD.read_text(encoding="utf-8")
    for key, value in COMMON.items():
        text, found = re.subn(rf"(?m)^{key} = [0-9.]+", f"{key} = {value}", text)
        assert found == 1, key
    path = folder / "every-step.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _run(
    folder: Path, options: RunOptions, *, kill_after: float | None = None
) -> tuple[int, list[str]]:
    """A run on servers of its own (like `portalsim run`) into `folder`; with `kill_after`, the
    portal is killed that many seconds after Locust has started every user."""
    options = dataclasses.replace(options, out=folder.parent, run_id=folder.name)
    workload = load_workload(options.workload)
    folder.mkdir(parents=True)
    said: list[str] = []
    planned = prepare(options)  # as `portalsim run`: before the servers start
    with started_servers(workload, SPEED, folder, options.database_url) as servers:
        if kill_after is not None:
            killer = threading.Thread(
                target=_kill_when_running, args=(folder / "locust.log", servers.portal_pid)
            )
            killer.start()
        code = drive(
            planned,
            servers.portal,
            {**os.environ, **servers.environment},
            said.append,
            processes=options.processes,
            gateway=servers.gateway,
            portal_pid=servers.portal_pid,
            portal_exit=servers.portal_exit,
            fresh_portal=options.database_url is None,
        )
    if kill_after is not None:
        killer.join()
    return code, said


def _kill_when_running(log: Path, pid: int, after: float = 8.0) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if log.exists() and "All users spawned" in log.read_text(errors="replace"):
            time.sleep(after)
            # The portal's whole process group: under granian the pid is its supervisor, and
            # its workers would go on serving without it.
            os.killpg(pid, signal.SIGKILL)
            return
        time.sleep(0.5)


def _results(folder: Path) -> dict[str, Any]:
    results: dict[str, Any] = json.loads((folder / "results.json").read_text())
    return results


async def test_every_kind_of_request_of_every_actor_is_answered_as_documented(
    scratch_settings: Settings, tmp_path: Path
) -> None:
    workload = _workload_with_every_step(tmp_path)
    options = RunOptions(
        workload=workload,
        duration="35s",
        speed=SPEED,
        scale=EVERY_STEP_SCALE,
        seed=11,
        out=tmp_path,
        database_url=scratch_settings.database_url,
    )
    _, said = await asyncio.to_thread(_run, tmp_path / "every", options)
    requests = _results(tmp_path / "every")["requests"]
    failed = {name: r["failures"] for name, r in requests.items() if r["failures"]}
    assert not failed, "\n".join(said)
    never = sorted(set(REQUESTS) - {name for name, r in requests.items() if r["count"]})
    assert not never, f"never sent: {never}"
    assert set(requests) <= set(REQUESTS)


@pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")),
    reason="how the harness meets a dead portal does not depend on its database: SQLite pass",
)
def test_a_run_whose_portal_is_killed_writes_what_it_measured_and_says_so(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "killed"
    options = RunOptions(duration="40s", speed=SPEED, seed=5, out=tmp_path)
    code, said = _run(folder, options, kill_after=8.0)
    assert code == EXIT_TARGET, "\n".join(said)
    results = _results(folder)
    target = results["target"]
    assert target["answering"] is False
    at = round(target["stopped_answering_at_s"])
    # The first probe after the kill finds the port closed, or the connection it had dropped.
    assert target["why"] in (
        "connection refused (GET /healthz)",
        "connection dropped (GET /healthz)",
    )
    assert said[-1] == (
        f"FAILED: the portal stopped answering at {at} s: {target['why']}; "
        f"the run ended at {results['run']['real_seconds']:.0f} s with what it measured until "
        "then, the audit was not performed (the portal's process was killed by SIGKILL; see "
        f"{folder / 'portal.log'})"
    )
    # It stopped by itself, well before its 40 s, and kept what it measured until then.
    assert results["run"]["stopped"]["kind"] == "target_down"
    assert results["run"]["real_seconds"] < 40
    assert sum(r["count"] for r in results["requests"].values()) > 0
    assert results["audit"]["performed"] is False
    assert results["audit"]["not_performed"].startswith(f"the portal stopped answering at {at} s")
    assert results["audit"]["ok"] is False
    # The dead portal breaks the default thresholds too; the verdict names the cause first.
    broken = {r["rule"] for r in results["thresholds"]["rules"] if r["status"] == "broken"}
    assert "target.longest_silence_s < 3" in broken
    assert (folder / "ledger.json").exists()
    assert "Audit not performed" in (folder / "report.html").read_text()
    assert f"the portal stopped answering at {at} s" in (folder / "report.md").read_text()
