"""The harness against theory (harness.md, "Checking the simulation against theory"): whole
`portalsim run`s of the M/M/c workloads, the measured on-time share beside Erlang C's.

    uv run python benchmarks/queueing_check.py [--duration 8m] [--database-url URL] [--seed N]
        [WORKLOAD ...]

Each run starts its own portal and gateway (SQLite, or the PostgreSQL database given), drives
the workload through Locust and the portal's real status machine, calendar and clock, and reads
`queueing` and `chain` from its results.json: the share judged by the instants the workload
intended (the run's figure), the portal's own from the instants it recorded, and the simulated
time the back office's chain added per dossier beside the deadline, with the run's verdict (a
run past its clock-distortion budget says INVALID there, its intended-instant share still
counts). Exit 1 when a measured share is further from the prediction than its sampling error (or
--tolerance), a run's queue was not the model's (below), or a run wrote no results. The
sampling error of one run is the largest of the run-to-run spread of an offline replay of its
queue (200 seeds), the batch-means half-width in its results.json and the error for independent
dossiers.

The on-time share of one run spreads widely (a few officers' neighbours wait alike), so the
check also asks the tighter question of whether the run's queue was the model's: from
ledger.json, each dossier taken in its place at its intended acceptance by the officer free
first (FCFS) must finish its drawn work at its intended finish. `--judged-only` judges runs
already in --out."""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from app.core.calendar import WorkingCalendar
from loadtest.judge.audit import instant
from loadtest.judge.distortion import queue_fidelity
from loadtest.judge.results import verdict_of_results
from loadtest.model.officers import OfficerQueue
from loadtest.model.queueing import sampling_error
from loadtest.model.workload import load_workload
from loadtest.results_model import (
    QueueingModel,
    Results,
    ResultsError,
    Spread,
    load_results,
)

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


def replay_spread(
    calendar: WorkingCalendar, warmup_share: float, results: Results, model: QueueingModel
) -> float:
    """The 95% run-to-run spread of the measured share: the run's own queue (the harness's FCFS
    `OfficerQueue`, in working hours) replayed offline `REPLAYS` times over the run's working
    hours, warm-up and decided window. A queue's neighbours wait alike over its relaxation time,
    so neither the error for independent dossiers nor batch means shorter than that time is the
    spread of one run; this is."""
    span = calendar.between(
        datetime.fromisoformat(results.run.simulated_from),
        datetime.fromisoformat(results.run.simulated_to),
    )
    hours = span.total_seconds() / 3600
    warm_up = hours * warmup_share
    deadline = model.deadline_hours
    shares = []
    for seed in range(REPLAYS):
        rng = random.Random(seed)
        on_time = decided = 0
        for _ in range(model.agencies):
            officers, arrived = OfficerQueue(model.officers), 0.0
            while (arrived := arrived + rng.expovariate(model.arrivals_per_hour)) < hours:
                _, done = officers.assign(arrived, rng.expovariate(1 / model.service_mean_hours))
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
    parser.add_argument("--seed", type=int, help="the runs' seed (default: the workload's)")
    parser.add_argument(
        "--judged-only",
        action="store_true",
        help="judge the runs already in --out instead of running them again",
    )
    args = parser.parse_args()
    rows, failed = [], False
    said = "(judged only: not run here)"
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
        if args.seed is not None:
            command += ["--seed", str(args.seed)]
        if not args.judged_only:
            completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            said = completed.stdout[-2000:]
        results_file = args.out / run_id / "results.json"
        if not results_file.exists():
            print(f"{workload.name}: the run wrote no results ({args.out / run_id}):\n{said}")
            failed = True
            continue
        workload_model = load_workload(workload)
        if workload_model.queueing is None:
            print(f"{workload.name}: not an M/M/c workload (no [queueing] section)")
            failed = True
            continue
        calendar = WorkingCalendar(windows=workload_model.queueing.windows)
        try:
            results = load_results(results_file)
        except ResultsError as unreadable:
            print(f"{workload.name}: {unreadable}")
            failed = True
            continue
        q, chain = results.queueing, results.chain
        if q is None or q.measured is None or chain is None:
            print(f"{workload.name}: {results_file} measured no on-time share to check")
            failed = True
            continue
        model = q.model
        difference = q.measured - q.predicted
        error = max(
            replay_spread(calendar, workload_model.run.warmup_share, results, model),
            q.batch_error or 0.0,
            sampling_error(q.measured, q.n),
        )
        # The run's own check since 94b89b2; computed from its ledger for older runs.
        fidelity = q.queue or queue_fidelity(
            json.loads((args.out / run_id / "ledger.json").read_text()),
            calendar,
            instant(results.run.simulated_from),
            model.officers,
        )
        ok = abs(difference) <= (args.tolerance or error) and fidelity.elsewhere == 0
        failed |= not ok
        added = chain.added_working_minutes or Spread(p50=0.0, p99=0.0, max=0.0)
        as_recorded = q.measured_as_recorded
        verdict = verdict_of_results(results).reason.split(":")[0]
        rows.append(
            f"| {workload.name} | {model.agencies} | {model.arrivals_per_hour:g} | "
            f"{model.service_mean_hours:g} | {model.officers} | {model.deadline_hours} | "
            f"{q.utilisation:.2f} | {q.predicted:.3f} | {q.measured:.3f} | "
            f"{difference:+.3f} | ±{error:.3f} | "
            f"{'–' if as_recorded is None else f'{as_recorded:.3f}'} | {q.n} | "
            f"{added.p50:+.0f} / {added.p99:+.0f} | {chain.out_of_order} | "
            f"{fidelity.elsewhere} of {fidelity.checked} | {verdict} | "
            f"{'ok' if ok else 'OUT'} |"
        )
    print(
        "| workload | agencies | λ/h | mean service h | c | D h | ρ | predicted | measured | "
        "difference | 95% error | as recorded | n | chain added min p50 / p99 | out of order | "
        "finished off the model's queue | run | within |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
