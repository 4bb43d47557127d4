"""Find the line of a value in a TOML text from its path, for error messages.

``tomllib`` gives no positions, so we scan table headers and keys ourselves.
Paths look like ``cue_lists[0].cues[3].prewait`` or ``signals."a.b".unit``.
"""

from __future__ import annotations

import re

__all__ = ["LineLocator", "split_key"]

_HEADER = re.compile(r"^\s*(\[\[?)\s*(.+?)\s*\]\]?\s*(#.*)?$")


def split_key(text: str) -> list[str]:
    """Split a dotted TOML key into parts, honouring quotes."""
    parts: list[str] = []
    buf = ""
    quote = ""
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
            else:
                buf += ch
        elif ch in "\"'":
            quote = ch
        elif ch == ".":
            parts.append(buf.strip())
            buf = ""
        else:
            buf += ch
    parts.append(buf.strip())
    return parts


def _path_text(parts: list[str]) -> str:
    return ".".join(parts)


class LineLocator:
    """Maps value paths to 1-based line numbers of a TOML document."""

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()
        self._blocks: list[tuple[str, int, int]] = []
        counters: dict[str, int] = {}
        latest: dict[str, str] = {}
        starts: list[tuple[str, int]] = [("", 0)]
        for i, line in enumerate(self._lines):
            m = _HEADER.match(line)
            if not m or line.lstrip().startswith("#"):
                continue
            is_array = m.group(1) == "[["
            keys = split_key(m.group(2))
            concrete: list[str] = []
            for depth, key in enumerate(keys):
                plain = _path_text(keys[: depth + 1])
                if depth < len(keys) - 1:
                    concrete.append(latest.get(plain, key).rsplit(".", 1)[-1])
                    continue
                parent = _path_text(concrete)
                if is_array:
                    ck = f"{parent}.{key}" if parent else key
                    n = counters.get(ck, 0)
                    counters[ck] = n + 1
                    # reset counters of nested arrays under a new element
                    for other in [k for k in counters if k.startswith(ck + "[")]:
                        del counters[other]
                    concrete.append(f"{key}[{n}]")
                else:
                    concrete.append(key)
                latest[plain] = _path_text(concrete)
            starts.append((_path_text(concrete), i))
        self._by_path: dict[str, tuple[str, int, int]] = {}
        for n, (path, start) in enumerate(starts):
            end = starts[n + 1][1] if n + 1 < len(starts) else len(self._lines)
            self._blocks.append((path, start, end))
            if path:
                self._by_path[path] = (path, start, end)  # a later header wins

    def _block_of(self, path: str) -> tuple[str, int, int] | None:
        """The block whose path is the longest dotted prefix of ``path`` (a lookup per
        dot, so many problems in a big file cost no more than one each)."""
        cut = len(path)
        while cut > 0:
            found = self._by_path.get(path[:cut])
            if found is not None:
                return found
            cut = path.rfind(".", 0, cut)
        return None

    def line_of(self, path: str) -> int | None:
        """The line holding ``path``, or its table's header, or None."""
        best = self._block_of(path)
        if best is None:
            best = self._blocks[0] if self._blocks else None
            if best is None:
                return None
        bpath, start, end = best
        rest = path[len(bpath) :].lstrip(".") if bpath else path
        if not rest:
            return start + 1
        first = split_key(rest)[0].split("[")[0]
        key_re = re.compile(r"^\s*[\"']?" + re.escape(first) + r"[\"']?\s*[.=]")
        for i in range(start, end):
            if key_re.match(self._lines[i]):
                return i + 1
        return start + 1 if bpath else None
