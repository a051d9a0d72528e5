"""The portal's memory during a run: resident set size of a local process and its children
(uvicorn's workers), read with psutil (which Locust already depends on)."""

from __future__ import annotations

import psutil


class MemorySampler:
    """Samples `pid`'s tree; without a pid (a target someone else runs) there is nothing to
    read, and the report says so rather than show another process's memory."""

    def __init__(self, pid: int | None) -> None:
        self.process: psutil.Process | None = None
        if pid is not None:
            try:
                self.process = psutil.Process(pid)
            except psutil.Error:
                self.process = None

    def sample(self) -> float | None:
        """MiB resident in the process and its children now, or None if it is gone."""
        if self.process is None:
            return None
        try:
            tree = [self.process, *self.process.children(recursive=True)]
            total = 0
            for process in tree:
                try:
                    total += process.memory_info().rss
                except psutil.NoSuchProcess:
                    continue  # a worker that exited between the listing and the read
        except psutil.Error:
            return None
        return round(total / 2**20, 2)
