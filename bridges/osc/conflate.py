"""Per-target conflating queue with a rate limit: the pure core of OSC output.

No I/O and no clock: the caller passes ``now`` (seconds, any monotonic
origin) into :meth:`ConflatingQueue.take`.

Semantics:

* :meth:`~ConflatingQueue.put` stores the newest encoded message per OSC
  address. A newer value for an address that is still pending replaces the
  older one in place (the address keeps its original position), counted in
  ``conflated``. At most ``max_pending`` distinct addresses wait at once;
  messages for further addresses are refused and counted in ``dropped``. So
  memory is bounded whatever the caller does.
* :meth:`~ConflatingQueue.take` hands out everything pending if the target is
  due: always when there is no rate limit, otherwise when at least
  ``1 / max_rate_hz`` seconds have passed since the previous take (on average:
  the schedule advances by exactly one interval per take, so ticks that do not
  line up with the interval do not lower the rate).
"""

from __future__ import annotations

__all__ = ["ConflatingQueue"]


class ConflatingQueue:
    """Newest-value-wins queue of encoded OSC messages keyed by address.

    Attributes:
        conflated: Pending messages replaced by a newer one for the same address.
        dropped: Messages refused because ``max_pending`` addresses were waiting.
    """

    def __init__(self, max_rate_hz: float | None = None, max_pending: int = 1024) -> None:
        """Create an empty queue.

        Args:
            max_rate_hz: At most this many takes per second; ``None`` for no limit.
            max_pending: Most distinct addresses that may wait at once.

        Raises:
            ValueError: If ``max_rate_hz`` or ``max_pending`` is not positive.
        """
        if max_rate_hz is not None and not max_rate_hz > 0:
            raise ValueError(f"max_rate_hz must be positive or None, got {max_rate_hz!r}")
        if max_pending <= 0:
            raise ValueError(f"max_pending must be positive, got {max_pending!r}")
        self._interval = 1.0 / max_rate_hz if max_rate_hz is not None else 0.0
        self._max_pending = max_pending
        self._pending: dict[str, bytes] = {}
        self._next_due: float | None = None
        self.conflated = 0
        self.dropped = 0

    def __len__(self) -> int:
        """Number of addresses waiting."""
        return len(self._pending)

    def put(self, address: str, packet: bytes) -> bool:
        """Queue ``packet`` for ``address``, replacing a pending older one.

        Returns:
            False if the message was refused because the queue is full.
        """
        pending = self._pending
        if address in pending:
            self.conflated += 1
        elif len(pending) >= self._max_pending:
            self.dropped += 1
            return False
        pending[address] = packet
        return True

    def due(self, now: float) -> bool:
        """True if something is pending and the rate limit allows a take at ``now``."""
        return bool(self._pending) and (self._next_due is None or now >= self._next_due)

    def next_due(self) -> float | None:
        """Earliest time a take may happen, or None if nothing is pending.

        Returns ``-inf`` when the pending messages may be taken right away.
        """
        if not self._pending:
            return None
        return self._next_due if self._next_due is not None else float("-inf")

    def take(self, now: float) -> list[bytes]:
        """Return and clear the pending messages if due at ``now``, else ``[]``."""
        if not self.due(now):
            return []
        packets = list(self._pending.values())
        self._pending.clear()
        if self._interval:
            scheduled = self._next_due if self._next_due is not None else now
            # Advance by one interval, but never bank credit for idle periods.
            self._next_due = max(scheduled + self._interval, now)
            if self._next_due == now:
                self._next_due = now + self._interval
        return packets

    def clear(self) -> int:
        """Drop everything pending and return how many messages were dropped."""
        count = len(self._pending)
        self._pending.clear()
        return count
