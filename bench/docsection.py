"""Write a bench's table into its own section of a Markdown file (docs/performance.md).

The section is ``## TITLE``, a ``Command:`` line and the table in a code block; a
rerun replaces the command and the table and keeps any prose written after them.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["write_section"]


def write_section(doc: Path, title: str, table: str, command: str) -> None:
    """Replace (or append) the ``## title`` section's command and table in ``doc``."""
    heading = f"## {title}"
    body = f"{heading}\n\nCommand: `{command}`\n\n```\n{table}\n```\n"
    text = doc.read_text(encoding="utf-8")
    pattern = re.compile(
        rf"^{re.escape(heading)}\n\nCommand: [^\n]*\n\n```\n.*?^```\n", re.S | re.M
    )
    if pattern.search(text):
        text = pattern.sub(lambda _m: body, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + body
    doc.write_text(text, encoding="utf-8")
