"""The README's shell examples run as written, twice in a row, as a newcomer runs them: `bash` in
the project's folder, `uv run` on PATH, servers on the README's ports (8000, 8001), on the
embedded SQLite default (in a temporary folder). The blocks that need `make serve` going get a
portal started as `make serve` starts it; the others start and stop their own servers.

Each block is run with `set -euo pipefail`, so a failed `curl` or `grep` fails it, and its
output must show what the README says it shows. Every block of the README is either run here or
named in NOT_RUN_HERE with the reason and the test that covers it instead, so a new block
cannot slip past unclassified."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.core.config import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
PORTS = (8000, 8001)
BLOCK_TIMEOUT_SECONDS = 120
DOSSIER_CODE = r"\d{3}\.\d{2}\.\d{2}\.H\d{2}-\d{6}-\d{4}"


@dataclass(frozen=True)
class Expected:
    shows: tuple[str, ...]  # regular expressions the block's output must match, each once at least
    needs_portal: bool = False  # the README says "with `make serve` going"


RUN_HERE: dict[tuple[str, int], Expected] = {
    ("Staffing", 0): Expected(
        shows=(
            r"^6 agencies at scale 1, target 85%, in [\d.]+ s$",
            r"^commune: 6 of 6 agencies below 85% on time today \(24 officers, 81\.9%\); "
            r"30 officers reach it \(85\.5%\)$",
            r"staffing-mmc/staffing\.svg$",
        ),
    ),
    ("`results.json` (`portalsim.results/1`)", 0): Expected(
        shows=(
            r"^valid: tests/data/results-sample\.json$",
            r"^valid: tests/data/results-current\.json$",
        ),
    ),
    ("A quick tour with curl", 0): Expected(
        needs_portal=True,
        shows=(
            r'"name": "Đăng ký khai sinh',
            rf"^{DOSSIER_CODE}$",
            r'"filename": "form\.pdf"',
            r'^\{"status":10,"due_at":"[^"]+","finished_at":"[^"]+","timeliness":"(early|on_time)"\}$',
            r'"error": "illegal_transition"',
            r"^5$",  # the rating
            r'^\{"status":"ready"',
            r'portalsim_dossiers\{status="10"\} [1-9]',
        ),
    ),
    ("Fault injection in the portal", 0): Expected(
        shows=(
            r"^200 in 0\.\d+ s$",
            r'^\{"error":"injected_fault"',
            r"^X-Portal-Faults: at character 7: error: probability 2\.0 is outside",
            r'route="/api/v1/fields",status="503"\} [1-9]',
        )
    ),
    ("Status sync: the national contract for back offices", 0): Expected(
        needs_portal=True,
        shows=(
            r'"message": "1 accepted, 1 refused"',
            r'"result": "(created|duplicate)"',
            r'"NgayHenTraBaoCao": "20260305170000"',
            r'"due_disagreements": 1',
        ),
    ),
    ("Decision 766 indicators and the reviewers' dashboard", 0): Expected(
        needs_portal=True,
        shows=(
            r'^\{"name":"Thành phố Hà Nội","total_score":[0-9.]+\}$',
            r'^\{"id":"2\.1","numerator":[0-9.]+,"denominator":[0-9.]+,',
            r'^\{"rank":1,"name":"[^"]+","total_score":[0-9.]+\}$',
            r'^\{"start":"\d{4}-\d{2}-\d{2}","received":\d+,',
            r"^200 text/html; charset=utf-8$",
        ),
    ),
    ("Online payment: the mock VNPay gateway and the portal's side", 0): Expected(
        shows=(r'"verified": true', r'"settled_by": "ipn"', r'"paid_online": 1')
    ),
    ("Online payment: the mock VNPay gateway and the portal's side", 1): Expected(
        shows=(
            r'^\{"status":"pending","settled_by":null\}$',
            r'^\{"confirmed": 1\}$',
            r'^\{"status":"success","settled_by":"reconciliation"\}$',
        )
    ),
}

# Load runs take minutes each, twice: too long for CI. The harness they drive is covered by
# the end-to-end tests named; the rest are run by hand before a release.
NOT_RUN_HERE: dict[tuple[str, int], str] = {
    ("Two commands", 0): "they are CI itself (`make test`) and its end-to-end run (`make run`)",
    (
        "Load runs",
        0,
    ): "runs of 1 to 8 minutes; tests/loadtest/drive/test_run_e2e.py runs the harness",
    (
        "Comparing runs",
        0,
    ): "two 60 s runs; tests/loadtest/drive/test_shapes_e2e.py compares two runs",
    ("Against a portal you started yourself", 0): "a 60 s run; run by hand",
    ("Plain Locust, the web UI, several machines", 0): "two 30 s Locust runs; run by hand",
    ("PostgreSQL", 0): "seeds 3.6 million accounts; CI runs the whole suite on PostgreSQL",
}


@dataclass(frozen=True)
class Block:
    heading: str
    ordinal: int  # among the blocks under the same heading
    script: str

    @property
    def key(self) -> tuple[str, int]:
        return (self.heading, self.ordinal)


def readme_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    heading, seen = "", dict[str, int]()
    lines: list[str] | None = None
    for line in text.splitlines():
        if lines is not None:
            if line.startswith("```"):
                ordinal = seen.get(heading, 0)
                seen[heading] = ordinal + 1
                blocks.append(Block(heading, ordinal, "\n".join(lines) + "\n"))
                lines = None
            else:
                lines.append(line)
        elif match := re.match(r"#{2,4} (.+)", line):
            heading = match.group(1).strip()
        elif line.strip() == "```sh":
            lines = []
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))


def test_every_block_is_run_here_or_says_why_not() -> None:
    keys = [block.key for block in BLOCKS]
    unclassified = [key for key in keys if key not in RUN_HERE and key not in NOT_RUN_HERE]
    assert not unclassified, f"README blocks neither run nor excused: {unclassified}"
    missing = [key for key in [*RUN_HERE, *NOT_RUN_HERE] if key not in keys]
    assert not missing, f"blocks named here that the README no longer has: {missing}"


def _port_taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def newcomer_env(tmp_path: Path) -> dict[str, str]:
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"):
        pytest.skip("the README's examples run on the embedded SQLite default")
    if shutil.which("uv") is None or shutil.which("jq") is None:
        pytest.fail("the README's examples need `uv` and `jq` on PATH")
    taken = [port for port in PORTS if _port_taken(port)]
    if taken:
        message = f"port(s) {taken} in use: the README's examples serve there"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "PORTAL_", "GATEWAY_", "VIRTUAL_ENV"))
    }
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}",
        "DOCUMENT_DIR": str(tmp_path / "documents"),
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
    }
    return env


def _run(script: str, env: dict[str, str]) -> str:
    """The block under `bash -euo pipefail`; its process group is killed afterwards, so servers
    it started in the background never outlive a failed run."""
    process = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=BLOCK_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        output = f"(timed out after {BLOCK_TIMEOUT_SECONDS} s)"
    finally:
        with suppress(ProcessLookupError):  # the group may have ended with the block
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0, f"exit {process.returncode}:\n{output}"
    return output


@pytest.fixture
def portal(newcomer_env: dict[str, str]) -> Iterator[None]:
    """`make serve`'s portal: `uv run portalsim serve` on :8000."""
    server = subprocess.Popen(
        ["uv", "run", "portalsim", "serve"],
        cwd=PROJECT_ROOT,
        env=newcomer_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get("http://127.0.0.1:8000/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.3)
    else:
        server.kill()
        pytest.fail("`uv run portalsim serve` did not become ready within 60 s")
    yield
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


@pytest.mark.parametrize("key", list(RUN_HERE), ids=lambda key: f"{key[0][:30]}-{key[1]}")
def test_the_block_runs_as_written_twice(
    key: tuple[str, int], newcomer_env: dict[str, str], request: pytest.FixtureRequest
) -> None:
    expected = RUN_HERE[key]
    block = next(block for block in BLOCKS if block.key == key)
    if expected.needs_portal:
        request.getfixturevalue("portal")
    for run in (1, 2):
        output = _run(block.script, newcomer_env)
        missing = [p for p in expected.shows if not re.search(p, output, flags=re.MULTILINE)]
        assert not missing, f"run {run} did not show {missing}:\n{output}"
        assert not re.search(r"^null$|Traceback|Internal Server Error", output, re.MULTILINE), (
            f"run {run}:\n{output}"
        )
