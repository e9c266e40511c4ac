"""The API's throttles (settings ``DEFAULT_THROTTLE_CLASSES``), counted by ``core.ratelimit``.

DRF's own throttles keep each caller's request history in the cache and raise when Redis is down (every
API call a 500). These count fixed windows through ``core.ratelimit``: Redis while it answers, the
database while it does not, so the limits hold on a bad day too.
"""

from __future__ import annotations

from rest_framework import throttling

from . import ratelimit


class _CountedThrottle:
    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        return ratelimit.hit(scope="api", key=self.key, limit=self.num_requests, window_seconds=self.duration)

    def wait(self) -> float:
        return ratelimit.window_left(self.duration)


class AnonRateThrottle(_CountedThrottle, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_CountedThrottle, throttling.UserRateThrottle):
    pass
