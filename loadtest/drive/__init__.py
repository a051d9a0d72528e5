"""Driving the portal: `portalsim run` (servers and Locust processes), Locust's hooks,
the open-model engine, the users of every actor, the load shape and the target's watch."""
