"""The one error of the workload's inputs and the duration syntax they share ('90s', '10m'):
below the workload model, so that thresholds and shapes can use them without a cycle."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator


class WorkloadError(ValueError):
    """A workload file, a flag or a plan that cannot be run; the message says which number."""


def parse_duration(text: str) -> float:
    """'90s', '10m', '1h30m', '45' (seconds) -> seconds."""
    match = re.fullmatch(
        r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*", text
    )
    if not text.strip() or match is None or not any(match.groups()):
        raise WorkloadError(f"duration {text!r}: use e.g. 90s, 10m or 1h30m")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise WorkloadError(f"duration {text!r} must be positive")
    return total


def checked_duration(text: str) -> str:
    parse_duration(text)
    return text


# A duration field of a workload or thresholds file: kept as written, refused if malformed.
Duration = Annotated[str, AfterValidator(checked_duration)]
