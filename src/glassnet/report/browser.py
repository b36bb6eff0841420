"""Open a report in headless Chromium and check that it renders with every image loaded.

Used by the test suite; users can call :func:`check_report` from Python. The report itself holds no
script: a copy of it with a small checking script appended is opened, the script writes the result
into the DOM on ``window.onload``, and ``--dump-dom`` prints that DOM. A second run takes a screenshot
of the original report.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["find_chromium", "check_report", "BrowserCheck"]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)

_CHECK_SCRIPT = """
<script>
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (im) { return im.complete && im.naturalWidth > 0; });
  var out = document.createElement("pre");
  out.id = "glassnet-render-check";
  out.textContent = "GLASSNET-CHECK images=" + imgs.length + " loaded=" + ok.length +
                    " title=" + JSON.stringify(document.title) + " END";
  document.body.appendChild(out);
});
</script>
"""

_RESULT = re.compile(r'GLASSNET-CHECK images=(\d+) loaded=(\d+) title=("(?:[^"\\]|\\.)*") END')

# Headless Chromium lays a page out at least 500 px wide whatever --window-size says; an <iframe> of the
# wanted width is a true phone-width viewport (its media queries apply), so the layout is measured there.
_LAYOUT_PAGE = """<!DOCTYPE html>
<html><body style="margin: 0">
<iframe id="report" style="border: 0; width: {width}px; height: {height}px" srcdoc="{srcdoc}"></iframe>
<script>
document.getElementById("report").addEventListener("load", function () {{
  var doc = this.contentDocument, page = doc.documentElement;
  var boxes = Array.prototype.slice.call(doc.querySelectorAll(".scroll"));
  var overflow = boxes.reduce(function (m, b) {{ return Math.max(m, b.scrollWidth - b.clientWidth); }}, 0);
  var shown = Array.prototype.slice.call(doc.images).filter(function (im) {{ return im.naturalWidth > 0; }});
  var scale = shown.reduce(function (m, im) {{ return Math.min(m, im.width / im.naturalWidth); }}, 1);
  var out = document.createElement("pre");
  out.textContent = "GLASSNET-LAYOUT page=" + page.scrollWidth + " viewport=" + this.contentWindow.innerWidth +
                    " overflow=" + overflow + " scale=" + scale.toFixed(3) + " END";
  document.body.appendChild(out);
}});
</script>
</body></html>
"""

_LAYOUT = re.compile(r"GLASSNET-LAYOUT page=(\d+) viewport=(\d+) overflow=(\d+) scale=([0-9.]+) END")


@dataclass
class BrowserCheck:
    """What the browser saw: ``<img>`` elements, how many loaded, the title, the widths, a screenshot.

    ``page_width`` is the width of the laid-out page and ``viewport_width`` the window's: a page wider
    than its window makes the reader scroll sideways (at phone width, a table or picture that does not
    shrink). ``table_overflow`` is how far the widest table reaches past its box (which then scrolls
    sideways), and ``image_scale`` the smallest ratio of a picture's shown width to its own: text drawn
    into a picture shrinks by that factor (8-point labels at 0.27 are 3 pixels tall).
    """

    images: int
    loaded: int
    title: str
    screenshot: Path | None
    page_width: int = 0
    viewport_width: int = 0
    table_overflow: int = 0
    image_scale: float = 1.0

    @property
    def ok(self) -> bool:
        """True if the page has images and every one of them loaded."""
        return self.images > 0 and self.loaded == self.images


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable, or None (``$GLASSNET_CHROMIUM`` first)."""
    env = os.environ.get("GLASSNET_CHROMIUM")
    if env:
        return env
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(chromium: str, args: list[str], profile: Path, timeout: float) -> subprocess.CompletedProcess:
    cmd = [chromium, *_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def check_report(
    report: str | os.PathLike,
    screenshot: str | os.PathLike | None = None,
    chromium: str | None = None,
    timeout: float = 90.0,
    window_size: tuple[int, int] = (1280, 2000),
) -> BrowserCheck:
    """Render ``report`` in headless Chromium; count its images and how many loaded; take a screenshot.

    The page is also laid out in a frame ``window_size[0]`` pixels wide (any width, a phone's too), and
    its width measured against the frame's (``BrowserCheck.page_width``, ``viewport_width``).

    Raises
    ------
    FileNotFoundError
        If no Chromium is installed.
    RuntimeError
        If Chromium did not print the page (its stderr is included).
    """
    import json

    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError("no Chromium found; install it with: apt-get install chromium")
    report = Path(report).resolve()
    text = report.read_text(encoding="utf-8")
    width, height = window_size
    with tempfile.TemporaryDirectory(prefix="glassnet-chromium-") as tmp:
        tmp = Path(tmp)
        done = _dump(
            chromium, text.replace("</body>", _CHECK_SCRIPT + "</body>"), report, tmp / "dom", timeout
        )
        match = _RESULT.search(done.stdout)
        if match is None:
            detail = done.stderr.strip()[-2000:]
            raise RuntimeError(f"Chromium did not render {report} (exit code {done.returncode}): {detail}")
        layout_page = _LAYOUT_PAGE.format(width=width, height=height, srcdoc=html.escape(text, quote=True))
        layout = _LAYOUT.search(_dump(chromium, layout_page, report, tmp / "layout", timeout).stdout)
        shot = None
        if screenshot is not None:
            shot = _screenshot(chromium, report, Path(screenshot).resolve(), window_size, tmp, timeout)
    page, viewport, overflow, scale = (
        (int(layout.group(1)), int(layout.group(2)), int(layout.group(3)), float(layout.group(4)))
        if layout
        else (0, 0, 0, 1.0)
    )
    return BrowserCheck(
        int(match.group(1)),
        int(match.group(2)),
        json.loads(match.group(3)),
        shot,
        page,
        viewport,
        overflow,
        scale,
    )


def _screenshot(
    chromium: str, report: Path, shot: Path, window_size: tuple[int, int], tmp: Path, timeout: float
) -> Path:
    """Have Chromium take a ``window_size`` screenshot of ``report`` into ``shot``; raises if it wrote none."""
    width, height = window_size
    shot.parent.mkdir(parents=True, exist_ok=True)
    _run(
        chromium,
        [f"--screenshot={shot}", f"--window-size={width},{height}", report.as_uri()],
        tmp / "profile-shot",
        timeout,
    )
    if not shot.is_file():
        raise RuntimeError(f"Chromium wrote no screenshot of {report}")
    return shot


def _dump(
    chromium: str, page: str, report: Path, profile: Path, timeout: float
) -> subprocess.CompletedProcess:
    """Open ``page`` (HTML text, written for a moment next to ``report``); return what Chromium printed."""
    probe = report.with_name(f".{report.stem}.check.html")
    probe.write_text(page, encoding="utf-8")
    try:
        return _run(chromium, ["--virtual-time-budget=10000", "--dump-dom", probe.as_uri()], profile, timeout)
    finally:
        probe.unlink()
