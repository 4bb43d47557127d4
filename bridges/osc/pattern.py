"""OSC 1.0 address pattern matching (pure).

A message's address is a pattern matched against the receiver's method
addresses (OSC 1.0 specification, "OSC Message Dispatching and Pattern
Matching"). Compiled patterns are cached.
"""

from __future__ import annotations

import functools
import re

__all__ = ["match_address"]


@functools.lru_cache(maxsize=512)
def _compile_pattern(pattern: str) -> re.Pattern[str] | None:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            close = pattern.find("]", i + 1)
            if close < 0:
                return None
            body = pattern[i + 1 : close]
            negate = body.startswith("!")
            if negate:
                body = body[1:]
            if not body:
                return None
            chars = "".join("\\" + c if c in "\\^[]" else c for c in body)
            out.append(f"[{'^/' if negate else ''}{chars}]")
            i = close
        elif ch == "{":
            close = pattern.find("}", i + 1)
            if close < 0:
                return None
            options = pattern[i + 1 : close].split(",")
            out.append("(?:" + "|".join(re.escape(o) for o in options) + ")")
            i = close
        elif ch in "]}":
            return None
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out))


def match_address(pattern: str, address: str) -> bool:
    """Return True if the OSC address ``pattern`` matches the method ``address``.

    Implements OSC 1.0 pattern matching: ``?`` one character, ``*`` any run of
    characters, ``[abc]`` / ``[a-z]`` / ``[!abc]`` character sets and
    ``{foo,bar}`` alternatives; none of them match ``/``. A malformed pattern
    (an unclosed ``[`` or ``{``) matches nothing.
    """
    compiled = _compile_pattern(pattern)
    return compiled is not None and compiled.fullmatch(address) is not None
