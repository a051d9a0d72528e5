"""The harness's state in a Locust process, shared by the event hooks (harness.py), the users and
the shape: `this_process`, the part every process plays (its partition's simulation, the run's
description, the portal's secret), and `current_run`, the run as the master (or the only
process) sees it: its world, the measurements merged from every process, the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gevent.event import Event

from app.core.config import Settings
from loadtest.drive.description import RunDescription
from loadtest.drive.engine import Simulation
from loadtest.drive.target import TargetWatch
from loadtest.judge.audit import LedgerRecord
from loadtest.judge.headroom import UNKNOWN
from loadtest.metrics import Book
from loadtest.model.access import agency_headers, sync_login_body
from loadtest.model.world import World
from loadtest.results_model import Step, Stop

READY_TIMEOUT_SECONDS = 60.0


@dataclass
class ThisProcess:
    """What this process needs to play its part: set by the init hook (the settings) and when
    the world arrives (the description and the simulation of this process's partition)."""

    description: RunDescription | None = None
    simulation: Simulation | None = None
    ready: Event = field(default_factory=Event)
    # The portal's settings as this process's environment gives them: its shared secret
    # (SECRET_KEY) derives agency keys and sync passwords, its calendar the working time. Read
    # by the init hook, not when this module is imported.
    _settings: Settings | None = None
    _keys: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        assert self._settings is not None, "the init hook has not run"
        return self._settings

    @property
    def gateway(self) -> str:
        assert self.description is not None, "the world has not arrived"
        return self.description.gateway

    def agency_headers(self, agency: str) -> dict[str, str]:
        if agency not in self._keys:  # an HMAC per request would be wasted work
            self._keys[agency] = agency_headers(self.settings, agency)
        return self._keys[agency]

    def sync_login(self, agency: str) -> dict[str, str]:
        return sync_login_body(self.settings, agency)

    def wait_ready(self) -> bool:
        self.ready.wait(timeout=READY_TIMEOUT_SECONDS)
        return self.simulation is not None

    def reset(self, settings: Settings) -> None:
        self.description = None
        self.simulation = None
        self._settings = settings
        self._keys.clear()
        self.ready.clear()


class CurrentRun:
    """The master's (or the only process's) view of the run."""

    def __init__(self) -> None:
        self.description: RunDescription | None = None
        self.world: World | None = None
        self.book = Book()
        self.ledger: dict[str, LedgerRecord] = {}
        self.started_at: datetime | None = None
        self.exit_code = 0
        self.reason = ""
        self.finished = False
        self.steps: list[Step] = []
        self.stopped: Stop | None = None  # why the run ended before its time
        self.memory: list[tuple[float, float]] = []  # (seconds into the run, portal RSS MiB)
        self.ended_at: float | None = None
        self.target = TargetWatch()
        self.database = UNKNOWN  # the kind behind the target, as its /readyz says

    def absorb(self, message: dict[str, Any]) -> None:
        """A worker's deltas; messages may overtake one another, so a record's newest
        revision wins."""
        self.book.absorb(message["book"])
        for code, record in message["ledger"].items():
            known = self.ledger.get(code)
            if known is None or record["revision"] >= known["revision"]:
                self.ledger[code] = record


this_process = ThisProcess()
current_run = CurrentRun()
