"""The common part of every actor: take the next due task from the actor's queue, run it, and
measure each request from its intended start. Requests are named by route template and every
response body is validated against the portal's published schema, not only its status."""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Callable
from typing import Any, ClassVar

from locust import task
from locust.contrib.fasthttp import FastHttpUser
from pydantic import BaseModel, ValidationError

from loadtest.drive.engine import Simulation
from loadtest.drive.requests import REQUESTS
from loadtest.drive.runtime import this_process

logger = logging.getLogger("portalsim.loadtest")
Check = Callable[[Any], str | None]  # a parsed body -> the problem with it, or None


class Rejected(Exception):
    """A response the harness cannot accept: the task stops, the request counts as failed."""


class ActorUser(FastHttpUser):
    """One of an actor's pool of users; the pool's size comes from the plan (`fixed_count`)."""

    abstract = True
    actor: ClassVar[str]
    # Latency is measured by the harness; Locust's own retries and waits would hide it.
    network_timeout = 30.0
    connection_timeout = 10.0
    max_redirects = 0

    def wait_time(self) -> float:
        return 0.0

    @property
    def sim(self) -> Simulation:
        sim = this_process.simulation
        assert sim is not None
        return sim

    @task
    def work(self) -> None:
        if not this_process.wait_ready():
            return
        next_task = self.sim.take(self.actor)
        if next_task is None:  # the run is over for this actor
            time.sleep(0.2)
            return
        self._intended: float | None = next_task.at
        handler = getattr(self, f"on_{next_task.kind}")
        self.sim.busy(self.actor, +1)
        try:
            handler(next_task)
        except Rejected:
            pass
        except Exception:  # a harness bug must not look like a slow portal: count it
            self.sim.book.count("harness.crashes")
            logger.error(
                "%s task %s crashed:\n%s", self.actor, next_task.kind, traceback.format_exc()
            )
        finally:
            self.sim.busy(self.actor, -1)

    def call(
        self,
        name: str,
        path: str,
        *,
        schema: type[BaseModel] | None = None,
        check: Check | None = None,
        base: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """One request of the kind `name` names in loadtest.drive.requests (its method, its group
        and the statuses the server documents for it); returns the parsed body. Latency counts from
        the task's intended start for its first request (the open model), from the request's
        own start after that."""
        kind = REQUESTS[name]
        url = f"{base}{path}" if base else path
        started = time.time()
        intended = getattr(self, "_intended", None) or started
        self._intended = None
        body: Any = None
        with self.client.request(
            kind.method, url, name=name, catch_response=True, **kwargs
        ) as resp:
            self.last_headers = resp.headers
            problem = kind.problem_with(resp.status_code)
            if problem is not None:
                detail = (resp.text or "")[:300]
                logger.warning("%s answered %s: %s", name, resp.status_code, detail)
            else:
                body, problem = _parse(resp.text, resp.headers.get("content-type", ""), schema)
                if problem is None and check is not None:
                    problem = check(body)
            if problem:
                resp.failure(problem)
            else:
                resp.success()
        finished = time.time()
        self.sim.book.request(
            name,
            kind.group,
            (finished - intended) * 1000,
            ok=problem is None,
            error=None if problem is None else problem.split(":", 1)[0],
            at=finished,
        )
        if problem is not None:
            raise Rejected(f"{name}: {problem}")
        return body


def _parse(
    text: str | None, content_type: str, schema: type[BaseModel] | None
) -> tuple[Any, str | None]:
    if "json" not in content_type:
        return text, None
    try:
        body = json.loads(text or "null")
    except ValueError:
        return None, "invalid body: not JSON"
    if schema is not None:
        try:
            schema.model_validate(body)
        except ValidationError as exc:
            return body, f"invalid body: {exc.errors()[0]['loc']} {exc.errors()[0]['msg']}"
    return body, None


def expect_status(status: int) -> Check:
    def check(body: Any) -> str | None:
        found = body.get("status") if isinstance(body, dict) else None
        return None if found == status else f"wrong status: {found}, expected {status}"

    return check
