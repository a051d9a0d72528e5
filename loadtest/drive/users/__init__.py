"""Locust users, one class per actor; each takes its tasks from the open model's schedule."""

from loadtest.drive.users.backoffice import BackOffice
from loadtest.drive.users.citizen import BrowsingCitizen, Citizen
from loadtest.drive.users.payer import Payer
from loadtest.drive.users.reviewer import Reviewer
from loadtest.drive.users.sync import SyncBackOffice

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
