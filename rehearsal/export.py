"""Export a recording to JSONL, CSV or MCAP.

* **JSONL**: a ``{"type": "meta", ...}`` line, then samples and events merged in show-time
  order: ``{"type": "sample", "seq", "t", "wall", "source", "signal", "value", "ts"}`` and
  ``{"type": "event", "seq", "t", "kind", "data"}``. Values keep their JSON type.
* **CSV**: samples only, columns ``seq,t_recv,wall,source,signal,value,value_type,ts`` where
  ``value_type`` is ``number``, ``bool``, ``string`` or ``null`` so types survive the trip.
* **MCAP**: JSON message encoding; one channel per signal (topic = signal name) with its own
  JSON Schema, plus one channel per event kind (topic ``events/<kind>``). Log time is
  ``meta.started + t`` in nanoseconds (show time on the Unix epoch, so ordering follows the
  show clock); publish time is the source's ``ts`` where there is one.
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Any, Literal, TextIO

from rehearsal.mcap import McapWriter
from rehearsal.recording import Event, Recording, Sample, StoredValue

__all__ = ["FORMATS", "ExportFormat", "export", "export_csv", "export_jsonl", "export_mcap"]

logger = logging.getLogger(__name__)

ExportFormat = Literal["jsonl", "csv", "mcap"]
FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv", "mcap")

_JSON_TYPES = {"real": "number", "integer": "boolean", "text": "string", "null": "null"}


def _value_type(value: StoredValue) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    return "number"


def export_jsonl(recording: Recording, out: TextIO) -> int:
    """Write ``recording`` as JSON lines; return the number of samples and events written."""
    out.write(json.dumps({"type": "meta", **recording.meta}) + "\n")
    count = 0
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    for item in recording.records():
        if isinstance(item, Sample):
            line: dict[str, Any] = {
                "type": "sample",
                "seq": item.seq,
                "t": item.t_recv,
                "wall": item.wall,
                "source": item.source,
                "signal": item.signal,
                "value": item.value,
                "ts": item.ts,
            }
        else:
            line = {"type": "event", "seq": item.seq, "t": item.t, "kind": item.kind}
            line["data"] = item.data
        out.write(dumps(line) + "\n")
        count += 1
    return count


def export_csv(recording: Recording, out: TextIO) -> int:
    """Write the samples of ``recording`` as CSV; return the number of rows written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["seq", "t_recv", "wall", "source", "signal", "value", "value_type", "ts"])
    count = 0
    for s in recording.samples():
        kind = _value_type(s.value)
        shown: object = s.value
        if kind == "bool":
            shown = "true" if s.value else "false"
        elif kind == "number":
            shown = repr(s.value)
        elif kind == "null":
            shown = ""
        writer.writerow(
            [s.seq, repr(s.t_recv), repr(s.wall), s.source, s.signal, shown, kind, s.ts]
        )
        count += 1
    return count


def _signal_types(recording: Recording) -> dict[str, list[str]]:
    return {
        signal: [_JSON_TYPES.get(kind, "string") for kind in kinds]
        for signal, kinds in recording.value_types().items()
    }


def _nanos(seconds: float) -> int:
    return max(0, round(seconds * 1e9))


def _schema(title: str, properties: dict[str, Any]) -> bytes:
    schema = {"type": "object", "title": title, "properties": properties}
    return json.dumps(schema, separators=(",", ":")).encode()


def export_mcap(recording: Recording, out: Any) -> int:
    """Write ``recording`` as MCAP to the binary stream ``out``; return messages written."""
    started = float(recording.meta.get("started", "0") or 0)
    writer = McapWriter(out)
    writer.start()
    types = _signal_types(recording)
    channels: dict[str, int] = {}

    def channel_for(topic: str, properties: dict[str, Any]) -> int:
        channel_id = channels.get(topic)
        if channel_id is None:
            channel_id = len(channels) + 1
            writer.add_schema(channel_id, topic, "jsonschema", _schema(topic, properties))
            writer.add_channel(channel_id, channel_id, topic, "json", {})
            channels[topic] = channel_id
        return channel_id

    count = 0
    encode = json.JSONEncoder(separators=(",", ":")).encode
    for item in recording.records():
        if isinstance(item, Sample):
            value_types = sorted(set(types.get(item.signal, ["number"])))
            channel_id = channel_for(
                item.signal,
                {
                    "value": {"type": value_types[0] if len(value_types) == 1 else value_types},
                    "source": {"type": "string"},
                    "ts": {"type": ["number", "null"]},
                    "t_recv": {"type": "number"},
                },
            )
            log_time = _nanos(started + item.t_recv)
            publish = log_time if item.ts is None else _nanos(item.ts)
            payload: dict[str, Any] = {
                "value": item.value,
                "source": item.source,
                "ts": item.ts,
                "t_recv": item.t_recv,
            }
            writer.add_message(channel_id, item.seq, log_time, publish, encode(payload).encode())
        else:
            event: Event = item
            channel_id = channel_for(
                f"events/{event.kind}",
                {"t": {"type": "number"}, "kind": {"type": "string"}, "data": {"type": "object"}},
            )
            log_time = _nanos(started + event.t)
            payload = {"t": event.t, "kind": event.kind, "data": event.data}
            writer.add_message(channel_id, event.seq, log_time, log_time, encode(payload).encode())
        count += 1
    writer.finish()
    return count


def export(source: str | Path, destination: str | Path, fmt: ExportFormat) -> int:
    """Export the recording at ``source`` to ``destination`` in format ``fmt``.

    Returns:
        The number of samples (and events, for JSONL and MCAP) written.

    Raises:
        RecordingFormatError: ``source`` is not a recording.
        ValueError: unknown format.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (known: {', '.join(FORMATS)})")
    with Recording.open(source) as recording:
        if fmt == "mcap":
            with open(destination, "wb") as binary:
                count = export_mcap(recording, binary)
        else:
            with open(destination, "w", encoding="utf-8", newline="") as text:
                count = (export_jsonl if fmt == "jsonl" else export_csv)(recording, text)
    logger.info("exported %d records from %s to %s (%s)", count, source, destination, fmt)
    return count
