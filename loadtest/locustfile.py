"""portalsim's load harness for Locust: `locust -f loadtest/locustfile.py --headless` (or with
the web UI, or --master/--worker). The user classes, the shape and the harness's hooks."""

import loadtest.drive.harness  # noqa: F401  (its Locust event hooks register on import)
from loadtest.drive.open_model import OpenModelShape
from loadtest.drive.users import (
    BackOffice,
    BrowsingCitizen,
    Citizen,
    Payer,
    Reviewer,
    SyncBackOffice,
)

__all__ = [
    "BackOffice",
    "BrowsingCitizen",
    "Citizen",
    "OpenModelShape",
    "Payer",
    "Reviewer",
    "SyncBackOffice",
]
