"""Whether the target is still answering: the harness probes the portal's /healthz every second
during a run. A portal that stops answering (killed, crashed, frozen) shows here first, with the
second it stopped and how (refused, no answer in time, an error status), rather than as a pile
of failed requests and an audit that cannot connect. A silence that ends is a stall; one that
lasts DOWN_AFTER_SECONDS stops the run (the figures so far are written) and, if the portal
still does not answer at the end, the run's verdict is that the target failed."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from loadtest.results_model import Target

PROBE_PATH = "/healthz"
PROBE_TIMEOUT_SECONDS = 3.0
DOWN_AFTER_SECONDS = 10.0


def http_failure(error: httpx.HTTPError) -> str:
    """An HTTP client's error in a few words: what was asked and what came back, or why not."""
    if isinstance(error, httpx.HTTPStatusError):
        request = error.request
        return f"HTTP {error.response.status_code} to {request.method} {request.url.path}"
    try:
        asked = f" ({error.request.method} {error.request.url.path})"
    except RuntimeError:  # an error raised before any request was built
        asked = ""
    if isinstance(error, httpx.ConnectError):
        return f"connection refused{asked}"
    if isinstance(error, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return f"connection dropped{asked}"
    if isinstance(error, httpx.TimeoutException):
        return f"no answer in time{asked}"
    return f"{type(error).__name__}{asked}"


def probe(client: httpx.Client) -> str | None:
    """None if the target answered its health check; otherwise what happened, in a few words."""
    try:
        response = client.get(PROBE_PATH, timeout=PROBE_TIMEOUT_SECONDS)
    except httpx.TimeoutException:
        return f"no answer within {PROBE_TIMEOUT_SECONDS:g} s (GET {PROBE_PATH})"
    except httpx.HTTPError as error:
        return http_failure(error)
    if response.status_code != 200:
        return f"HTTP {response.status_code} to GET {PROBE_PATH}"
    return None


@dataclass
class TargetWatch:
    """The probes' findings, in seconds since the run's start. A silence runs from the sending
    of the first probe not answered in time to the answer of a later one (or to the last probe,
    if none came); its length does not depend on how much traffic the run offered meanwhile."""

    silent_since: float | None = None  # the first unanswered probe of the current silence
    why: str = ""
    last_probe: float = 0.0
    longest: float = 0.0  # the longest silence that ended, or the slowest answer
    stalls: list[tuple[float, float]] = field(default_factory=list)  # [from s, lasting s], ended

    def observe(self, asked: float, answered: float, problem: str | None) -> None:
        """A probe sent at `asked`, back at `answered` with `problem` (None: it answered)."""
        self.last_probe = answered
        if problem is not None:
            if self.silent_since is None:
                self.silent_since, self.why = asked, problem
            return
        since = asked if self.silent_since is None else self.silent_since
        self.longest = max(self.longest, answered - since)
        if self.silent_since is not None:
            self.stalls.append((round(since, 1), round(answered - since, 1)))
        self.silent_since, self.why = None, ""

    def silent_for(self, at: float) -> float:
        return 0.0 if self.silent_since is None else at - self.silent_since

    @property
    def answering(self) -> bool:
        return self.silent_since is None

    @property
    def stopped_answering_at_s(self) -> float | None:
        """When the silence began, seconds into the run, to the tenth results.json keeps."""
        return None if self.silent_since is None else round(self.silent_since, 1)

    def line(self) -> str:
        """What happened, for the last line of a run whose target stopped answering: the
        instant as results.json has it, so the two never disagree by a rounding."""
        return (
            f"the portal stopped answering at {self.stopped_answering_at_s or 0:.0f} s: {self.why}"
        )

    def section(self) -> Target:
        """results.json's `target`."""
        ongoing = self.silent_for(self.last_probe)
        return Target(
            answering=self.answering,
            stopped_answering_at_s=self.stopped_answering_at_s,
            why=self.why or None,
            longest_silence_s=round(max(self.longest, ongoing), 2),
            stalls=self.stalls,
            probe=f"GET {PROBE_PATH} every second, {PROBE_TIMEOUT_SECONDS:g} s time-out",
        )
