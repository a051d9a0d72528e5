"""portalsim's load harness for Locust: `locust -f loadtest/locustfile.py --headless` (or with
the web UI, or --master/--worker). The user classes and the shape; the hooks come with them."""

from loadtest.shapes.open_model import OpenModelShape
from loadtest.users import (
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
