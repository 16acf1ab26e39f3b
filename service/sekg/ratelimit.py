"""Limit how fast each client may query, with a token bucket per client address."""

from __future__ import annotations

import math
import threading
import time

from .errors import TooManyRequestsError


class RateLimiter:
    """Allow `rate` requests per second per client, with bursts up to `burst`."""

    def __init__(self, rate: float, burst: int, *, clock=time.monotonic, max_clients: int = 100_000):
        self.rate = rate
        self.burst = max(1, burst)
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        """Take one token for the client, or raise 429 with the seconds to wait."""
        if self.rate <= 0:
            return
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                wait = math.ceil((1 - tokens) / self.rate)
                self._buckets[client] = (tokens, now)
                raise TooManyRequestsError(
                    f"too many queries from {client}: the limit is {self.rate:g} per second "
                    f"(bursts of {self.burst}); retry in {wait} s", headers={"Retry-After": str(wait)})
            self._buckets[client] = (tokens - 1, now)
            if len(self._buckets) > self.max_clients:
                # forget the clients that have been idle longest; they start again with a full bucket
                for key in sorted(self._buckets, key=lambda k: self._buckets[k][1])[: self.max_clients // 10]:
                    del self._buckets[key]
