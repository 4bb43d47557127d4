"""Scene inputs bound to signals: the newest value of a signal goes to its inputs.

One rule for the live runner and the dry run, so a rehearsal sends the projector the
same values the show did: after each engine advance, every bound signal whose value
changed since the last poll gives one :class:`~cues.commands.SetVisualInput` per
bound input (non-numeric and non-finite values are skipped).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from cues.commands import SetVisualInput
from cues.signals import Signal

__all__ = ["BoundInputs"]


class BoundInputs:
    """Follows bound signals; see the module docstring.

    Args:
        bindings: ``(output, input, signal)`` for each bound scene input.
    """

    def __init__(self, bindings: Iterable[tuple[str, str, str]]) -> None:
        self._targets: dict[str, list[tuple[str, str]]] = {}
        for output, inp, signal in bindings:
            self._targets.setdefault(signal, []).append((output, inp))
        self._seen: dict[str, float] = {}

    def __bool__(self) -> bool:
        return bool(self._targets)

    def poll(self, signals: Mapping[str, Signal]) -> list[SetVisualInput]:
        """The input changes due since the last poll, in binding order."""
        out: list[SetVisualInput] = []
        seen = self._seen
        for name, targets in self._targets.items():
            sig = signals.get(name)
            if sig is None or seen.get(name) == sig.time:
                continue
            seen[name] = sig.time
            value = sig.numeric()
            if value is None or not math.isfinite(value):
                continue
            out.extend(SetVisualInput(output, inp, value) for output, inp in targets)
        return out
