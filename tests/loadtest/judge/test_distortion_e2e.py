"""A short run of issue 20's M/M/c case through real servers and a real Locust process, on the
suite's database kind: every output states what the back office's chain added beside the
deadline, and a run held to a budget no machine meets is invalid, says why and exits 3."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import time
from pathlib import Path
from typing import Any

from app.core.calendar import WorkingCalendar
from app.core.config import Settings
from loadtest.drive.processes import PROJECT_ROOT, drive, started_servers
from loadtest.drive.run import RunOptions, prepare
from loadtest.judge.audit import instant
from loadtest.judge.distortion import chain_line, working_minutes
from loadtest.judge.results import EXIT_INVALID
from loadtest.model.workload import load_workload
from loadtest.results_model import Chain

SECONDS = 40
WORKLOAD = PROJECT_ROOT / "loadtest/workloads/mmc-rho075-8h.toml"


def _scenario(database_url: str, out: Path) -> None:
    # The case held to a budget of 0: any simulated time the chain adds breaks it.
    text = WORKLOAD.read_text(encoding="utf-8").replace(
        "warmup_share = 0.1", "warmup_share = 0.1\nchain_budget_share = 0"
    )
    workload_file = out / "mmc-no-budget.toml"
    workload_file.write_text(text, encoding="utf-8")
    workload = load_workload(workload_file)
    assert workload.run.chain_budget_share == 0
    speed = workload.run.speed
    options = RunOptions(
        workload=workload_file,
        duration=f"{SECONDS}s",
        seed=3,
        out=out,
        run_id="chain",
        database_url=database_url,
    )
    folder = out / "chain"
    folder.mkdir(parents=True)
    said: list[str] = []
    planned = prepare(options)  # as `portalsim run`: before the servers start
    with started_servers(workload, speed, folder, database_url) as servers:
        env = {**os.environ, **servers.environment}
        code = drive(
            planned,
            servers.portal,
            env,
            said.append,
            processes=options.processes,
            gateway=servers.gateway,
        )
    results: dict[str, Any] = json.loads((folder / "results.json").read_text())
    chain = results["chain"]
    ledger: dict[str, dict[str, Any]] = json.loads((folder / "ledger.json").read_text())

    # Every decided dossier carries the instants the workload meant beside the portal's.
    decided = [r for r in ledger.values() if r["finish_intended"]]
    assert decided
    # Each is meant to be accepted at the inbox poll the schedule has next after its intended
    # submission, however late either request landed.
    calendar = WorkingCalendar(cutoff=time(17, 0))
    poll_minutes = workload.backoffice.inbox_poll_minutes
    for record in decided:
        waited = working_minutes(
            instant(record["submit_intended"]), instant(record["accept_intended"]), calendar
        )
        assert -0.01 <= waited <= poll_minutes + 0.01, record
    assert chain["out_of_order"] == 0  # the officers' queue took every dossier in its place
    assert chain["dossiers"] > 0
    assert chain["deadline_hours"] == 8
    assert chain["added_working_minutes"].keys() == {"p50", "p99", "max"}
    assert chain["p99_share_of_deadline"] > 0
    assert chain["budget_share"] == 0
    assert chain["within_budget"] is False

    assert code == EXIT_INVALID, "\n".join(said)
    assert results["run"]["valid"] is False
    assert said[-1].startswith("INVALID: the back office's chain added p50 ")
    assert "PAST the budget of 0%" in said[-1]
    line = chain_line(Chain.model_validate(chain))
    assert f"  chain     {line}" in said
    assert line in (folder / "report.md").read_text()
    assert "Clock distortion / Sai lệch đồng hồ" in (folder / "report.html").read_text()
    queueing = results["queueing"]
    assert queueing["measured_as_recorded"] is not None or queueing["n"] == 0


async def test_a_run_states_its_clock_distortion_and_fails_past_its_budget(
    scratch_settings: Settings, tmp_path: Path
) -> None:
    await asyncio.to_thread(_scenario, scratch_settings.database_url, tmp_path)
