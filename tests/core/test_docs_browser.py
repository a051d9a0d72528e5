"""/docs in a real headless Chromium, served for real on loopback: Swagger UI renders every
operation with no request to any other host (so it works offline) and no script error."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from app.core.config import Settings
from app.main import create_app
from tests.support.browser import Visit, visit
from tests.support.servers import free_port, served

OPERATION = ".swagger-ui .opblock"  # one block per operation


def rendered(url: str) -> tuple[int, Visit]:
    with visit(url) as seen:
        seen.page.wait_for_selector(OPERATION, timeout=15_000)
        return seen.page.locator(OPERATION).count(), seen


async def test_the_documentation_renders_offline(settings: Settings) -> None:
    app = create_app(settings)
    port = free_port()
    async with served(app, port):
        # The browser blocks; the server must go on answering meanwhile.
        drawn, seen = await asyncio.to_thread(rendered, f"http://127.0.0.1:{port}/docs")

    assert drawn == sum(len(item) for item in app.openapi()["paths"].values())
    hosts = {urlsplit(url).netloc for url in seen.requests if not url.startswith("data:")}
    assert hosts == {f"127.0.0.1:{port}"}, seen.requests
    assert seen.console_errors == []
    assert seen.page_errors == []
