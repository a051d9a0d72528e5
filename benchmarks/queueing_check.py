"""The harness against theory (harness.md, "Checking the simulation against theory"): whole
`portalsim run`s of the M/M/c workloads, the measured on-time share beside Erlang C's.

    uv run python benchmarks/queueing_check.py [--duration 8m] [--database-url URL] [WORKLOAD ...]

Each run starts its own portal and gateway (SQLite, or the PostgreSQL database given), drives
the workload through Locust and the portal's real status machine, calendar and clock, and reads
`queueing` and `chain` from its results.json: the share judged by the instants the workload
intended (the run's figure), the portal's own from the instants it recorded, and the simulated
time the back office's chain added per dossier beside the deadline, with the run's verdict (a
run past its clock-distortion budget says INVALID there, its intended-instant share still
counts). Exit 1 when a measured share is further from the prediction than its sampling error (or
--tolerance), or a run wrote no results. The sampling error of one run is the largest of the
run-to-run spread of an offline replay of its queue (200 seeds), the batch-means half-width in
its results.json and the error for independent dossiers."""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from app.core.calendar import WorkingCalendar
from loadtest.model.officers import OfficerQueue
from loadtest.model.queueing import sampling_error
from loadtest.model.workload import load_workload

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = [
    ROOT / "loadtest/workloads" / f"{name}.toml"
    for name in (
        # deadlines inside a working day
        "mmc-rho06",
        "mmc-rho075-8h",
        "mmc-rho09",
        # deadlines across working days (nights, weekends)
        "mmc-rho06-2d",
        "mmc-rho075-2d",
        "mmc-rho09-2d",
    )
]


REPLAYS = 200


def replay_spread(workload_file: Path, results: dict[str, Any]) -> float:
    """The 95% run-to-run spread of the measured share: the run's own queue (the harness's FCFS
    `OfficerQueue`, in working hours) replayed offline `REPLAYS` times over the run's working
    hours, warm-up and decided window. A queue's neighbours wait alike over its relaxation time,
    so neither the error for independent dossiers nor batch means shorter than that time is the
    spread of one run; this is."""
    workload = load_workload(workload_file)
    queueing = workload.queueing
    assert queueing is not None
    model = results["queueing"]["model"]
    calendar = WorkingCalendar(windows=queueing.windows)
    run = results["run"]
    span = calendar.between(
        datetime.fromisoformat(run["simulated_from"]), datetime.fromisoformat(run["simulated_to"])
    )
    hours = span.total_seconds() / 3600
    warm_up = hours * workload.run.warmup_share
    deadline = model["deadline_hours"]
    shares = []
    for seed in range(REPLAYS):
        rng = random.Random(seed)
        on_time = decided = 0
        for _ in range(model["agencies"]):
            officers, arrived = OfficerQueue(model["officers"]), 0.0
            while (arrived := arrived + rng.expovariate(model["arrivals_per_hour"])) < hours:
                _, done = officers.assign(arrived, rng.expovariate(1 / model["service_mean_hours"]))
                if warm_up <= arrived and arrived + deadline < hours:
                    decided += 1
                    on_time += done - arrived <= deadline
        shares.append(on_time / decided)
    return 1.96 * statistics.stdev(shares)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workloads", nargs="*", type=Path, default=WORKLOADS)
    parser.add_argument("--duration", help="real time per run (default: the workload's)")
    parser.add_argument(
        "--tolerance",
        type=float,
        default=0.0,
        help="allowed |measured - predicted| (default: the run's 95%% sampling error, the "
        "largest of an offline replay's run-to-run spread, batch means and independent dossiers)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "queueing")
    parser.add_argument("--database-url", help="the portal's database (default: SQLite files)")
    args = parser.parse_args()
    rows, failed = [], False
    for workload in args.workloads:
        run_id = workload.stem
        command = [
            sys.executable,
            "-m",
            "portalsim.cli",
            "run",
            "--workload",
            str(workload),
            "--out",
            str(args.out),
            "--run-id",
            run_id,
        ]
        if args.duration:
            command += ["--duration", args.duration]
        if args.database_url:
            command += ["--database-url", args.database_url]
        completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        results_file = args.out / run_id / "results.json"
        if not results_file.exists():
            print(
                f"{workload.name}: the run failed ({completed.returncode}):\n"
                f"{completed.stdout[-2000:]}"
            )
            failed = True
            continue
        results = json.loads(results_file.read_text())
        q, chain = results["queueing"], results["chain"]
        model = q["model"]
        difference = q["measured"] - q["predicted"]
        error = max(
            replay_spread(workload, results),
            q["batch_error"] or 0.0,
            sampling_error(q["measured"], q["n"]),
        )
        ok = abs(difference) <= (args.tolerance or error)
        failed |= not ok
        added = chain["added_working_minutes"] or {"p50": 0.0, "p99": 0.0}
        verdict = completed.stdout.strip().splitlines()[-1].split(":")[0]
        rows.append(
            f"| {workload.name} | {model['agencies']} | {model['arrivals_per_hour']:g} | "
            f"{model['service_mean_hours']:g} | {model['officers']} | {model['deadline_hours']} | "
            f"{q['utilisation']:.2f} | {q['predicted']:.3f} | {q['measured']:.3f} | "
            f"{difference:+.3f} | ±{error:.3f} | {q['measured_as_recorded']:.3f} | {q['n']} | "
            f"{added['p50']:+.0f} / {added['p99']:+.0f} | {verdict} | {'ok' if ok else 'OUT'} |"
        )
    print(
        "| workload | agencies | λ/h | mean service h | c | D h | ρ | predicted | measured | "
        "difference | 95% error | as recorded | n | chain added min p50 / p99 | run | within |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
