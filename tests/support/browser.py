"""A real headless browser for the pages people look at: Debian's `chromium` on PATH, driven by
Playwright (no browser download). Outside CI a machine without Chromium skips with a clear
message; under CI (CI=true, set by .ci/run) a missing browser fails the test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Page, sync_playwright


@dataclass
class Visit:
    page: Page
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "Chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: CI must run the browser tests")
        pytest.skip(message)
    return found


@contextmanager
def visit(url: str, *, width: int = 1100, height: int = 1400) -> Iterator[Visit]:
    """`url` opened in a fresh page; every request, console error and page error recorded."""
    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            seen = Visit(page)
            page.on("request", lambda request: seen.requests.append(request.url))
            page.on(
                "console",
                lambda message: (
                    seen.console_errors.append(message.text) if message.type == "error" else None
                ),
            )
            page.on("pageerror", lambda error: seen.page_errors.append(str(error)))
            page.goto(url, wait_until="load")
            yield seen
        finally:
            browser.close()
