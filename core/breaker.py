"""A circuit breaker for the accelerators (Redis cache, Celery broker): after one connection failure the
caller skips the service for a few seconds instead of making every request wait for its own failure.

Per process, lock-free: a stale read at worst lets one more call try the service.
"""

from __future__ import annotations

import logging
import time

logger = logging.getLogger(__name__)


class Breaker:
    def __init__(self, name: str, seconds: float):
        self.name = name
        self.seconds = seconds
        self._open_until = 0.0

    @property
    def open(self) -> bool:
        """True while calls should not even try the service."""
        return time.monotonic() < self._open_until

    def trip(self, exc: BaseException) -> None:
        if not self.open:
            # The exception's class only: a message could carry a key or a URL with a password.
            logger.warning(
                "%s unavailable (%s); skipping it for %.0f s", self.name, type(exc).__name__, self.seconds
            )
        self._open_until = time.monotonic() + self.seconds

    def reset(self) -> None:
        self._open_until = 0.0
