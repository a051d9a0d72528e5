"""The load harness's own cost: requests per second per Locust worker core, against a trivial
endpoint, with ratios against plain Locust measured in the same run.

    uv run python benchmarks/harness_cost.py [--rounds 3] [--seconds 10] [--users 16]
        [--levels 0.5,0.7,0.85] [--lag-p99-ms 50]

A raw asyncio server on loopback (uvloop when installed) answers every request with the same
small JSON body; it runs in its own process, pinned to one core. Each measurement is one Locust
process (Locust used as a library), pinned to the other core, so "per worker core" is literal:

- baseline: a plain FastHttpUser doing GET /x in a loop: the raw Locust ceiling;
- harness: `ActorUser.call` itself (catch_response, status check, JSON parse, validation with a
  pydantic model, the body check, `Book.request` into HdrHistograms), in a closed loop;
- open: `ActorUser.work` itself: `Simulation.take` on the engine's `TaskQueue`, seeded with a
  Poisson schedule of arrivals, the lag recorded by `Book.arrival`, then the same `call`; offered
  above the baseline's rate (saturated), then at fractions of the rate it reached (`--levels`),
  to find the highest rate one core offers with a small lag.

Modes alternate within every round so that the machine's drift hits all of them. Everything runs
on loopback, is bounded in time, and the children are killed on exit. See benchmarks/README.md
for how to read the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PATH = "/x"
NAME = "GET /x"  # a route template, as the harness names its requests
BODY = b'{"status": 1, "code": "X"}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
    b"Connection: keep-alive\r\n\r\n" % len(BODY)
) + BODY
END_OF_HEAD = b"\r\n\r\n"
MAX_PENDING = 65_536  # bytes of an unfinished request head before the server gives up on it
SATURATED = 1.25  # the open mode's offered rate, x the baseline of the same round
RESULT = "RESULT "  # the generator's one line of output
GENERATOR_GRACE_SECONDS = 60.0  # start-up (imports) and shutdown, on top of the window
SERVER_GRACE_SECONDS = 120.0


# -- the trivial endpoint ---------------------------------------------------------------------


class Answer(asyncio.Protocol):
    """HTTP/1.1 keep-alive, GET only: every request head gets the same response."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.pending = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        buffer = self.pending + data if self.pending else data
        count = buffer.count(END_OF_HEAD)
        if count and self.transport is not None:
            self.transport.write(RESPONSE * count)
            self.pending = buffer[buffer.rindex(END_OF_HEAD) + len(END_OF_HEAD) :]
        else:
            self.pending = buffer
        if len(self.pending) > MAX_PENDING and self.transport is not None:
            self.transport.close()


def serve(fd: int, core: int, lifetime: float) -> None:
    """Serve on the listening socket inherited from the parent until the lifetime is over or the
    parent is gone."""
    os.sched_setaffinity(0, {core})
    listener = socket.socket(fileno=fd)
    parent = os.getppid()
    deadline = time.monotonic() + lifetime

    async def main() -> None:
        loop = asyncio.get_running_loop()
        over = asyncio.Event()

        def watch() -> None:
            if time.monotonic() >= deadline or os.getppid() != parent:
                over.set()
            else:
                loop.call_later(0.5, watch)

        server = await loop.create_server(Answer, sock=listener)
        async with server:
            watch()
            await over.wait()

    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far, from /proc (clock-tick resolution)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- one generator process ----------------------------------------------------------------------


def generate(options: argparse.Namespace) -> dict[str, Any]:
    """One Locust process, one mode; returns what it measured over its window."""
    os.sched_setaffinity(0, {options.core})
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    # Importing Locust monkey-patches the process for gevent: only generators import it.
    import gevent
    from locust import FastHttpUser, constant, task
    from locust.env import Environment
    from pydantic import BaseModel

    from loadtest.drive.engine import Simulation, Task, TaskQueue
    from loadtest.drive.requests import REQUESTS, RequestKind
    from loadtest.drive.runtime import this_process
    from loadtest.drive.users.base import ActorUser, expect_status
    from loadtest.metrics import Book, percentiles_ms

    class Status(BaseModel):
        status: int
        code: str

    check = expect_status(1)
    # An actor's request is one of the kinds the harness knows (its route, group and documented
    # statuses); the bench's own server answers one more, known to this process only.
    REQUESTS[NAME] = RequestKind("GET", PATH, "bench")

    class Baseline(FastHttpUser):
        wait_time = constant(0)

        @task
        def get(self) -> None:
            self.client.get(PATH)

    class Harness(ActorUser):
        """The request path of every actor, without the schedule: a follow-up request."""

        actor = "bench"

        def get(self) -> None:
            self.call(NAME, PATH, schema=Status, check=check)

    class Open(ActorUser):
        """ActorUser's own task: take the next due arrival, then the same request."""

        actor = "bench"

        def on_get(self, current: Task) -> None:  # noqa: ARG002 - every arrival is the same
            self.call(NAME, PATH, schema=Status, check=check)

    # Locust adds a base class's tasks to a subclass's; the closed harness loop replaces
    # ActorUser.work (the schedule) with the bare request.
    Harness.tasks = [Harness.get]
    user_class: type[FastHttpUser] = {"baseline": Baseline, "harness": Harness}.get(
        options.mode, Open
    )

    spawned = time.time()
    window_start = spawned + options.warm_up
    window_end = window_start + options.seconds
    # The real Simulation's methods on the state they touch; the rest of a run (world, ledger,
    # officers) is not on the request path.
    simulation = Simulation.__new__(Simulation)
    simulation.book = Book(started_at=spawned)
    simulation.queues = {"bench": TaskQueue()}
    simulation.ends_at = window_end + 1.0
    simulation.lag_budget_ms = options.lag_p99_ms
    simulation.stopping = False
    simulation._busy = defaultdict(int)  # the pool accounting on the path
    simulation._pool = {}  # no pool size: never counted as exhausted
    intended = 0  # arrivals intended within the window
    if options.mode == "open":  # a Poisson schedule, seeded in advance as the harness does
        rng = random.Random(options.seed)
        at, sequence = spawned + min(0.5, options.warm_up), 0
        while at < simulation.ends_at:
            simulation.queues["bench"].put(Task(at, sequence, "get", {}, arrival=True))
            intended += window_start <= at < window_end
            at += rng.expovariate(options.rate)
            sequence += 1
    this_process.simulation = simulation
    this_process.ready.set()

    environment = Environment(user_classes=[user_class], host=f"http://127.0.0.1:{options.port}")
    runner = environment.create_local_runner()
    runner.start(options.users, spawn_rate=min(100.0, options.users * 10.0))

    def snapshot() -> tuple[float, int, int, float, float]:
        total = environment.stats.total
        return (
            time.time(),
            total.num_requests,
            total.num_failures,
            own_cpu_seconds(),
            process_cpu_seconds(options.server_pid),
        )

    gevent.sleep(max(0.0, window_start - time.time()))
    simulation.book = Book(started_at=window_start)
    first = snapshot()
    gevent.sleep(max(0.0, window_end - time.time()))
    last = snapshot()
    book = simulation.book
    # Arrivals due by the window's end and not started; they are the latest ones, so those of
    # the window unless the backlog is longer than the window.
    unstarted = min(intended, simulation.queues["bench"].due_before(last[0]))
    lag = book.named.get("arrival.lag")
    counted = book.requests.get(NAME)
    booked = counted.count if counted else 0
    runner.quit()
    return {
        "mode": options.mode,
        "offered": options.rate if options.mode == "open" else None,
        "seconds": last[0] - first[0],
        "requests": last[1] - first[1],
        "failures": last[2] - first[2],
        "cpu_seconds": last[3] - first[3],
        "server_cpu_seconds": last[4] - first[4],
        "booked": booked,
        "crashes": book.counters.get("harness.crashes", 0),
        "started": book.counters.get("arrivals.started", 0),
        "unstarted": unstarted,
        "intended": intended,
        "lag_ms": percentiles_ms(lag) if lag is not None else None,
    }


# -- the parent: server, rounds, table --------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    mode: str  # baseline, harness, open, or open@<level>
    offered: float | None
    seconds: float
    requests: int
    cpu_seconds: float
    server_cpu_seconds: float
    unstarted: int
    intended: int
    lag_ms: dict[str, float] | None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_us(self) -> float:
        return self.cpu_seconds / self.requests * 1e6

    @property
    def server_cpu_us(self) -> float:
        return self.server_cpu_seconds / self.requests * 1e6


class BenchmarkFailed(Exception):
    """A generator failed, or saw a failed request: the figures would mean nothing."""


@dataclass
class Bench:
    options: argparse.Namespace
    port: int
    server_pid: int
    generator_core: int
    logs: Path

    def measure(self, mode: str, *, rate: float | None = None, label: str = "") -> Measurement:
        label = label or mode
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "_generate",
            f"--mode={mode}",
            f"--port={self.port}",
            f"--server-pid={self.server_pid}",
            f"--core={self.generator_core}",
            f"--users={self.options.users}",
            f"--seconds={self.options.seconds}",
            f"--warm-up={self.options.warm_up}",
            f"--lag-p99-ms={self.options.lag_p99_ms}",
            f"--rate={rate or 0.0}",
            f"--seed={self.options.seed}",
        ]
        log = self.logs / f"{label}.log"
        with log.open("ab") as sink:
            process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=sink,
                cwd=PROJECT_ROOT,
                start_new_session=True,
            )
            try:
                timeout = self.options.warm_up + self.options.seconds + GENERATOR_GRACE_SECONDS
                output, _ = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                raise BenchmarkFailed(f"{label}: the generator did not finish; see {log}") from None
            finally:
                stop(process)
        lines = [line for line in output.decode().splitlines() if line.startswith(RESULT)]
        if process.returncode != 0 or not lines:
            tail = " / ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
            raise BenchmarkFailed(f"{label}: exit {process.returncode}: {tail}")
        found = json.loads(lines[-1].removeprefix(RESULT))
        if found["failures"] or found["crashes"] or found["requests"] == 0:
            raise BenchmarkFailed(
                f"{label}: {found['requests']} requests, {found['failures']} failed, "
                f"{found['crashes']} harness crashes; see {log}"
            )
        if mode != "baseline" and found["booked"] != found["requests"]:
            # The harness's book and Locust's statistics count the same requests.
            print(
                f"  note: {label}: the book counted {found['booked']} requests, "
                f"Locust {found['requests']}",
                file=sys.stderr,
            )
        return Measurement(
            label,
            found["offered"],
            found["seconds"],
            found["requests"],
            found["cpu_seconds"],
            found["server_cpu_seconds"],
            found["unstarted"],
            found["intended"],
            found["lag_ms"],
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def wait_for_server(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2.0) as probe:
                probe.sendall(b"GET /x HTTP/1.1\r\nHost: bench\r\n\r\n")
                if probe.recv(4096).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise BenchmarkFailed("the trivial endpoint did not answer")
        time.sleep(0.1)


def cores() -> tuple[int, int]:
    """(generator, server): two distinct cores when there are two."""
    allowed = sorted(os.sched_getaffinity(0))
    return allowed[0], allowed[1] if len(allowed) > 1 else allowed[0]


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    """A Markdown table, padded so that it also reads as text."""
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(header)]
    columns = list(zip(widths, right, strict=True))

    def line(cells: Sequence[str]) -> str:
        padded = (c.rjust(w) if r else c.ljust(w) for c, (w, r) in zip(cells, columns, strict=True))
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (w + 1) + ":" if r else "-" * (w + 2) for w, r in columns) + "|"
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


@dataclass(frozen=True)
class Summary:
    """One mode across the rounds: medians, and ratios to the baseline of the same round."""

    mode: str
    offered: float | None
    rps: float
    low: float
    high: float
    cpu_us: float
    generator_busy: float  # CPU seconds per second of the window
    server_busy: float
    rps_ratio: float
    cpu_ratio: float
    lag_ms: dict[str, float]
    unstarted: float  # share of the window's offered arrivals not started by its end

    @classmethod
    def of(cls, mode: str, rounds: Sequence[dict[str, Measurement]]) -> Summary:
        runs = [found[mode] for found in rounds]
        baselines = [found["baseline"] for found in rounds]
        rps = [m.rps for m in runs]
        offered = [m.offered for m in runs if m.offered is not None]
        lags = [m.lag_ms or {} for m in runs]
        return cls(
            mode=mode,
            offered=median(offered) if offered else None,
            rps=median(rps),
            low=min(rps),
            high=max(rps),
            cpu_us=median([m.cpu_us for m in runs]),
            generator_busy=median([m.cpu_seconds / m.seconds for m in runs]),
            server_busy=median([m.server_cpu_seconds / m.seconds for m in runs]),
            rps_ratio=median([m.rps / b.rps for m, b in zip(runs, baselines, strict=True)]),
            cpu_ratio=median([m.cpu_us / b.cpu_us for m, b in zip(runs, baselines, strict=True)]),
            lag_ms={k: median([lag.get(k, 0.0) for lag in lags]) for k in ("p50", "p99", "max")},
            unstarted=median([m.unstarted / max(1, m.intended) for m in runs]),
        )

    def fits(self, budget_ms: float) -> bool:
        return self.lag_ms["p99"] < budget_ms and self.unstarted < 0.001


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def report(rounds: Sequence[dict[str, Measurement]], budget_ms: float) -> str:
    summaries = {mode: Summary.of(mode, rounds) for mode in rounds[0]}
    main_rows = [
        [
            s.mode,
            "closed loop" if s.offered is None else f"{s.offered:,.0f}",
            f"{s.rps:,.0f}",
            f"{s.low:,.0f}–{s.high:,.0f}",
            f"{s.cpu_us:,.0f}",
            f"{s.generator_busy:.0%}",
            f"{s.server_busy:.0%}",
            f"{s.rps_ratio:.2f}",
            f"{s.cpu_ratio:.2f}",
        ]
        for s in summaries.values()
        if s.mode in ("baseline", "harness", "open")
    ]
    open_modes = [s for s in summaries.values() if s.mode.startswith("open")]
    level_rows = [
        [
            f"{SATURATED:.2f} × baseline" if s.mode == "open" else f"{s.mode[5:]} × open",
            f"{s.offered or 0.0:,.0f}",
            f"{s.rps:,.0f}",
            f"{s.cpu_us:,.0f}",
            f"{s.generator_busy:.0%}",
            f"{s.lag_ms['p50']:,.1f}",
            f"{s.lag_ms['p99']:,.1f}",
            f"{s.lag_ms['max']:,.1f}",
            f"{s.unstarted:.1%}",
            "yes" if s.fits(budget_ms) else "no",
        ]
        for s in open_modes
    ]
    fitting = [s.offered or 0.0 for s in open_modes if s.mode != "open" and s.fits(budget_ms)]
    baseline, harness = summaries["baseline"], summaries["harness"]
    lines = [
        table(
            [
                "mode",
                "offered req/s",
                "req/s",
                "range",
                "CPU µs/req",
                "generator CPU",
                "server CPU",
                "× baseline req/s",
                "× baseline CPU/req",
            ],
            main_rows,
            [False, *([True] * 8)],
        ),
        "",
        "Open model: an arrival's lag is its start behind its intended start. Levels are",
        "fractions of the rate the saturated open mode reached in the same round.",
        "",
        table(
            [
                "offered at",
                "offered req/s",
                "req/s",
                "CPU µs/req",
                "generator CPU",
                "lag p50 ms",
                "lag p99 ms",
                "lag max ms",
                "unstarted",
                f"p99 < {budget_ms:g} ms",
            ],
            level_rows,
            [False, *([True] * 8), False],
        ),
        "",
        f"- The harness's request path adds {harness.cpu_us - baseline.cpu_us:,.0f} µs of "
        f"generator CPU per request to plain Locust's {baseline.cpu_us:,.0f} µs.",
        (
            f"- One worker core offers up to about {max(fitting):,.0f} req/s through the open "
            f"model with p99 lag under {budget_ms:g} ms (the highest level tried that fits)."
            if fitting
            else "- No level tried kept the p99 lag under the budget: try lower --levels."
        ),
        f"- The endpoint used {baseline.server_busy:.0%} of its core during the baseline "
        f"({median([f['baseline'].server_cpu_us for f in rounds]):,.1f} µs of CPU per request):"
        " it was not the bottleneck.",
    ]
    return "\n".join(lines)


def run(options: argparse.Namespace) -> int:
    levels: list[float] = options.levels
    generator_core, server_core = cores()
    started = datetime.now(UTC)
    print(f"# Harness cost, {started:%Y-%m-%d %H:%M} UTC")
    print()
    print(
        f"Machine: {os.cpu_count()} CPUs ({cpu_model()}), {platform.platform()}, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f} at start. "
        f"Generator on core {generator_core}, server on core {server_core}."
    )
    if generator_core == server_core:
        print("Warning: one core only: the generator and the server share it.")
    print(
        f"{options.rounds} round(s) of {options.seconds:g} s per mode after {options.warm_up:g} s "
        f"of warm-up, {options.users} users per generator; medians across rounds."
    )
    print()
    runs_per_round = 3 + len(levels)
    lifetime = (
        options.rounds * runs_per_round * (options.seconds + options.warm_up + 20)
        + SERVER_GRACE_SECONDS
    )
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    port = listener.getsockname()[1]
    logs = Path(tempfile.mkdtemp(prefix="harness-cost-"))  # kept if the run fails
    server_log = (logs / "server.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "_serve",
            f"--fd={listener.fileno()}",
            f"--core={server_core}",
            f"--lifetime={lifetime}",
        ],
        pass_fds=(listener.fileno(),),
        stdout=server_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    listener.close()
    try:
        wait_for_server(port)
        rounds = measure_rounds(Bench(options, port, server.pid, generator_core, logs), levels)
    except BenchmarkFailed as exc:
        print(f"Benchmark aborted: {exc} (logs in {logs})", file=sys.stderr)
        return 1
    finally:
        stop(server)
        server_log.close()
    shutil.rmtree(logs, ignore_errors=True)
    print(report(rounds, options.lag_p99_ms))
    return 0


def measure_rounds(bench: Bench, levels: Sequence[float]) -> list[dict[str, Measurement]]:
    """The modes in turn, every round, so that the machine's drift hits them all."""
    rounds: list[dict[str, Measurement]] = []
    for number in range(1, bench.options.rounds + 1):
        found: dict[str, Measurement] = {}
        found["baseline"] = bench.measure("baseline")
        found["harness"] = bench.measure("harness")
        found["open"] = bench.measure("open", rate=SATURATED * found["baseline"].rps)
        for level in levels:
            label = f"open@{level:.2f}"
            found[label] = bench.measure("open", rate=level * found["open"].rps, label=label)
        rounds.append(found)
        print(
            f"round {number}/{bench.options.rounds}: "
            + ", ".join(f"{mode} {m.rps:,.0f} req/s" for mode, m in found.items()),
            file=sys.stderr,
        )
    return rounds


def fractions(text: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of numbers") from None
    if any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError("fractions must be positive")
    return values


def positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def main(argv: Sequence[str]) -> int:
    if argv[:1] == ["_serve"]:
        inner = argparse.ArgumentParser()
        inner.add_argument("--fd", type=int, required=True)
        inner.add_argument("--core", type=int, required=True)
        inner.add_argument("--lifetime", type=float, required=True)
        served = inner.parse_args(argv[1:])
        serve(served.fd, served.core, served.lifetime)
        return 0
    if argv[:1] == ["_generate"]:
        inner = argparse.ArgumentParser()
        inner.add_argument("--mode", choices=("baseline", "harness", "open"), required=True)
        for flag in ("--port", "--server-pid", "--core", "--users", "--seed"):
            inner.add_argument(flag, type=int, required=True)
        for flag in ("--seconds", "--warm-up", "--lag-p99-ms", "--rate"):
            inner.add_argument(flag, type=float, required=True)
        found = generate(inner.parse_args(argv[1:]))
        print(RESULT + json.dumps(found), flush=True)
        sys.stderr.flush()
        os._exit(0)  # no lingering greenlets or atexit hooks of Locust's
    parser = argparse.ArgumentParser(
        description="The load harness's own cost: requests per second per Locust worker core "
        "against a trivial loopback endpoint, as ratios to plain Locust in the same run.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of all the modes")
    parser.add_argument("--seconds", type=positive, default=10.0, help="measured, per mode")
    parser.add_argument("--warm-up", type=float, default=1.0, help="seconds before measuring")
    parser.add_argument("--users", type=int, default=16, help="Locust users per generator")
    parser.add_argument(
        "--levels",
        type=fractions,
        default="0.5,0.7,0.85",
        help="open-model rates to try, as fractions of the saturated open rate ('' for none)",
    )
    parser.add_argument(
        "--lag-p99-ms", type=positive, default=50.0, help="the lag budget for the levels"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the arrival schedules")
    options = parser.parse_args(argv)
    if options.rounds < 1 or options.users < 1:
        parser.error("--rounds and --users must be at least 1")
    return run(options)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
