"""The harness against theory (harness.md, "Checking the simulation against theory"): whole
`portalsim run`s of the M/M/c workloads, the measured on-time share beside Erlang C's.

    uv run python benchmarks/queueing_check.py [--duration 8m] [WORKLOAD ...]

Each run starts its own portal and gateway (SQLite), drives the workload through Locust and the
portal's real status machine, calendar and clock, and reads `queueing` from its results.json.
Exit 1 when a measured share is more than --tolerance from the prediction, or a run failed."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = [ROOT / "loadtest/workloads/mmc-rho06.toml", ROOT / "loadtest/workloads/mmc-rho09.toml"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workloads", nargs="*", type=Path, default=WORKLOADS)
    parser.add_argument("--duration", help="real time per run (default: the workload's)")
    parser.add_argument(
        "--tolerance", type=float, default=0.03, help="allowed |measured - predicted|"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "queueing")
    args = parser.parse_args()
    rows, failed = [], False
    for workload in args.workloads:
        run_id = workload.stem
        command = [
            sys.executable,
            "-m",
            "app.cli",
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
        completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        results_file = args.out / run_id / "results.json"
        if completed.returncode != 0 or not results_file.exists():
            print(
                f"{workload.name}: the run failed ({completed.returncode}):\n"
                f"{completed.stdout[-2000:]}"
            )
            failed = True
            continue
        results = json.loads(results_file.read_text())
        q = results["queueing"]
        model = q["model"]
        difference = q["measured"] - q["predicted"]
        ok = abs(difference) <= args.tolerance
        failed |= not ok
        rows.append(
            f"| {workload.name} | {model['agencies']} | {model['arrivals_per_hour']:g} | "
            f"{model['service_mean_hours']:g} | {model['officers']} | {model['deadline_hours']} | "
            f"{q['utilisation']:.2f} | {q['predicted']:.3f} | {q['measured']:.3f} | "
            f"{difference:+.3f} | {q['n']} | {results['arrivals']['max_lag_ms']:.0f} | "
            f"{'ok' if ok else 'OUT'} |"
        )
    print(
        "| workload | agencies | λ/h | mean service h | c | D h | ρ | predicted | measured | "
        f"difference | n | max lag ms | within ±{args.tolerance:.0%} |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
