"""The processes `portalsim run` starts: the portal and the mock gateway on free loopback ports
(their own SQLite files under the run's folder, or --database-url; one accelerated clock shared
by both), then Locust headless on loadtest/locustfile.py with the planned run's plan.json, whose
results.json it summarises.

Plain CPython: Locust (which patches the standard library for gevent) runs in its own process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from loadtest.drive.description import PlannedRun
from loadtest.judge.results import EXIT_CRASH, summary_lines
from loadtest.model.workload import Workload
from loadtest.results_model import load_results

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = PROJECT_ROOT / "loadtest" / "locustfile.py"
READY_TIMEOUT_SECONDS = 90.0
HARNESS_GRACE_SECONDS = 180.0  # beyond the duration: start-up, the audit, writing results


Echo = Callable[[str], None]


class RunError(Exception):
    """A run that cannot start: one line for the user."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _binary(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise RunError(f"`{name}` is not installed: run `make setup` (or `uv sync`) first")
    return found


def _wait_ready(url: str, process: subprocess.Popen[bytes] | None, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise RunError(f"{url} did not start ({' / '.join(tail)}); see {log}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RunError(f"{url} was not ready after {READY_TIMEOUT_SECONDS:.0f} s; see {log}")


@dataclass(frozen=True)
class Servers:
    portal: str
    gateway: str
    environment: dict[str, str]
    portal_pid: int
    portal_exit: Callable[[], int | None]  # the portal process's exit status, None if running


def server_environment(
    workload: Workload, speed: float, folder: Path, database_url: str | None
) -> tuple[dict[str, str], int, int]:
    portal_port, gateway_port = free_port(), free_port()
    portal, gateway = f"http://127.0.0.1:{portal_port}", f"http://127.0.0.1:{gateway_port}"
    var = folder / "var"
    environment = {
        "DATABASE_URL": database_url or f"sqlite:///{var / 'portal.db'}",
        "DOCUMENT_DIR": str(var / "documents"),
        "GATEWAY_DATABASE_URL": f"sqlite:///{var / 'gateway.db'}",
        "PORT": str(portal_port),
        "GATEWAY_PORT": str(gateway_port),
        "PUBLIC_URL": portal,
        "VNPAY_GATEWAY_URL": gateway,
        "VNPAY_IPN_URL": f"{portal}/api/v1/payments/vnpay/ipn",
        "CLOCK_MODE": "accelerated",
        "CLOCK_SPEED": repr(speed),
        "CLOCK_START": workload.run.start.isoformat(),
        # The servers' clocks hold at the workload's start until the harness, ready to run,
        # names the instant it starts at (loadtest/drive/harness.py): a slow start-up never
        # moves the run's schedule.
        "CLOCK_ANCHOR_FILE": str(var / "clock-anchor"),
        # A run lasts minutes: reconcile payments whose IPN never came within seconds.
        "PAYMENT_RECONCILE_AFTER_MINUTES": "0.2",
        "PAYMENT_RECONCILE_INTERVAL_SECONDS": "5",
    }
    if workload.queueing is not None:
        windows = workload.queueing.windows
        environment["CALENDAR_WINDOWS"] = json.dumps(
            [[start.strftime("%H:%M"), end.strftime("%H:%M")] for start, end in windows]
        )
        # harness.md: the M/M/c formula holds when receipt is counted until the day's end.
        environment["CALENDAR_CUTOFF"] = windows[-1][1].strftime("%H:%M")
    return environment, portal_port, gateway_port


@contextmanager
def started_servers(
    workload: Workload, speed: float, folder: Path, database_url: str | None
) -> Iterator[Servers]:
    environment, portal_port, gateway_port = server_environment(
        workload, speed, folder, database_url
    )
    env = {**os.environ, **environment}
    # An earlier run's anchor in a reused folder would start these clocks at once.
    Path(environment["CLOCK_ANCHOR_FILE"]).unlink(missing_ok=True)
    portalsim = _binary("portalsim")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name, command in (
            ("portal", [portalsim, "serve", "--migrate"]),
            ("gateway", [portalsim, "gateway"]),
        ):
            log = folder / f"{name}.log"
            with log.open("wb") as sink:
                processes.append(
                    subprocess.Popen(
                        command,
                        env=env,
                        stdout=sink,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        portal, gateway = f"http://127.0.0.1:{portal_port}", f"http://127.0.0.1:{gateway_port}"
        _wait_ready(f"{portal}/readyz", processes[0], folder / "portal.log")
        _wait_ready(f"{gateway}/healthz", processes[1], folder / "gateway.log")
        yield Servers(portal, gateway, environment, processes[0].pid, processes[0].poll)
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def locust_command(host: str, plan_file: Path, processes: int) -> list[str]:
    command = [
        _binary("locust"),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--only-summary",
        "-H",
        host,
        "--run-plan",
        str(plan_file),
    ]
    if processes > 1:
        command += ["--processes", str(processes)]
    return command


def exit_status(code: int) -> str:
    """A process's exit status as Popen gives it, in words."""
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def drive(
    planned: PlannedRun,
    host: str,
    env: dict[str, str],
    echo: Echo,
    *,
    processes: int = 1,
    gateway: str | None = None,
    portal_pid: int | None = None,
    portal_exit: Callable[[], int | None] | None = None,
    fresh_portal: bool = False,
) -> int:
    """Locust on the planned run against `host`: the servers this run started (their gateway,
    the portal's process, and whether the portal holds this run's dossiers alone), or a target
    someone else runs."""
    description = planned.description.model_copy(
        update={
            "gateway": gateway or planned.description.gateway,
            "portal_pid": portal_pid,
            "fresh_portal": fresh_portal,
            "clock_anchor_file": env.get("CLOCK_ANCHOR_FILE"),
        }
    )
    folder = description.out / description.run_id
    plan_file = PlannedRun(description, planned.world).write(folder / "plan.json")
    command = locust_command(host, plan_file, processes)
    seconds = description.real_seconds
    echo(f"running {seconds:g} s of load ({processes} Locust process(es)) ...")
    log = folder / "locust.log"
    with log.open("wb") as sink:
        try:
            completed = subprocess.run(
                command,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                cwd=PROJECT_ROOT,
                timeout=seconds + HARNESS_GRACE_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RunError(f"Locust did not finish in time; see {log}") from None
    results = folder / "results.json"
    lines = log.read_text(errors="replace").strip().splitlines()
    verdict = next(
        (line for line in reversed(lines) if line.startswith(("OK:", "INVALID:", "FAILED:"))),
        None,
    )
    if not results.exists():
        reason = next((line for line in reversed(lines) if "cannot start the run" in line), None)
        if reason:
            raise RunError(reason)
        echo(f"{verdict or 'FAILED: the harness ended'}; the run wrote no results; see {log}")
        return EXIT_CRASH
    for line in summary_lines(load_results(results), folder):
        echo(line)
    verdict = verdict or f"Locust exited with {completed.returncode}; see {log}"
    status = portal_exit() if portal_exit is not None else None
    if status is not None:  # the portal this run started is gone: say how
        verdict += f" (the portal's process {exit_status(status)}; see {folder / 'portal.log'})"
    echo(verdict)
    return completed.returncode
