"""The portal's hot paths against their raw ceilings, over real HTTP, on PostgreSQL and SQLite.

    uv run python benchmarks/hot_paths.py [--database postgresql|sqlite|both] [--seconds 5]
        [--rounds 3] [--connections 32] [--workers 1] [--server uvicorn|granian]
        [--paths create read ...]

The portal runs as `portalsim serve`, the ceilings as benchmarks/raw_ceiling.py (a minimal
FastAPI app, one statement per request) under the same HTTP server (--server: uvicorn or
granian, as `serve --server` runs them), options and worker count, on the same database. wrk
drives every HTTP path; rounds alternate portal, raw, portal, raw... so that drift on a shared
machine hits both sides, and each path reports the median of its rounds per side and the
ratio of the medians. The sync paths are fixed work (whole 500-item calls) from
this process. Any non-2xx answer, socket error or failed check marks its round: never counted
silently. Loopback only; each wrk run and each sync round is bounded in time. See
benchmarks/README.md for how to read the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
import httpx
import psutil

# raw_ceiling and sync_throughput are siblings, not a package: a script's folder is on sys.path.
import raw_ceiling
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url
from sync_throughput import (
    RECORDS,
    SECRET_KEY,
    STEPS,
    BenchmarkFailed,
    Dossier,
    Portal,
    Procedure,
    Service,
    check_bench_url,
    migrate_and_load,
    prepare_database,
    record,
    schedule,
    server_facts,
    step,
)

from app.cli import DEFAULT_SERVER
from app.core.calendar import calendar_from_settings
from app.core.config import Settings
from app.core.security import agency_key

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/portalsim_hotpaths_bench"
HERE = Path(__file__).resolve().parent
PORTALSIM = Path(sys.executable).parent / "portalsim"
WRK = "wrk"
WARM_UP_SECONDS = 1  # per side and path, before its rounds: caches, pools, statement caches
WRK_TIMEOUT = "10s"  # a request slower than this is a socket error, not a quiet sample
SYNC_BATCH = 500
SYNC_CALLS_CAP = 12  # calls per sender and round: bounds the dossiers prepared in advance
SYNC_ROUND_LIMIT = 4  # × --seconds: a sync round stops sending after that, marked cut short
SYNC_ID_STRIDE = 200_000  # SoDinhDanh numbers of each sender: distinct owners, 6 digits
RAW_PREFILL_ROWS = 20_000
READ_CODES = 2_000  # dossiers the look-up rounds walk through
CITIZEN = {"identifier": "001090000123", "full_name": "Nguyễn Văn An"}
SEARCHES = ("khai sinh", "kết hôn", "dang ky", "giấy phép", "cấp")
PROCEDURE_CODES = 20
SETUP_SECONDS = 20  # migrate, load the catalogue, start two servers (2-core machine)

Side = Literal["portal", "raw"]
Walk = Literal["fixed", "cycle", "once"]
PATHS = (
    "create",
    "read",
    "search",
    "procedure",
    "inbox",
    "transition",
    "sync-records",
    "sync-steps",
)
SYNC_PATHS = ("sync-records", "sync-steps")


@dataclass(frozen=True)
class Target:
    ratio: float | None = None  # portal ÷ raw, at least
    rate: float | None = None  # items/s, at least (PostgreSQL only)
    stretch: float | None = None

    def text(self) -> str:
        if self.ratio is not None:
            return f"≥ {self.ratio:g}×"
        stretch = f" (stretch {self.stretch / 1000:g}k)" if self.stretch else ""
        return f"≥ {self.rate:,.0f}/s{stretch}"


@dataclass(frozen=True)
class PathSpec:
    name: str
    portal: str
    raw: str
    target: Target
    unit: str = "req/s"


SPECS = {
    spec.name: spec
    for spec in (
        PathSpec("create", "POST /api/v1/dossiers", "raw INSERT", Target(ratio=0.5)),
        PathSpec("read", "GET /api/v1/dossiers/{code}", "raw SELECT by key", Target(ratio=0.6)),
        PathSpec("search", "GET /api/v1/procedures?q=", "raw prebuilt JSON", Target(ratio=0.8)),
        PathSpec(
            "procedure", "GET /api/v1/procedures/{code}", "raw prebuilt JSON", Target(ratio=0.8)
        ),
        PathSpec("inbox", "GET /api/v1/agency/dossiers", "raw SELECT page", Target(ratio=0.4)),
        PathSpec("transition", "POST .../transitions (1→2)", "raw UPDATE", Target(ratio=0.4)),
        PathSpec(
            "sync-records",
            "sync DongBoHoSoMC ×500",
            "raw INSERT",
            Target(rate=5_000, stretch=20_000),
            unit="items/s",
        ),
        PathSpec(
            "sync-steps",
            "sync CapNhatTienDoHoSoMC ×500",
            "raw INSERT",
            Target(rate=5_000, stretch=20_000),
            unit="items/s",
        ),
    )
}


@dataclass(frozen=True)
class Options:
    seconds: int
    rounds: int
    connections: int
    threads: int
    workers: int
    server: str  # uvicorn or granian, both sides
    paths: tuple[str, ...]
    pg_url: str
    senders: int


@dataclass(frozen=True)
class Load:
    """What one wrk run sends: a path, or a path per item, with fixed headers and body."""

    method: str
    prefix: str
    suffix: str = ""
    walk: Walk = "fixed"  # cycle: round the items; once: each item once, then the thread stops
    items: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    keyed: bool = False  # a unique Idempotency-Key on every request


@dataclass
class Round:
    side: Side
    number: int  # 0: warm-up or fill, not reported as a measure
    rate: float  # good answers (sync: items) per second
    good: int
    seconds: float
    p50_ms: float
    p99_ms: float
    generator_cpu: float  # % of one core: wrk, or this process for sync
    server_cpu: float  # % of one core, the server of this side (all its workers)
    database_cpu: float  # % of one core, PostgreSQL's backends of this run's database
    sessions: int  # PostgreSQL sessions opened in the round (pg_stat_database)
    other_cpu: float  # % of one core: everything else on the machine (the other server too)
    non_2xx: int = 0
    socket_errors: int = 0
    exhausted: bool = False
    cut_short: bool = False
    used: int = 0
    samples: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.non_2xx or self.socket_errors or self.exhausted or self.problems)

    def verdict(self) -> str:
        parts = []
        if self.non_2xx:
            parts.append(f"{self.non_2xx} non-2xx")
        if self.socket_errors:
            parts.append(f"{self.socket_errors} socket errors")
        if self.exhausted:
            parts.append("ran out of dossiers")
        if self.cut_short:
            parts.append("cut short by the time limit")
        parts.extend(self.problems)
        return "; ".join(parts) or "ok"


@dataclass
class PathResult:
    spec: PathSpec
    rounds: list[Round] = field(default_factory=list)
    warm_ups: list[Round] = field(default_factory=list)

    def side(self, side: Side) -> list[Round]:
        return [r for r in self.rounds if r.side == side]

    def median(self, side: Side, value: Callable[[Round], float]) -> float:
        rounds = self.side(side)
        return statistics.median(value(r) for r in rounds) if rounds else math.nan

    @property
    def failed(self) -> int:
        return sum(r.failed for r in [*self.rounds, *self.warm_ups])

    @property
    def ratio(self) -> float:
        raw = self.median("raw", lambda r: r.rate)
        return self.median("portal", lambda r: r.rate) / raw if raw else math.nan

    def met(self, database: str) -> str:
        if self.failed:
            return f"[red]errors ({self.failed} rounds)[/]"
        target = self.spec.target
        if target.ratio is not None:
            ok = self.ratio >= target.ratio
        elif database != "postgresql":
            return "n/a (PG target)"
        else:
            ok = self.median("portal", lambda r: r.rate) >= (target.rate or 0)
        return "[green]yes[/]" if ok else "[red]no[/]"


# -- processes and their CPU -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def tree_cpu(process: psutil.Process) -> float:
    """CPU seconds of a server and its workers so far."""
    total = 0.0
    for p in [process, *process.children(recursive=True)]:
        try:
            times = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def machine_busy() -> float:
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


class Server:
    """A server process of this run: started in its own session, so that it and its workers
    are stopped together, by its id."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], port: int, log: Path
    ) -> None:
        self.name, self.port, self.log = name, port, log
        self.url = f"http://127.0.0.1:{port}"
        with log.open("wb") as out:
            self.popen = subprocess.Popen(
                argv,
                env=env,
                cwd=log.parent,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.process = psutil.Process(self.popen.pid)

    async def ready(self, path: str, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as client:
            while time.monotonic() < deadline:
                if self.popen.poll() is not None:
                    break
                try:
                    if (await client.get(path)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.25)
        tail = self.log.read_text(errors="replace")[-2000:]
        raise BenchmarkFailed(f"{self.name} did not become ready on {self.url}:\n{tail}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)  # the server's graceful shutdown
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()


@dataclass
class CpuWindow:
    """CPU seconds of each party over one measure; figures as % of one core."""

    servers: dict[Side, Server]
    database: str | None = None  # PostgreSQL: the database whose backends are counted
    started: float = 0.0
    busy: float = 0.0
    own: float = 0.0
    server: dict[Side, float] = field(default_factory=dict)
    backends: dict[int, float] = field(default_factory=dict)

    def database_backends(self) -> dict[int, float]:
        """CPU seconds of the PostgreSQL backends serving this run's database: their process
        titles name it (`postgres: USER DATABASE HOST(PORT) STATE`). A backend that opens and
        closes within a round is missed (PG conns counts them); the postmaster's reaped
        children are no help on a shared server, where other users' backends end there too."""
        if self.database is None:
            return {}
        found: dict[int, float] = {}
        for p in psutil.process_iter(["cmdline", "cpu_times"]):
            title = " ".join(p.info["cmdline"] or ())
            times = p.info["cpu_times"]
            if title.startswith("postgres:") and f" {self.database} " in title and times:
                found[p.pid] = times.user + times.system
        return found

    def open(self) -> None:
        self.server = {side: tree_cpu(s.process) for side, s in self.servers.items()}
        self.backends = self.database_backends()
        self.busy, self.own = machine_busy(), time.process_time()
        self.started = time.perf_counter()

    def close(self, side: Side, generator_seconds: float | None) -> tuple[float, ...]:
        """(generator, this side's server, its database, everything else), in % of one core;
        the database is 0 on SQLite, which works inside the server's process."""
        wall = time.perf_counter() - self.started
        busy = machine_busy() - self.busy
        own = time.process_time() - self.own
        generator = own if generator_seconds is None else generator_seconds
        server = tree_cpu(self.servers[side].process) - self.server[side]
        # A backend that was not there at the start did all its work in the window.
        database = sum(
            cpu - self.backends.get(pid, 0.0) for pid, cpu in self.database_backends().items()
        )
        others = busy - server - database - generator
        if generator_seconds is not None:
            others -= own  # this process waited on wrk, but count what it did all the same

        def pct(seconds: float) -> float:
            return 100 * max(seconds, 0.0) / wall

        return pct(generator), pct(server), pct(database), pct(others)


# -- wrk -------------------------------------------------------------------------------------

LUA = r"""-- Generated by benchmarks/hot_paths.py for one wrk run.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local method = @METHOD@
local prefix = @PREFIX@
local suffix = @SUFFIX@
local walk = @WALK@
local keyed = @KEYED@
local body = @BODY@
local headers = @HEADERS@
local items = {}
local tag, out = "", ""
local sent = 0
local noted, sampled = false, false
bad = 0
used = 0
exhausted = 0

function init(args)
  tag, out = args[1], args[3]
  local nthreads = tonumber(args[2])
  if walk ~= "fixed" then
    local n = 0
    for line in io.lines(args[4]) do
      if n % nthreads == tid - 1 then items[#items + 1] = line end
      n = n + 1
    end
  end
end

local function keep(name, text)
  local f = io.open(out .. "/" .. name .. "-" .. tid, "w")
  f:write(text)
  f:close()
end

function request()
  sent = sent + 1
  local path = prefix
  if walk == "once" then
    local i = sent
    if i > #items then
      -- Out of dossiers: stop this thread; the round is reported as having run out.
      exhausted = 1
      wrk.thread:stop()
      i = #items
    end
    used = i
    path = prefix .. items[i] .. suffix
  elseif walk == "cycle" then
    path = prefix .. items[(sent - 1) % #items + 1] .. suffix
  end
  if keyed then headers["Idempotency-Key"] = tag .. "-" .. tid .. "-" .. sent end
  return wrk.format(method, path, headers, body)
end

function response(status, _, text)
  if status < 200 or status > 299 then
    bad = bad + 1
    if not noted then
      noted = true
      keep("bad", status .. " " .. text)
    end
  elseif not sampled then
    sampled = true
    keep("sample", text)
  end
end

function done(summary, latency, _)
  local b, u, x = 0, 0, 0
  for _, t in ipairs(threads) do
    b = b + t:get("bad")
    u = u + t:get("used")
    x = x + t:get("exhausted")
  end
  local e = summary.errors
  io.write(string.format(
    'HOTPATHS {"requests": %d, "duration_us": %d, "p50_us": %.0f, "p99_us": %.0f, ' ..
    '"non_2xx": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, ' ..
    '"used": %d, "exhausted": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    b, e.connect, e.read, e.write, e.timeout, u, x))
end
"""


def lua_string(text: str) -> str:
    level = 1
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def lua_script(load: Load) -> str:
    headers = ", ".join(f"[ {lua_string(k)} ] = {lua_string(v)}" for k, v in load.headers)
    values = {
        "@METHOD@": lua_string(load.method),
        "@PREFIX@": lua_string(load.prefix),
        "@SUFFIX@": lua_string(load.suffix),
        "@WALK@": lua_string(load.walk),
        "@KEYED@": "true" if load.keyed else "false",
        "@BODY@": "nil" if load.body is None else lua_string(load.body),
        "@HEADERS@": "{" + headers + "}",
    }
    script = LUA
    for token, value in values.items():
        script = script.replace(token, value)
    return script


class Wrk:
    """Runs wrk in a fresh folder per run, and measures its CPU from the kernel's own account."""

    def __init__(self, workdir: Path, options: Options) -> None:
        self.workdir, self.options = workdir, options
        self.runs = 0

    def run(self, url: str, load: Load, seconds: int, connections: int) -> dict[str, Any]:
        self.runs += 1
        folder = self.workdir / f"wrk-{self.runs:04d}"
        folder.mkdir()
        (folder / "load.lua").write_text(lua_script(load))
        (folder / "items.txt").write_text("".join(f"{item}\n" for item in load.items))
        threads = min(self.options.threads, connections)
        argv = [
            WRK,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            f"--timeout={WRK_TIMEOUT}",
            "-s",
            str(folder / "load.lua"),
            url,
            "--",
            f"r{self.runs}",  # keys and tags unique across the whole run
            str(threads),
            str(folder),
            str(folder / "items.txt"),
        ]
        with (folder / "stdout").open("wb") as out:
            popen = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        # wait4 gives the CPU wrk used, all threads, with nothing sampled or missed.
        _, status, usage = os.wait4(popen.pid, 0)
        popen.returncode = os.waitstatus_to_exitcode(status)
        text = (folder / "stdout").read_text(errors="replace")
        lines = [line for line in text.splitlines() if line.startswith("HOTPATHS ")]
        if popen.returncode != 0 or not lines:
            raise BenchmarkFailed(f"wrk failed ({popen.returncode}): {text[-1500:]}")
        result: dict[str, Any] = json.loads(lines[-1].removeprefix("HOTPATHS "))
        result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
        result["samples"] = [p.read_text(errors="replace") for p in folder.glob("sample-*")]
        result["bad"] = [p.read_text(errors="replace")[:300] for p in folder.glob("bad-*")]
        return result


# -- the run on one database -----------------------------------------------------------------


@dataclass
class Context:
    """Everything a path's rounds need, set up once per database."""

    database: str
    options: Options
    settings: Settings
    portal: Server
    raw: Server
    client: httpx.AsyncClient
    wrk: Wrk
    cpu: CpuWindow
    agency: str
    procedure: Procedure
    token: str
    key: str
    searches: tuple[str, ...]
    procedure_codes: tuple[str, ...]
    checks: list[str] = field(default_factory=list)
    monitor: Any = None  # PostgreSQL: one connection, kept open, that reads pg_stat_database
    create_rate: float = 0.0  # the portal's, once measured: sizes the dossier fills
    created_ok: int = 0  # 2xx answers of POST /api/v1/dossiers over the whole run

    @property
    def citizen(self) -> tuple[tuple[str, str], ...]:
        return (("Authorization", f"Bearer {self.token}"), ("Content-Type", "application/json"))

    @property
    def back_office(self) -> tuple[tuple[str, str], ...]:
        return (("X-Agency-Key", self.key), ("Content-Type", "application/json"))

    def create_load(self, side: Side) -> Load:
        body = json.dumps({"procedure_code": self.procedure.code, "agency_code": self.agency})
        prefix = "/api/v1/dossiers" if side == "portal" else "/raw/rows"
        return Load("POST", prefix, headers=self.citizen, body=body, keyed=True)

    async def get_json(self, path: str, **kwargs: Any) -> Any:
        response = await self.client.get(path, **kwargs)
        if response.status_code != 200:
            raise BenchmarkFailed(f"GET {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    async def codes(self, status: int | None, limit: int, *, citizen: bool = False) -> list[str]:
        """Up to `limit` of the agency's online dossiers (or the citizen's), oldest first."""
        found: list[str] = []
        page = 1
        while len(found) < limit:
            params: dict[str, Any] = {"page": page, "size": 200}
            if status is not None:
                params["status"] = status
            if citizen:
                headers = {"Authorization": f"Bearer {self.token}"}
                body = await self.get_json("/api/v1/dossiers", params=params, headers=headers)
            else:
                headers = {"X-Agency-Key": self.key}
                body = await self.get_json(
                    "/api/v1/agency/dossiers", params=params, headers=headers
                )
            found += [item["code"] for item in body["items"]]
            if len(body["items"]) < 200:
                break
            page += 1
        return found[:limit]

    async def total(self, status: int | None = None) -> int:
        params: dict[str, Any] = {"size": 1}
        if status is not None:
            params["status"] = status
        body = await self.get_json(
            "/api/v1/agency/dossiers", params=params, headers={"X-Agency-Key": self.key}
        )
        return int(body["total"])

    async def sessions(self) -> int:
        if self.monitor is None:
            return 0
        found = await self.monitor.fetchval(
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        )
        return int(found)

    async def wrk_round(
        self, side: Side, number: int, load: Load, seconds: int | None = None
    ) -> Round:
        server = self.portal if side == "portal" else self.raw
        sessions = await self.sessions()
        self.cpu.open()
        result = await asyncio.to_thread(
            self.wrk.run,
            server.url,
            load,
            seconds or self.options.seconds,
            self.options.connections,
        )
        generator, server_cpu, database_cpu, other = self.cpu.close(side, result["cpu_seconds"])
        sessions = await self.sessions() - sessions
        seconds_run = result["duration_us"] / 1e6
        good = result["requests"] - result["non_2xx"]
        done = Round(
            side=side,
            number=number,
            rate=good / seconds_run if seconds_run else 0.0,
            good=good,
            seconds=seconds_run,
            p50_ms=result["p50_us"] / 1000,
            p99_ms=result["p99_us"] / 1000,
            generator_cpu=generator,
            server_cpu=server_cpu,
            database_cpu=database_cpu,
            sessions=sessions,
            other_cpu=other,
            non_2xx=result["non_2xx"],
            socket_errors=sum(result[k] for k in ("connect", "read", "write", "timeout")),
            exhausted=bool(result["exhausted"]),
            used=result["used"],
            samples=result["samples"],
        )
        if result["bad"]:
            done.problems.append(f"first bad answer: {result['bad'][0]}")
        if not done.samples and good:
            done.problems.append("no sample answer kept")
        if load.prefix == "/api/v1/dossiers" and load.method == "POST":
            self.created_ok += good
        return done

    async def fill(self, needed: int) -> None:
        """Submit dossiers (untimed, not reported) until `needed` wait at status 1."""
        for _ in range(6):
            waiting = await self.total(status=1)
            if waiting >= needed:
                return
            rate = self.create_rate or 100.0
            seconds = min(60, max(1, math.ceil((needed - waiting) / rate * 1.3)))
            filled = await self.wrk_round("portal", 0, self.create_load("portal"), seconds)
            if filled.failed:
                raise BenchmarkFailed(f"submitting dossiers to fill the pool: {filled.verdict()}")
            self.create_rate = self.create_rate or filled.rate
        raise BenchmarkFailed(f"could not get {needed} dossiers at status 1")


def sample_problem(ctx: Context, name: str, side: Side, text: str) -> str | None:
    """What is wrong with one kept answer, or None."""
    try:
        body = json.loads(text)
    except ValueError:
        return f"sample is not JSON: {text[:200]}"
    if not isinstance(body, dict):
        return f"sample is not an object: {text[:200]}"
    if side == "raw":
        return None if body else "empty raw answer"
    expected: dict[str, Callable[[dict[str, Any]], bool]] = {
        "create": lambda b: b.get("status") == 1 and b.get("agency_code") == ctx.agency,
        "read": lambda b: b.get("status") in (1, 2) and b.get("agency_code") == ctx.agency,
        "search": lambda b: b.get("total", 0) >= 1 and bool(b.get("items")),
        "procedure": lambda b: b.get("code") in ctx.procedure_codes,
        "inbox": lambda b: b.get("total", 0) >= 1 and bool(b.get("items")),
        "transition": lambda b: b.get("status") == 2 and b.get("due_at") is not None,
    }
    return None if expected[name](body) else f"unexpected answer: {text[:300]}"


async def check_samples(ctx: Context, name: str, done: Round) -> None:
    for text in done.samples:
        problem = sample_problem(ctx, name, done.side, text)
        if problem:
            done.problems.append(problem)
        elif name == "create" and done.side == "portal":
            # What was created can be read back by its owner.
            code = json.loads(text)["code"]
            got = await ctx.client.get(
                f"/api/v1/dossiers/{code}", headers={"Authorization": f"Bearer {ctx.token}"}
            )
            if got.status_code != 200 or got.json().get("code") != code:
                done.problems.append(f"created {code} reads back as {got.status_code}")


async def http_path(ctx: Context, name: str) -> PathResult:
    """Warm-up on both sides, then portal and raw rounds in turn."""
    result = PathResult(SPECS[name])
    options = ctx.options
    loads = await http_loads(ctx, name)
    if name == "inbox":
        total = await ctx.total()
        payload = json.dumps(
            (await ctx.get_json("/api/v1/agency/dossiers", headers={"X-Agency-Key": ctx.key}))[
                "items"
            ][0]
        )
        # The raw page is read from a table as long as the inbox it stands for.
        await raw_ceiling.fill_inbox(ctx.settings.database_url, payload, total)
        ctx.checks.append(f"inbox: {total:,} dossiers in the agency's inbox and its raw table")
    before = await ctx.total()
    accepted_before = await ctx.total(status=2)
    for number in range(options.rounds + 1):
        for side in ("portal", "raw"):
            load = loads[side]
            if name == "transition" and side == "portal":
                load = await transition_load(ctx, result, load, number)
            seconds = WARM_UP_SECONDS if number == 0 else options.seconds
            done = await ctx.wrk_round(side, number, load, seconds)
            await check_samples(ctx, name, done)
            (result.warm_ups if number == 0 else result.rounds).append(done)
        if name == "create" and number >= 1:
            ctx.create_rate = result.median("portal", lambda r: r.rate)
    if name == "create":
        await count_check(ctx, result, before, await ctx.total(), "submitted", "dossiers")
    if name == "transition":
        accepted = await ctx.total(status=2) - accepted_before
        await count_check(ctx, result, 0, accepted, "accepted", "dossiers at status 2")
    return result


async def count_check(
    ctx: Context, result: PathResult, before: int, after: int, verb: str, what: str
) -> None:
    """Writes the database holds against 2xx answers wrk counted; requests still in flight
    when a run stops (at most one per connection) may be written without being counted."""
    answered = sum(r.good for r in [*result.rounds, *result.warm_ups] if r.side == "portal")
    runs = len([r for r in [*result.rounds, *result.warm_ups] if r.side == "portal"])
    slack = runs * ctx.options.connections
    written = after - before
    line = f"{result.spec.name}: {written:,} {what} for {answered:,} 2xx answers"
    if not answered <= written <= answered + slack:
        result.rounds[0].problems.append(f"count check failed: {line}")
        ctx.checks.append(f"[red]{line}: outside [{answered:,}, {answered + slack:,}][/]")
    else:
        ctx.checks.append(f"{line} ({verb} while wrk stopped: {written - answered})")


async def transition_load(ctx: Context, result: PathResult, load: Load, number: int) -> Load:
    """Distinct dossiers at status 1, enough for this round at the fastest rate seen so far,
    and at least thrice the submission rate (an acceptance is a lighter write: 2 to 4 times as
    fast in the first runs), and 40 % more: each wrk thread walks its own share of them."""
    seen = [r.rate for r in [*result.rounds, *result.warm_ups] if r.side == "portal"]
    rate = max([*seen, 3 * (ctx.create_rate or 150.0)])
    seconds = WARM_UP_SECONDS if number == 0 else ctx.options.seconds
    needed = math.ceil(rate * seconds * 1.4) + 4 * ctx.options.connections
    await ctx.fill(needed)
    codes = await ctx.codes(status=1, limit=needed)
    return replace(load, items=tuple(codes))


async def http_loads(ctx: Context, name: str) -> dict[Side, Load]:
    if name == "create":
        return {"portal": ctx.create_load("portal"), "raw": ctx.create_load("raw")}
    if name == "read":
        await ctx.fill(200)
        codes = tuple(await ctx.codes(status=None, limit=READ_CODES, citizen=True))
        ids = tuple(str(n) for n in range(1, min(len(codes), RAW_PREFILL_ROWS) + 1))
        return {
            "portal": Load(
                "GET", "/api/v1/dossiers/", walk="cycle", items=codes, headers=ctx.citizen
            ),
            "raw": Load("GET", "/raw/rows/", walk="cycle", items=ids, headers=ctx.citizen),
        }
    if name == "search":
        queries = tuple(quote(q) for q in ctx.searches)
        return {
            "portal": Load("GET", "/api/v1/procedures?q=", walk="cycle", items=queries),
            "raw": Load("GET", "/raw/procedures?q=", walk="cycle", items=queries),
        }
    if name == "procedure":
        return {
            "portal": Load("GET", "/api/v1/procedures/", walk="cycle", items=ctx.procedure_codes),
            "raw": Load("GET", "/raw/procedures/", walk="cycle", items=ctx.procedure_codes),
        }
    if name == "inbox":
        await ctx.fill(1)
        return {
            "portal": Load("GET", "/api/v1/agency/dossiers", headers=ctx.back_office),
            "raw": Load("GET", "/raw/inbox", headers=ctx.back_office),
        }
    assert name == "transition"
    body = json.dumps({"to_status": 2})
    ids = tuple(str(n) for n in range(1, RAW_PREFILL_ROWS + 1))
    return {
        # Its codes are drawn before each round: only dossiers still at status 1.
        "portal": Load(
            "POST",
            "/api/v1/agency/dossiers/",
            "/transitions",
            walk="once",
            headers=ctx.back_office,
            body=body,
        ),
        "raw": Load(
            "POST",
            "/raw/rows/",
            "/status",
            walk="cycle",
            items=ids,
            headers=ctx.back_office,
            body=body,
        ),
    }


# -- the sync contract -----------------------------------------------------------------------


@dataclass
class Sender:
    """One back office: its own agency, session and dossiers, calls one after another."""

    portal: Portal
    dossiers: list[Dossier]
    synced: list[Dossier] = field(default_factory=list)  # records the portal accepted


async def sync_senders(ctx: Context) -> list[Sender]:
    """`--sync-senders` commune agencies that receive the procedure, each logged in."""
    found = await ctx.get_json(
        "/api/v1/agencies", params={"procedure": ctx.procedure.code, "size": 200}
    )
    agencies = [
        a["code"]
        for a in found["items"]
        if a["level"] == "commune" and ctx.procedure.field in a["field_codes"]
    ]
    if len(agencies) < ctx.options.senders:
        raise BenchmarkFailed(f"only {len(agencies)} agencies receive {ctx.procedure.code}")
    calendar = calendar_from_settings(ctx.settings)
    count = SYNC_BATCH * (1 + ctx.options.rounds * SYNC_CALLS_CAP)
    senders = []
    for k, agency in enumerate(agencies[: ctx.options.senders]):
        portal = Portal(ctx.client, ctx.settings)
        await portal.log_in(agency)
        planned = [
            replace(d, number=d.number + k * SYNC_ID_STRIDE)
            for d in schedule(calendar, agency, ctx.procedure, count)
        ]
        senders.append(Sender(portal, planned))
    return senders


async def sync_round(
    ctx: Context,
    senders: list[Sender],
    service: Service,
    calls: list[list[list[Dossier]]],
    number: int,
) -> Round:
    """Every sender sends its calls in turn, all senders at once; items/s from the first call
    to the last answer. Bodies are encoded before the clock starts."""
    bodies = []
    for sender, batches in zip(senders, calls, strict=True):
        portal = sender.portal
        bodies.append(
            [
                (
                    portal.body(
                        service,
                        [
                            record(portal.agency, ctx.procedure, d)
                            if service == RECORDS
                            else step(d)
                            for d in batch
                        ],
                    ),
                    batch,
                )
                for batch in batches
            ]
        )
    latencies: list[float] = []
    problems: list[str] = []
    good = 0
    cut = False
    # The warm-up sizes the rounds, so it has no round to be measured against: a minute.
    limit = 60 if number == 0 else ctx.options.seconds * SYNC_ROUND_LIMIT

    async def send(sender: Sender, queue: list[tuple[bytes, list[Dossier]]]) -> None:
        nonlocal good, cut
        for body, batch in queue:
            if time.perf_counter() - start > limit:
                cut = True
                return
            began = time.perf_counter()
            try:
                await sender.portal.sync(service, body, [d.code for d in batch])
            except (BenchmarkFailed, httpx.HTTPError) as failure:
                problems.append(f"{sender.portal.agency}: {str(failure)[:300]}")
                continue
            latencies.append(time.perf_counter() - began)
            good += len(batch)
            if service == RECORDS:
                sender.synced.extend(batch)

    sessions = await ctx.sessions()
    ctx.cpu.open()
    start = time.perf_counter()
    await asyncio.gather(*(send(s, q) for s, q in zip(senders, bodies, strict=True)))
    seconds = time.perf_counter() - start
    generator, server_cpu, database_cpu, other = ctx.cpu.close("portal", None)
    sessions = await ctx.sessions() - sessions
    ordered = sorted(latencies) or [math.nan]
    return Round(
        side="portal",
        number=number,
        rate=good / seconds,
        good=good,
        seconds=seconds,
        p50_ms=1000 * statistics.median(ordered),
        p99_ms=1000 * ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)],
        generator_cpu=generator,
        server_cpu=server_cpu,
        database_cpu=database_cpu,
        sessions=sessions,
        other_cpu=other,
        cut_short=cut,
        problems=problems,
    )


def batches(dossiers: Sequence[Dossier], calls: int) -> list[list[Dossier]]:
    return [list(dossiers[k * SYNC_BATCH : (k + 1) * SYNC_BATCH]) for k in range(calls)]


async def sync_path(ctx: Context, name: str, senders: list[Sender]) -> PathResult:
    """Records: one warm-up call per sender sizes the rounds (about --seconds each); steps:
    one step for each dossier the records rounds created, as many calls per round."""
    result = PathResult(SPECS[name])
    service: Service = RECORDS if name == "sync-records" else STEPS
    options = ctx.options
    raw_load = ctx.create_load("raw")
    if service == RECORDS:
        warm = [batches(s.dossiers, 1) for s in senders]
    else:
        warm = [batches(s.synced, 1) for s in senders]
    for number in range(options.rounds + 1):
        if number == 0:
            plan = warm
        elif service == RECORDS:
            if number == 1:
                rate = max(result.warm_ups[0].rate, 1.0)
                per_sender = rate * options.seconds / SYNC_BATCH / len(senders)
                calls = min(SYNC_CALLS_CAP, max(1, round(per_sender)))
            first = SYNC_BATCH * (1 + (number - 1) * calls)
            plan = [batches(s.dossiers[first:], calls) for s in senders]
        else:
            # The dossiers the records rounds created, after the warm-up's, in equal shares.
            share = (min(len(s.synced) for s in senders) - SYNC_BATCH) // SYNC_BATCH
            calls = max(1, share // options.rounds)
            first = SYNC_BATCH * (1 + (number - 1) * calls)
            plan = [batches(s.synced[first:], calls) for s in senders]
        if not all(plan) or not all(all(b) for b in plan):
            raise BenchmarkFailed(f"{name}: no dossiers left to send in round {number}")
        done = await sync_round(ctx, senders, service, plan, number)
        (result.warm_ups if number == 0 else result.rounds).append(done)
        seconds = WARM_UP_SECONDS if number == 0 else options.seconds
        raw = await ctx.wrk_round("raw", number, raw_load, seconds)
        await check_samples(ctx, "create", raw)
        (result.warm_ups if number == 0 else result.rounds).append(raw)
    sent = sum(r.good for r in [*result.rounds, *result.warm_ups] if r.side == "portal")
    ctx.checks.append(
        f"{name}: {sent:,} items answered as {'created' if service == RECORDS else 'applied'} "
        f"(status {4 if service == RECORDS else 9}), every reply checked item by item"
    )
    return result


# -- set-up ----------------------------------------------------------------------------------


def server_env(settings: Settings, port: int, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"CLOCK_ANCHOR", "CLOCK_START"}}
    env |= {
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key,
        "DOCUMENT_DIR": str(settings.document_dir),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "CLOCK_MODE": "real",
        "PORTAL_FAULTS_ENABLED": "false",
        "PORTAL_FAULTS": "",
        **extra,
    }
    return env


async def catalogue_answers(
    client: httpx.AsyncClient,
) -> tuple[tuple[str, ...], tuple[str, ...], dict[str, Any]]:
    """Search terms that find something, procedure codes, and the portal's answers to both,
    which the raw app serves prebuilt."""
    search: dict[str, Any] = {}
    for q in SEARCHES:
        body = (await client.get("/api/v1/procedures", params={"q": q})).json()
        if body.get("total", 0) >= 1:
            search[q] = body
    if not search:
        raise BenchmarkFailed(f"none of the searches {SEARCHES} finds a procedure")
    listed = (await client.get("/api/v1/procedures", params={"size": PROCEDURE_CODES})).json()
    procedures = {
        p["code"]: (await client.get(f"/api/v1/procedures/{p['code']}")).json()
        for p in listed["items"]
    }
    return tuple(search), tuple(procedures), {"search": search, "procedures": procedures}


async def run_database(
    database: str, options: Options, console: Console
) -> tuple[list[PathResult], list[str], list[str]]:
    """Set up, run every chosen path, tear down: (results, facts, checks)."""
    results: list[PathResult] = []
    with tempfile.TemporaryDirectory(prefix=f"portalsim-hotpaths-{database}-") as tmp:
        workdir = Path(tmp)
        url = options.pg_url if database == "postgresql" else f"sqlite:///{workdir / 'portal.db'}"
        (workdir / "documents").mkdir()
        settings = Settings(
            database_url=url,
            secret_key=SECRET_KEY,
            document_dir=workdir / "documents",
            _env_file=None,
        )
        console.print(f"[bold]{database}[/]: preparing the database (empty, migrate, catalogue)")
        if database == "postgresql":
            await prepare_database(settings)
            facts = [await server_facts(url)]
        else:
            await migrate_and_load(settings)
            facts = [f"SQLite {sqlite3.sqlite_version} (WAL, synchronous NORMAL), a temp file"]
        portal_port, raw_port = free_port(), free_port()
        workers = str(options.workers)
        portal = Server(
            "portal",
            [
                str(PORTALSIM),
                "serve",
                "--no-migrate",
                "--workers",
                workers,
                "--server",
                options.server,
                "--port",
                str(portal_port),
            ],
            server_env(settings, portal_port, {}),
            portal_port,
            workdir / "portal.log",
        )
        raw: Server | None = None
        ctx: Context | None = None
        try:
            await portal.ready("/readyz")
            async with httpx.AsyncClient(base_url=portal.url, timeout=120) as client:
                ctx, payloads = await set_up(database, options, settings, portal, client, workdir)
                payload_file = workdir / "payloads.json"
                payload_file.write_text(json.dumps(payloads))
                raw = Server(
                    "raw ceiling",
                    [
                        sys.executable,
                        str(HERE / "raw_ceiling.py"),
                        "--workers",
                        workers,
                        "--server",
                        options.server,
                        "--port",
                        str(raw_port),
                    ],
                    server_env(settings, raw_port, {"RAW_PAYLOADS": str(payload_file)}),
                    raw_port,
                    workdir / "raw.log",
                )
                await raw.ready("/healthz")
                ctx.raw = raw
                if database == "postgresql":
                    ctx.monitor = await asyncpg.connect(url)
                ctx.cpu = CpuWindow(
                    {"portal": portal, "raw": raw},
                    make_url(url).database if database == "postgresql" else None,
                )
                facts.append(
                    f"agency {ctx.agency}, procedure {ctx.procedure.code} "
                    f"({ctx.procedure.field}); searches {', '.join(ctx.searches)}"
                )
                senders: list[Sender] = []
                for name in options.paths:
                    console.print(f"  {database}: {name}")
                    if name in SYNC_PATHS:
                        if not senders:
                            senders = await sync_senders(ctx)
                        if name == "sync-steps" and not senders[0].synced:
                            await sync_path(ctx, "sync-records", senders)  # steps need records
                        results.append(await sync_path(ctx, name, senders))
                    else:
                        results.append(await http_path(ctx, name))
                    if ctx.monitor is not None:
                        ctx.checks.append(session_line(results[-1]))
                ctx.checks.append(f"portal log: {log_problems(portal.log)}")
                checks = ctx.checks
        finally:
            if ctx is not None and ctx.monitor is not None:
                await ctx.monitor.close()
            portal.stop()
            if raw is not None:
                raw.stop()
            await raw_ceiling.drop_scratch(url)
    return results, facts, checks


def session_line(result: PathResult) -> str:
    """New PostgreSQL sessions in the measured rounds: a pool that keeps its connections opens
    none; one that closes connections beyond its size under load opens some per second."""
    parts = []
    for side in ("portal", "raw"):
        rounds = result.side(side)
        opened = sum(r.sessions for r in rounds)
        seconds = sum(r.seconds for r in rounds) or 1.0
        parts.append(f"{side} {opened:,} ({opened / seconds:,.0f}/s)")
    return f"{result.spec.name}: new PostgreSQL sessions in the rounds: {', '.join(parts)}"


def log_problems(log: Path) -> str:
    """Tracebacks or errors the portal logged: a 2xx-only run should have none."""
    text = log.read_text(errors="replace")
    tracebacks = text.count("Traceback")
    errors = sum(1 for line in text.splitlines() if line.startswith("ERROR"))
    return (
        "clean" if not (tracebacks or errors) else f"{tracebacks} tracebacks, {errors} ERROR lines"
    )


async def set_up(
    database: str,
    options: Options,
    settings: Settings,
    portal: Server,
    client: httpx.AsyncClient,
    workdir: Path,
) -> tuple[Context, dict[str, Any]]:
    agency, procedure = await Portal(client, settings).pick()
    login = await client.post("/api/v1/auth/citizen-login", json=CITIZEN)
    if login.status_code != 200:
        raise BenchmarkFailed(f"citizen log-in: {login.status_code} {login.text}")
    token = login.json()["access_token"]
    searches, codes, payloads = await catalogue_answers(client)
    # One dossier shown as the portal shows it: the raw rows carry as much.
    probe = await client.post(
        "/api/v1/dossiers",
        json={"procedure_code": procedure.code, "agency_code": agency},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "hot-paths-probe"},
    )
    if probe.status_code != 201:
        raise BenchmarkFailed(f"submitting a dossier: {probe.status_code} {probe.text}")
    await raw_ceiling.prepare_scratch(settings.database_url, probe.text, RAW_PREFILL_ROWS)
    ctx = Context(
        database=database,
        options=options,
        settings=settings,
        portal=portal,
        raw=portal,  # replaced once the raw server is up
        client=client,
        wrk=Wrk(workdir, options),
        cpu=CpuWindow({}),
        agency=agency,
        procedure=procedure,
        token=token,
        key=agency_key(settings, agency),
        searches=searches,
        procedure_codes=codes,
    )
    return ctx, payloads


# -- the report ------------------------------------------------------------------------------


def latencies(result: PathResult, side: Side) -> str:
    p50 = result.median(side, lambda x: x.p50_ms)
    p99 = result.median(side, lambda x: x.p99_ms)
    return f"{p50:,.1f}/{p99:,.1f}"


def cpu(result: PathResult, side: Side, attribute: str) -> str:
    return f"{result.median(side, lambda x: float(getattr(x, attribute))):.0f}%"


def rate_text(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.0f}"


def report(
    console: Console,
    database: str,
    results: Sequence[PathResult],
    facts: Sequence[str],
    checks: Sequence[str],
    options: Options,
) -> None:
    console.print()
    for line in facts:
        console.print(line)
    table = Table(
        title=f"Hot paths on {database}: medians of {options.rounds} rounds per side, "
        f"{options.seconds} s each, {options.connections} connections, "
        f"{options.workers} worker(s) of {options.server}"
    )
    for column in (
        "path",
        "portal",
        "raw ceiling",
        "raw req/s",
        "ratio",
        "target",
        "met?",
        "p50/p99 ms portal",
        "p50/p99 ms raw",
        "gen CPU p/r",
        "server CPU p/r",
        "PG CPU p/r",
    ):
        table.add_column(
            column,
            justify="left" if column in {"path", "raw ceiling", "met?"} else "right",
            no_wrap=True,
        )
    for r in results:
        table.add_row(
            r.spec.portal,
            f"{rate_text(r.median('portal', lambda x: x.rate))} {r.spec.unit}",
            r.spec.raw,
            rate_text(r.median("raw", lambda x: x.rate)),
            f"{r.ratio:.2f}",
            r.spec.target.text(),
            r.met(database),
            latencies(r, "portal"),
            latencies(r, "raw"),
            f"{cpu(r, 'portal', 'generator_cpu')}/{cpu(r, 'raw', 'generator_cpu')}",
            f"{cpu(r, 'portal', 'server_cpu')}/{cpu(r, 'raw', 'server_cpu')}",
            f"{cpu(r, 'portal', 'database_cpu')}/{cpu(r, 'raw', 'database_cpu')}"
            if database == "postgresql"
            else "-",
        )
    console.print(table)
    rounds = Table(title=f"Every round on {database} (0 = warm-up, not in the medians)")
    for column in (
        "path",
        "side",
        "round",
        "rate",
        "good",
        "s",
        "p50 ms",
        "p99 ms",
        "gen CPU",
        "server CPU",
        "PG CPU",
        "PG conns",
        "other CPU",
        "verdict",
    ):
        rounds.add_column(
            column,
            justify="left" if column in {"path", "side", "verdict"} else "right",
            no_wrap=column != "verdict",
        )
    for r in results:
        for done in sorted([*r.warm_ups, *r.rounds], key=lambda x: x.number):
            rounds.add_row(
                r.spec.name,
                done.side,
                str(done.number),
                rate_text(done.rate),
                f"{done.good:,}",
                f"{done.seconds:.1f}",
                f"{done.p50_ms:,.1f}",
                f"{done.p99_ms:,.1f}",
                f"{done.generator_cpu:.0f}%",
                f"{done.server_cpu:.0f}%",
                f"{done.database_cpu:.0f}%" if database == "postgresql" else "-",
                f"{done.sessions:,}" if database == "postgresql" else "-",
                f"{done.other_cpu:.0f}%",
                done.verdict() if done.failed or done.cut_short else "ok",
            )
    console.print(rounds)
    console.print("Checks:")
    for line in checks:
        console.print(f"  {line}")
    console.print(
        "CPU in % of one core, of "
        f"{os.cpu_count()}: gen = the load generator (wrk's own, from wait4; this process's "
        "for the sync paths); server = the side's server process and workers; PG = the "
        "PostgreSQL backends of this run's database alive at the round's end (PG conns: "
        "sessions opened in the round, whose CPU is missed if they closed in it); other = the "
        "rest of the machine (the idle server, other users). gen far below 100% per wrk "
        "thread: wrk was not the limit."
    )


def expected_seconds(options: Options) -> float:
    per_side = options.rounds * options.seconds + WARM_UP_SECONDS
    http = sum(2 * per_side + options.rounds + 1 for p in options.paths if p not in SYNC_PATHS)
    sync = sum(2 * per_side + 5 for p in options.paths if p in SYNC_PATHS)
    # Dossiers to accept: about 2 × a round's length of submissions per transition round.
    fills = 2 * options.seconds * options.rounds if "transition" in options.paths else 0
    return SETUP_SECONDS + http + sync + fills


def arguments(argv: Sequence[str] | None = None) -> tuple[Options, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument("--database-url", default=DEFAULT_PG_URL, help="the PostgreSQL database")
    parser.add_argument("--seconds", type=int, default=5, help="length of each round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per side and path")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=1, help="worker processes, both sides")
    parser.add_argument(
        "--server",
        choices=("uvicorn", "granian"),
        default=DEFAULT_SERVER,
        help="the HTTP server of both sides (default: `portalsim serve`'s)",
    )
    parser.add_argument("--sync-senders", type=int, default=2, help="back offices syncing at once")
    parser.add_argument("--paths", nargs="+", choices=PATHS, default=list(PATHS))
    args = parser.parse_args(argv)
    check_bench_url(parser, args.database_url)
    if make_url(args.database_url).host not in {"127.0.0.1", "localhost", "::1"}:
        parser.error("--database-url: the benchmark runs on loopback only")
    if not 1 <= args.seconds <= 60 or not 1 <= args.rounds <= 10:
        parser.error("--seconds is from 1 to 60, --rounds from 1 to 10")
    if not 1 <= args.threads <= args.connections <= 1000:
        parser.error("--connections is from --threads to 1000")
    if not 1 <= args.workers <= 8 or not 1 <= args.sync_senders <= 4:
        parser.error("--workers is from 1 to 8, --sync-senders from 1 to 4")
    paths = tuple(p for p in PATHS if p in args.paths)  # the order of dependencies
    options = Options(
        seconds=args.seconds,
        rounds=args.rounds,
        connections=args.connections,
        threads=args.threads,
        workers=args.workers,
        server=args.server,
        paths=paths,
        pg_url=args.database_url,
        senders=args.sync_senders,
    )
    databases = ["postgresql", "sqlite"] if args.database == "both" else [args.database]
    return options, databases


@contextmanager
def more_open_files() -> Iterator[None]:
    # wrk and the servers each hold a socket per connection; the soft limit can be 1024.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def main(options: Options, databases: list[str]) -> None:
    # SIGTERM (and SIGINT where a shell left it ignored) cancel the run, so that the finally
    # blocks stop both servers and drop the scratch tables.
    task, loop = asyncio.current_task(), asyncio.get_running_loop()
    assert task is not None

    def stop() -> None:
        # Once: a second signal must not cancel the clean-up itself.
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(number)
        task.cancel()

    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop)
    # Piped output gets a fixed width wide enough for both tables: nothing cut.
    console = Console(width=None if sys.stdout.isatty() else 240)
    estimate = expected_seconds(options) * len(databases)
    started = time.monotonic()
    console.print(
        f"{date.today():%Y-%m-%d}, {os.cpu_count()} CPUs, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, Python {sys.version.split()[0]}; "
        f"paths {', '.join(options.paths)} on {', '.join(databases)}: expect about "
        f"{estimate / 60:.0f} min ({estimate:.0f} s)"
    )
    for database in databases:
        results, facts, checks = await run_database(database, options, console)
        report(console, database, results, facts, checks, options)
    console.print(f"Took {time.monotonic() - started:.0f} s (expected {estimate:.0f} s).")


if __name__ == "__main__":
    chosen, on = arguments()
    try:
        with more_open_files():
            asyncio.run(main(chosen, on))
    except BenchmarkFailed as failure:
        Console(stderr=True).print(f"[bold red]Benchmark aborted:[/] {failure}")
        sys.exit(1)
    except asyncio.CancelledError:
        Console(stderr=True).print("[bold red]Benchmark stopped by a signal[/]")
        sys.exit(130)
