"""Import CSV or JSONL telemetry from other tools into a recording.

Two layouts are understood, chosen by :class:`ImportMapping`:

* **wide**: one row per instant, a time column and one column per signal;
  ``columns`` maps a column name to a Stovelight signal name (``stove-07.temp_c``);
* **long**: one row per value, with time, source, signal and value columns; a signal name
  without a dot is prefixed with its source (``temp_c`` from ``stove-07`` → ``stove-07.temp_c``).

Times are numbers (multiplied by ``time_unit`` to get seconds, Unix epoch expected) or ISO 8601
strings (UTC unless they carry an offset). CSV cells become booleans for ``true``/``false``,
numbers when they parse as finite floats, strings otherwise; empty cells are skipped. JSONL
values keep their JSON type (``null`` is skipped). Rows are sorted by time; ``t_recv`` is the
time since the first row, ``wall`` and ``ts`` the row's own time.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from rehearsal.errors import ImportMappingError
from rehearsal.recorder import create_recording

__all__ = ["ImportFormat", "ImportMapping", "import_file", "parse_cell"]

logger = logging.getLogger(__name__)

ImportFormat = Literal["csv", "jsonl"]


@dataclass(frozen=True, slots=True)
class ImportMapping:
    """How the columns of an import file map to Stovelight signals.

    Attributes:
        time_column: column holding each row's time.
        columns: wide layout: column name → signal name. Ignored when ``long`` is set.
        long: the file is in long layout.
        source_column: long layout: source id column (may be absent from the file).
        signal_column: long layout: signal (or key) column.
        value_column: long layout: value column.
        time_unit: seconds per unit of numeric times (1 for s, 0.001 for ms).
    """

    time_column: str = "time"
    columns: Mapping[str, str] = field(default_factory=dict)
    long: bool = False
    source_column: str = "source"
    signal_column: str = "signal"
    value_column: str = "value"
    time_unit: float = 1.0

    def __post_init__(self) -> None:
        if not self.long and not self.columns:
            raise ImportMappingError("wide layout needs at least one column → signal mapping")
        for column, signal in self.columns.items():
            if not signal or not column:
                raise ImportMappingError(f"empty name in mapping {column!r} → {signal!r}")


def parse_cell(text: str) -> float | bool | str | None:
    """Interpret a CSV cell: None if empty, bool, finite float, or the string itself."""
    stripped = text.strip()
    if not stripped:
        return None
    lowered = stripped.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        number = float(stripped)
    except ValueError:
        return stripped
    return number if math.isfinite(number) else stripped


def _json_value(value: Any) -> float | bool | str | None:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return json.dumps(value)


def _parse_time(raw: Any, unit: float, where: str) -> float:
    if isinstance(raw, bool) or raw is None:
        raise ImportMappingError(f"{where}: time {raw!r} is not a time")
    if isinstance(raw, int | float):
        return float(raw) * unit
    text = str(raw).strip()
    try:
        return float(text) * unit
    except ValueError:
        pass
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError as err:
        raise ImportMappingError(f"{where}: cannot read time {text!r}") from err
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def _source_of(signal: str) -> str:
    return signal.split(".", 1)[0] if "." in signal else "import"


def _rows(path: Path, fmt: ImportFormat) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(where, row)`` with row values as str (CSV) or JSON types (JSONL)."""
    with open(path, encoding="utf-8", newline="") as handle:
        if fmt == "csv":
            for number, row in enumerate(csv.DictReader(handle), start=2):
                yield f"{path}:{number}", dict(row)
        else:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as err:
                    raise ImportMappingError(f"{path}:{number}: not JSON: {err}") from err
                if not isinstance(obj, dict):
                    raise ImportMappingError(f"{path}:{number}: line is not a JSON object")
                yield f"{path}:{number}", obj


def _long_row(
    row: dict[str, Any],
    where: str,
    t: float,
    mapping: ImportMapping,
    convert: Callable[[Any], Any],
) -> list[tuple[float, str, str, Any]]:
    """The sample in one row of a long table (time, signal, value[, source] columns)."""
    for column in (mapping.signal_column, mapping.value_column):
        if column not in row:
            raise ImportMappingError(f"{where}: no column {column!r}")
    value = convert(row[mapping.value_column])
    if value is None:
        return []
    signal = str(row[mapping.signal_column]).strip()
    source = str(row.get(mapping.source_column) or "").strip()
    if not signal:
        raise ImportMappingError(f"{where}: empty signal name")
    if "." not in signal and source:
        signal = f"{source}.{signal}"
    return [(t, source or _source_of(signal), signal, value)]


def _samples(
    path: Path, fmt: ImportFormat, mapping: ImportMapping
) -> list[tuple[float, str, str, Any]]:
    convert = parse_cell if fmt == "csv" else _json_value
    found: list[tuple[float, str, str, Any]] = []
    seen_columns: set[str] = set()
    for where, row in _rows(path, fmt):
        if mapping.time_column not in row:
            raise ImportMappingError(f"{where}: no time column {mapping.time_column!r}")
        t = _parse_time(row[mapping.time_column], mapping.time_unit, where)
        if mapping.long:
            found.extend(_long_row(row, where, t, mapping, convert))
        else:
            for column, signal in mapping.columns.items():
                if column not in row:
                    continue
                seen_columns.add(column)
                value = convert(row[column])
                if value is not None:
                    found.append((t, _source_of(signal), signal, value))
    missing = set(mapping.columns) - seen_columns
    if not mapping.long and missing:
        raise ImportMappingError(f"{path}: mapped columns not found: {', '.join(sorted(missing))}")
    found.sort(key=lambda item: item[0])
    return found


def import_file(
    source: str | Path,
    destination: str | Path,
    mapping: ImportMapping,
    *,
    fmt: ImportFormat | None = None,
    show: str = "",
) -> int:
    """Import ``source`` (CSV or JSONL) into a new recording at ``destination``.

    Args:
        source: file to read.
        destination: recording to create (must not exist).
        mapping: column mapping.
        fmt: ``csv`` or ``jsonl``; default from the file extension.
        show: show name stored in the recording.

    Returns:
        The number of samples imported.

    Raises:
        ImportMappingError: the file does not fit the mapping.
        FileExistsError: ``destination`` exists.
    """
    src = Path(source)
    dst = Path(destination)
    if fmt is None:
        fmt = "jsonl" if src.suffix.lower() in (".jsonl", ".ndjson", ".json") else "csv"
    if dst.exists():
        raise FileExistsError(f"{dst} exists; import writes a new recording")
    samples = _samples(src, fmt, mapping)
    started = samples[0][0] if samples else 0.0
    db = create_recording(dst, show=show, started=started)
    try:
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO samples(t_recv, wall, source, signal, value, ts) VALUES (?,?,?,?,?,?)",
            (
                (t - started, t, src_id, signal, int(v) if isinstance(v, bool) else v, t)
                for t, src_id, signal, v in samples
            ),
        )
        db.executemany(
            "INSERT OR IGNORE INTO signals(name, source) VALUES (?, ?)",
            {(signal, src_id) for _, src_id, signal, _ in samples},
        )
        note = {"text": "imported", "from": str(src), "format": fmt, "samples": len(samples)}
        db.execute("INSERT INTO events(t, kind, data) VALUES (0, 'note', ?)", (json.dumps(note),))
        db.execute("COMMIT")
    finally:
        db.close()
    logger.info("imported %d samples from %s into %s", len(samples), src, dst)
    return len(samples)
