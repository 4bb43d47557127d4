"""The public dashboard's wording, set from the show file's ``[dashboard.text]``.

The dashboard page carries an English default for every key in ``TEXT_KEYS``
(``show/web/static/dashboard.js``, ``DEFAULT_TEXT``); a show replaces any of them,
and ``language`` (a BCP 47 tag such as ``de`` or ``fr-CA``) sets the page's
language and number format. ``{name}`` placeholders are filled in by the page.
"""

from __future__ import annotations

import re
from typing import Any

from show.showfile.reader import Reader

__all__ = ["TEXT_KEYS", "read_dashboard_text"]

#: Every text the dashboard shows, with the placeholders each one may use.
TEXT_KEYS: dict[str, tuple[str, ...]] = {
    "language": (),
    "live": (),
    "connecting": (),
    "offline": (),
    "delayed": (),
    "no_live_data": (),
    "lost_banner": ("s",),
    "delayed_banner": ("age",),
    "nosignal_banner": (),
    "waiting_title": (),
    "waiting_sub": (),
    "updated": ("time",),
    "stale": (),
    "stale_age": ("age",),
    "no_signal": (),
    "no_data": (),
    "energy_title": (),
    "energy_explain": (),
    "energy_made": (),
    "energy_used": (),
    "energy_shared": (),
    "energy_shared_note": (),
    "energy_balanced": (),
    "energy_surplus": ("value", "unit"),
    "energy_deficit": ("value", "unit"),
    "legend_made": (),
    "legend_used": (),
    "legend_shared": (),
    "stoves_title": (),
    "messages_title": (),
    "messages_empty": (),
    "chart_now": (),
    "chart_ago": ("s",),
    "page": ("n", "of"),
}

_MAX_TEXT = 300
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def read_dashboard_text(r: Reader, table: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """``[dashboard.text]`` as (key, text) pairs; every problem is recorded on ``r``."""
    path = "dashboard.text"
    r.check_keys(table, TEXT_KEYS, path)
    out: list[tuple[str, str]] = []
    for key, allowed in TEXT_KEYS.items():
        if key not in table:
            continue
        text = r.string(table, key, path, default="")
        if len(text) > _MAX_TEXT:
            r.problem(f"{path}.{key}", f"{len(text)} characters; at most {_MAX_TEXT}")
            continue
        if key == "language" and not _LANGUAGE.fullmatch(text):
            r.problem(f"{path}.{key}", f"found {text!r}; expected a language tag such as 'de'")
            continue
        unknown = sorted(set(_PLACEHOLDER.findall(text)) - set(allowed))
        if unknown:
            can = ", ".join("{" + a + "}" for a in allowed) or "none"
            r.problem(
                f"{path}.{key}",
                f"unknown placeholder {{{unknown[0]}}} (this text may use: {can})",
            )
            continue
        out.append((key, text))
    return tuple(out)
