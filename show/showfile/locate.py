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


_INDEX = re.compile(r"\[(\d+)\]")


def _array_element_lines(lines: list[str], line: int) -> list[int]:
    """Start lines of the top-level elements of the array after the ``=`` on ``line``
    (strings and comments skipped; an array may span lines, inline tables may not)."""
    text = lines[line]
    eq = text.find("=")
    col = text.find("[", eq + 1) if eq >= 0 else -1
    if col < 0 or text[eq + 1 : col].strip():
        return []
    scan = _ArrayScan()
    for i in range(line, len(lines)):
        if scan.line(lines[i], i, col if i == line else 0):
            break
    return scan.starts


class _ArrayScan:
    """A TOML array read character by character: where its top-level elements start."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.depth = 0
        self.expecting = False

    def line(self, text: str, i: int, j: int) -> bool:
        """Scan one line from column ``j``; True once the array has closed."""
        quote = ""
        while j < len(text):
            ch = text[j]
            if quote:
                if ch == "\\" and quote == '"':
                    j += 1
                elif ch == quote:
                    quote = ""
            elif ch == "#":
                return False
            elif self._token(ch, i):
                return True
            elif ch in "\"'":
                quote = ch
            j += 1
        return False

    def _token(self, ch: str, i: int) -> bool:
        """One character outside strings and comments; True once the array has closed."""
        if ch in "]}":
            self.depth -= 1
            return self.depth == 0
        if ch == "," and self.depth == 1:
            self.expecting = True
        elif not ch.isspace():
            if self.depth == 1 and self.expecting:
                self.starts.append(i)
                self.expecting = False
            if ch in "[{":
                self.depth += 1
                self.expecting = self.depth == 1
        return False


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
        self._arrays: dict[int, list[int]] = {}
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
        part = split_key(rest)[0]
        first = part.split("[")[0]
        key_re = re.compile(r"^\s*[\"']?" + re.escape(first) + r"[\"']?\s*[.=]")
        for i in range(start, end):
            if key_re.match(self._lines[i]):
                index = _INDEX.search(part)
                if index is not None:  # an element of an inline array: its own line
                    elements = self._elements(i)
                    k = int(index.group(1))
                    if k < len(elements):
                        return elements[k] + 1
                return i + 1
        return start + 1 if bpath else None

    def _elements(self, line: int) -> list[int]:
        """The lines on which the elements of the inline array assigned on ``line``
        start (worked out once per array)."""
        found = self._arrays.get(line)
        if found is None:
            found = self._arrays[line] = _array_element_lines(self._lines, line)
        return found
