"""A self-contained HTML report: text, tables and PNG pictures embedded as base64 ``data:`` URIs.

The page has no scripts and no external links, so it opens offline, from an e-mail attachment or a
CI artifact, exactly as it was written.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["Section", "write_report", "render_report", "embed_png", "html_table"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1100px;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #333; padding-bottom: .2em; }
h2 { margin-top: 1.8em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #bbb; padding: .3em .7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f0f0f0; }
figure { margin: 1em 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: .9em; color: #555; }
pre { background: #f6f6f6; padding: .7em; overflow-x: auto; }
footer { margin-top: 3em; font-size: .8em; color: #777; }
"""


@dataclass
class Section:
    """One part of the report: a heading, paragraphs, an optional table, PNG figures and preformatted text."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    table: list[dict] | None = None
    figures: list[tuple[str | os.PathLike, str]] = field(default_factory=list)  # (png path, caption)
    pre: str | None = None


def embed_png(path: str | os.PathLike) -> str:
    """Return a ``data:image/png;base64,...`` URI holding the PNG file."""
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG file")
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def html_table(rows: Sequence[dict]) -> str:
    """Render a list of dicts with the same keys as an HTML table (floats with 4 decimals)."""
    if not rows:
        return ""
    headers = list(rows[0])
    out = ["<table>", "<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in headers) + "</tr>"]
    for row in rows:
        cells = []
        for h in headers:
            value = row.get(h, "")
            text = f"{value:.4f}" if isinstance(value, float) else str(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def render_report(title: str, sections: Sequence[Section], intro: str = "") -> str:
    """Return the HTML text of the report."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if intro:
        parts.append(f"<p>{html.escape(intro)}</p>")
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        parts.extend(f"<p>{html.escape(p)}</p>" for p in section.paragraphs)
        if section.table:
            parts.append(html_table(section.table))
        if section.pre:
            parts.append(f"<pre>{html.escape(section.pre)}</pre>")
        for png, caption in section.figures:
            alt = html.escape(caption or Path(png).stem)
            parts.append(
                f'<figure><img src="{embed_png(png)}" alt="{alt}">'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
    from glassnet import __version__

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts.append(f"<footer>Written by glassnet {html.escape(__version__)} on {stamp}.</footer>")
    parts.extend(["</body>", "</html>", ""])
    return "\n".join(parts)


def write_report(path: str | os.PathLike, title: str, sections: Sequence[Section], intro: str = "") -> Path:
    """Write the self-contained report atomically (:func:`glassnet._files.write_atomic`: a uniquely named
    temporary file renamed into place, so concurrent writers to one folder all succeed)."""
    from glassnet._files import write_atomic

    data = render_report(title, sections, intro).encode("utf-8")
    write_atomic(path, lambda f: f.write(data))
    return Path(path)
