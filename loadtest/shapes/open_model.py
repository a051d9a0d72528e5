"""The default shape: every actor's pool (sized by the plan) for the run's real duration, then
stop. Arrivals, not users, set the offered load."""

from __future__ import annotations

from locust import LoadTestShape

from loadtest.harness import RUN, START_LEAD_SECONDS, total_users

# Time for the users to finish their last tasks and for the audit's data to arrive.
GRACE_SECONDS = 2.0


class OpenModelShape(LoadTestShape):
    use_common_options = True

    def tick(self) -> tuple[int, float] | None:
        world = RUN.world
        if world is None:
            return None
        if self.get_run_time() > world.timeline.real_seconds + START_LEAD_SECONDS + GRACE_SECONDS:
            return None
        users = total_users()
        return users, float(users)
