"""The default shape: every actor's pool (sized by the plan) for the run's real duration, then
stop. Arrivals, not users, set the offered load."""

from __future__ import annotations

import time

from locust import LoadTestShape

from loadtest.drive.runtime import current_run

# Time for the users to finish their last tasks and for the audit's data to arrive.
GRACE_SECONDS = 2.0


class OpenModelShape(LoadTestShape):
    use_common_options = True

    def tick(self) -> tuple[int, float] | None:
        world = current_run.world
        if world is None:
            return None
        timeline = world.timeline
        if time.time() > timeline.start_real + timeline.real_seconds + GRACE_SECONDS:
            return None
        users = sum(world.pools.values())
        return users, float(users)
