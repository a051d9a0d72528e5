"""A real VNPay client library talks to the mock gateway unchanged: the npm `vnpay` package
builds a pay URL the gateway accepts, verifies the gateway's signed return, and signs and
verifies a `querydr` both ways. Needs Node.js and npm (on this project's machines); the package
is installed from the npm registry into a temporary folder."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from app.core.config import Settings
from app.gateway.main import create_gateway_app
from tests.support.servers import free_port, served

LIBRARY = "vnpay@2.5.0"
CLIENT = Path(__file__).parent / "interop" / "vnpay_client.cjs"
INSTALL_SECONDS = 180
RUN_SECONDS = 60

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="needs Node.js and npm",
)


async def _run(*command: str, cwd: Path, seconds: float, env: dict[str, str] | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=seconds)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_the_npm_vnpay_library_pays_and_queries_through_the_gateway(
    gateway_settings: Settings, tmp_path: Path
) -> None:
    await _run(
        "npm", "install", "--silent", "--no-audit", "--no-fund", LIBRARY,
        cwd=tmp_path, seconds=INSTALL_SECONDS,
    )  # fmt: skip
    shutil.copy(CLIENT, tmp_path / CLIENT.name)
    port = free_port()
    async with served(create_gateway_app(gateway_settings), port):
        env = {
            "PATH": str(Path(shutil.which("node") or "node").parent),
            "GATEWAY_URL": f"http://127.0.0.1:{port}",
            "TMN_CODE": gateway_settings.vnpay_tmn_code,
            "HASH_SECRET": gateway_settings.vnpay_hash_secret,
        }
        output = await _run("node", CLIENT.name, cwd=tmp_path, seconds=RUN_SECONDS, env=env)

    assert json.loads(output.strip().splitlines()[-1]) == {
        "payPage": 200,
        "returnVerified": True,
        "returnSuccess": True,
        "queryCode": "00",
        "queryStatus": "00",
        "queryVerified": True,
    }
