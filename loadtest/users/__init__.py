"""Locust users, one class per actor; each takes its tasks from the open model's schedule."""

from loadtest.users.backoffice import BackOffice
from loadtest.users.citizen import BrowsingCitizen, Citizen
from loadtest.users.payer import Payer
from loadtest.users.reviewer import Reviewer
from loadtest.users.sync import SyncBackOffice

USER_CLASSES = (Citizen, BrowsingCitizen, BackOffice, SyncBackOffice, Payer, Reviewer)

__all__ = [
    "USER_CLASSES",
    "BackOffice",
    "BrowsingCitizen",
    "Citizen",
    "Payer",
    "Reviewer",
    "SyncBackOffice",
]
