"""Issue 20: the on-time share a run judges does not depend on how fast the portal answers. Two
`portalsim run`s of an M/M/c case with one seed, the second against a portal that holds every
inbox poll and transition back (its fault injection), measure the same share over the same
dossiers; only what the chain added differs, and the run says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from loadtest.drive.processes import PROJECT_ROOT

WORKLOAD = PROJECT_ROOT / "loadtest/workloads/mmc-rho06.toml"
# 60 ms of real time is 7.2 simulated minutes at x7200: every intake and every finish late.
SLOW_PORTAL = (
    "GET /api/v1/agency/dossiers: latency=1:60; "
    "POST /api/v1/agency/dossiers/{code}/transitions: latency=1:60"
)


def _run(out: Path, run_id: str, faults: str | None) -> dict[str, Any]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_FAULTS")}
    if faults:
        env |= {"PORTAL_FAULTS_ENABLED": "true", "PORTAL_FAULTS": faults}
    command = [sys.executable, "-m", "portalsim.cli", "run", "--workload", str(WORKLOAD)]
    command += ["--duration", "30s", "--seed", "7", "--out", str(out), "--run-id", run_id]
    completed = subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert (out / run_id / "results.json").exists(), completed.stdout[-3000:]
    results: dict[str, Any] = json.loads((out / run_id / "results.json").read_text())
    return results


@pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")),
    reason="the judging does not depend on the database (SQLite pass; the benchmark runs both)",
)
def test_a_slower_portal_changes_the_chain_not_the_judged_share(tmp_path: Path) -> None:
    quick = _run(tmp_path, "quick", None)
    slow = _run(tmp_path, "slow", SLOW_PORTAL)
    assert slow["requests"]["GET /api/v1/agency/dossiers"]["latency_ms"]["p50"] >= 60
    assert quick["queueing"]["n"] > 50
    for figure in ("measured", "n", "predicted"):
        assert slow["queueing"][figure] == quick["queueing"][figure], figure
    assert slow["business"]["on_time_share"] == quick["business"]["on_time_share"]
    # What the portal recorded moved with its speed, and the chain states it.
    slower = slow["chain"]["acceptance_working_minutes"]["p50"]
    assert slower > quick["chain"]["acceptance_working_minutes"]["p50"] + 3
    assert slow["chain"]["out_of_order"] == quick["chain"]["out_of_order"] == 0
    # Both queues were the model's, dossier by dossier, over the same dossiers.
    assert slow["queueing"]["queue"] == quick["queueing"]["queue"]
    assert quick["queueing"]["queue"]["checked"] > 50
    assert quick["queueing"]["queue"]["elsewhere"] == 0
