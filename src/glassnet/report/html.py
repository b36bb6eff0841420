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
:root { --ink: #1f2328; --muted: #59636e; --line: #d8dee4; --soft: #f6f8fa; --accent: #2a6bb8; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em auto; max-width: 1100px;
       padding: 0 1em; color: var(--ink); line-height: 1.5; }
h1 { font-size: 1.8em; margin: .2em 0 .4em; }
h2 { margin-top: 2em; padding-bottom: .2em; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05em; margin: .2em 0 .5em; }
nav { font-size: .9em; color: var(--muted); margin: .6em 0 1em; }
nav a { color: var(--accent); text-decoration: none; margin-right: .9em; white-space: nowrap; }
.notice { background: #fff4e0; border-left: 6px solid #e8890c; padding: .7em 1em; margin: 1em 0;
          font-weight: 500; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: .6em 0; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: .35em .65em; text-align: left; white-space: nowrap; }
th { background: var(--soft); font-weight: 600; border-bottom: 2px solid var(--line); }
th.group { text-align: center; border-bottom: 1px solid var(--line); border-left: 2px solid #fff; }
.hint { display: none; font-size: .85em; color: var(--muted); margin: 0; }
td.num, th.num { text-align: right; }
td.bar { min-width: 9em; background-repeat: no-repeat; background-size: var(--w) 76%;
         background-position: left center; background-image: linear-gradient(#d3e4f8, #d3e4f8); }
ul.notes { padding-left: 1.2em; margin: .6em 0; }
ul.notes li { margin: .2em 0; }
.figs { display: grid; gap: 1.2em; grid-template-columns: repeat(var(--cols, 1), minmax(0, 1fr)); }
figure { margin: .6em 0; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { font-size: .9em; color: var(--muted); margin-top: .3em; }
.cards { display: grid; gap: 1em; grid-template-columns: repeat(auto-fill, minmax(min(100%, 420px), 1fr)); }
.card { border: 1px solid var(--line); border-radius: 6px; padding: .7em 1em; background: var(--soft); }
.card dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .15em .9em; margin: 0; }
.card dt { color: var(--muted); }
.card dd { margin: 0; overflow-wrap: anywhere; }
.card ul { margin: .5em 0 0; padding-left: 1.1em; font-size: .9em; color: var(--muted); }
.badge { display: inline-block; min-width: 1.5em; padding: 0 .3em; margin-right: .35em; border-radius: 4px;
         background: var(--ink); color: #fff; text-align: center; font-weight: 600; }
pre { background: var(--soft); padding: .7em; overflow-x: auto; }
details summary { cursor: pointer; color: var(--accent); }
footer { margin-top: 3em; font-size: .8em; color: var(--muted); }
figure picture { display: block; }
@media (max-width: 700px) {
  body { margin: .8em auto; }
  /* a stacked table: each row a small box of "heading: value" lines, so nothing scrolls sideways */
  table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; width: 100%; }
  table.stack tr:first-child { display: none; }
  table.stack tr { border: 1px solid var(--line); border-radius: 6px; margin: .5em 0; padding: .2em 0; }
  table.stack td { display: flex; justify-content: space-between; gap: 1em; border: 0; white-space: normal;
                   text-align: right; padding: .15em .7em; }
  table.stack td::before { content: attr(data-label); color: var(--muted); text-align: left; }
  table.stack td.bar { background-size: var(--w) 70%; background-position: right center; }
  table.stack td:first-child { font-weight: 600; }
  /* short headings (P for precision) and tighter cells keep a many-column table within a phone */
  table.compact th, table.compact td { padding: .25em .2em; font-size: .8em; }
  table.compact th[data-short] { font-size: 0; }
  table.compact th[data-short]::after { content: attr(data-short); font-size: .85rem; }
  table.stack td:first-child { justify-content: flex-start; }
  h1 { font-size: 1.45em; }
  .figs { grid-template-columns: 1fr; }
  th, td { padding: .3em .5em; }
  td.long { white-space: normal; min-width: 10em; }
  td.bar { min-width: 6em; }
  .hint { display: block; }
}
"""


@dataclass
class Section:
    """One part of the report, drawn in this order: table, notes, paragraphs, cards, figures, text.

    Attributes
    ----------
    title : str
        The heading (also the section's entry in the contents line at the top).
    paragraphs : list of str
        Plain text, one paragraph each.
    table : list of dict, optional
        Rows with the same keys; it scrolls sideways on a narrow screen instead of being cut off.
    figures : list of (path, caption) or (path, caption, narrow_path)
        PNG pictures, embedded in the page; ``narrow_path``, a version drawn for a phone's width (fewer
        columns, the same text size), is shown instead on a narrow screen.
    pre : str, optional
        Preformatted text; with ``collapsed`` it is folded away under a "show" line.
    notes : list of str
        Short remarks shown as a bulleted list right under the table.
    columns : int
        Figures side by side on a wide screen (one column on a phone).
    cards : list of (heading, [(label, value), ...], [note, ...])
        Small boxes of settings, one per model.
    bars : sequence of str
        Table columns (numbers in [0, 1]) drawn with a bar behind the number.
    stack : bool
        On a narrow screen draw each table row as a small box of ``heading: value`` lines (a table of a few
        rows and many columns), so that it never scrolls sideways.
    short : dict
        Column heading -> a short one shown on a narrow screen (``{"precision": "P"}``; say what it means in
        the notes), with tighter cells.
    shade : bool
        Tint every table number in [0, 1] by how far it falls below 1, so the weak ones stand out.
    digits : int
        Decimals of the table's floats.
    kind : str
        ``"notice"`` draws the section as a highlighted box under the title, its title in bold first.
    """

    title: str
    paragraphs: list[str] = field(default_factory=list)
    table: list[dict] | None = None
    figures: list[tuple[str | os.PathLike, str]] = field(default_factory=list)  # (png path, caption)
    pre: str | None = None
    notes: list[str] = field(default_factory=list)
    columns: int = 1
    cards: list[tuple[str, list[tuple[str, str]], list[str]]] = field(default_factory=list)
    bars: Sequence[str] = ()
    stack: bool = False
    short: dict[str, str] = field(default_factory=dict)
    shade: bool = False
    digits: int = 4
    collapsed: bool = False
    kind: str = ""


def embed_png(path: str | os.PathLike) -> str:
    """Return a ``data:image/png;base64,...`` URI holding the PNG file."""
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG file")
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _numeric(value) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _cell(value, bar: bool, shade: bool, digits: int, label: str = "") -> str:
    text = html.escape(f"{value:.{digits}f}" if isinstance(value, float) else str(value))
    unit = isinstance(value, float) and 0.0 <= value <= 1.0
    data = f' data-label="{html.escape(label)}"' if label else ""  # the heading a stacked row shows
    if bar and unit:
        return f'<td class="num bar"{data} style="--w: {100 * value:.1f}%">{text}</td>'
    if shade and unit and value < 1.0:
        alpha = min(1.0, (1.0 - value) * 2.0) * 0.45  # 1.0 white, 0.9 pale red, 0.5 and below red
        return f'<td class="num"{data} style="background: rgba(214, 48, 39, {alpha:.2f})">{text}</td>'
    if _numeric(value):
        return f'<td class="num"{data}>{text}</td>'
    long = ' class="long"' if len(text) > 14 else ""  # long text may wrap
    return f"<td{long}{data}>{text}</td>"


def html_table(
    rows: Sequence[dict],
    bars: Sequence[str] = (),
    shade: bool = False,
    digits: int = 4,
    stack: bool = False,
    short: dict[str, str] | None = None,
) -> str:
    """Render a list of dicts with the same keys as an HTML table (floats with ``digits`` decimals).

    Text is left-aligned, numbers right-aligned. Columns named in ``bars`` draw numbers in [0, 1] over a
    bar of that length; ``shade`` tints every number in [0, 1] by how far it falls below 1. Keys written
    ``"group|column"`` (``"A|precision"``) share a heading ``group`` over their own. The table sits in a
    box that scrolls sideways when the screen is narrower than the table; with ``stack`` each row becomes a
    box of ``heading: value`` lines on a narrow screen instead, and ``short`` gives headings shorter versions
    for a narrow screen (see :class:`Section`).
    """
    if not rows:
        return ""
    headers = list(rows[0])
    first = rows[0]
    short = short or {}

    def head(h, text) -> str:
        css = ' class="num"' if _numeric(first.get(h, "")) else ""
        abbreviated = f' data-short="{html.escape(short[text])}"' if text in short else ""
        return f"<th{css}{abbreviated}>{html.escape(str(text))}</th>"

    kind = ' class="stack"' if stack else ' class="compact"' if short else ""
    out = [f'<div class="scroll"><table{kind}>']
    if any("|" in str(h) for h in headers):
        groups, spans = [], []  # consecutive columns of one group share its heading
        for h in headers:
            group = str(h).split("|")[0] if "|" in str(h) else ""
            if groups and groups[-1] == group and group:
                spans[-1] += 1
            else:
                groups.append(group)
                spans.append(1)
        out.append("<tr>" + "".join(
            f'<th class="group" colspan="{n}">{html.escape(g)}</th>' if g else f'<th colspan="{n}"></th>'
            for g, n in zip(groups, spans, strict=True)
        ) + "</tr>")  # fmt: skip
    out.append("<tr>" + "".join(head(h, str(h).split("|")[-1]) for h in headers) + "</tr>")
    for row in rows:
        cells = [_cell(row.get(h, ""), h in bars, shade, digits, str(h) if stack else "") for h in headers]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table></div>")
    if len(headers) > 5 and not stack and not short:
        out.append('<p class="hint">The table scrolls sideways.</p>')
    return "\n".join(out)


def _anchor(title: str) -> str:
    return "s-" + "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")


def _card(heading: str, settings: Sequence[tuple[str, str]], notes: Sequence[str]) -> str:
    rows = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>" for k, v in settings)
    extra = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return (
        f'<div class="card"><h3>{_badged(heading)}</h3><dl>{rows}</dl>'
        + (f"<ul>{extra}</ul>" if extra else "")
        + "</div>"
    )


def _badged(heading: str) -> str:
    """``"A glassnet, lab recipe"`` -> the letter in a badge, then the name (a heading without one: as is)."""
    letter, _, rest = heading.partition(" ")
    if len(letter) == 1 and letter.isupper() and rest:
        return f'<span class="badge">{html.escape(letter)}</span>{html.escape(rest)}'
    return html.escape(heading)


def _section(section: Section) -> list[str]:
    if section.kind == "notice":
        text = html.escape(" ".join(section.paragraphs))
        return [f'<div class="notice"><strong>{html.escape(section.title)}:</strong> {text}</div>']
    parts = [f'<h2 id="{_anchor(section.title)}">{html.escape(section.title)}</h2>']
    if section.table:
        parts.append(html_table(section.table, bars=section.bars, shade=section.shade, digits=section.digits,
                                stack=section.stack, short=section.short))  # fmt: skip
    if section.notes:
        parts.append(
            '<ul class="notes">' + "".join(f"<li>{html.escape(n)}</li>" for n in section.notes) + "</ul>"
        )
    parts.extend(f"<p>{html.escape(p)}</p>" for p in section.paragraphs)
    if section.cards:
        parts.append('<div class="cards">' + "".join(_card(*card) for card in section.cards) + "</div>")
    if section.figures:
        parts.append(f'<div class="figs" style="--cols: {max(1, int(section.columns))}">')
        for png, caption, *narrow in section.figures:
            alt = html.escape(caption or Path(png).stem)
            img = f'<img src="{embed_png(png)}" alt="{alt}">'
            if narrow and narrow[0] is not None:  # a phone gets the version drawn for its width
                source = f'<source media="(max-width: 700px)" srcset="{embed_png(narrow[0])}">'
                img = f"<picture>{source}{img}</picture>"
            parts.append(f"<figure>{img}<figcaption>{html.escape(caption)}</figcaption></figure>")
        parts.append("</div>")
    if section.pre:
        pre = f"<pre>{html.escape(section.pre)}</pre>"
        parts.append(f"<details><summary>show</summary>{pre}</details>" if section.collapsed else pre)
    return parts


def render_report(title: str, sections: Sequence[Section], intro: str = "") -> str:
    """Return the HTML text of the report: title, notices, intro, a contents line, then the sections."""
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
    notices = [s for s in sections if s.kind == "notice"]
    body = [s for s in sections if s.kind != "notice"]
    for section in notices:
        parts.extend(_section(section))
    if intro:
        parts.append(f"<p>{html.escape(intro)}</p>")
    if len(body) > 2:
        links = "\n".join(f'<a href="#{_anchor(s.title)}">{html.escape(s.title)}</a>' for s in body)
        parts.append(f"<nav>{links}</nav>")
    for section in body:
        parts.extend(_section(section))
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
