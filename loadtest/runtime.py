"""The process's harness state, shared by the Locust event hooks and the users: the simulation
of this process's partition, set once the world has arrived from the master."""

from __future__ import annotations

from dataclasses import dataclass, field

from gevent.event import Event

from app.core.config import Settings
from loadtest.access import agency_headers, sync_login_body
from loadtest.engine import Simulation

READY_TIMEOUT_SECONDS = 60.0


@dataclass
class Runtime:
    simulation: Simulation | None = None
    ready: Event = field(default_factory=Event)
    failed: str | None = None  # why the set-up failed, if it did
    # The portal's shared secret (SECRET_KEY) derives agency keys and sync passwords.
    settings: Settings = field(default_factory=Settings)
    gateway: str = "http://127.0.0.1:8001"
    _keys: dict[str, dict[str, str]] = field(default_factory=dict)

    def agency_headers(self, agency: str) -> dict[str, str]:
        if agency not in self._keys:  # an HMAC per request would be wasted work
            self._keys[agency] = agency_headers(self.settings, agency)
        return self._keys[agency]

    def sync_login(self, agency: str) -> dict[str, str]:
        return sync_login_body(self.settings, agency)

    def wait_ready(self) -> bool:
        self.ready.wait(timeout=READY_TIMEOUT_SECONDS)
        return self.simulation is not None

    def reset(self) -> None:
        self.simulation = None
        self.failed = None
        self.ready.clear()


RUNTIME = Runtime()
