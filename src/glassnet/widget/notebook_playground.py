"""``glassnet.widget.playground()``: the playground served from the notebook's kernel, shown in the cell.

The server (:class:`glassnet.playground.server.PlaygroundServer`) listens on 127.0.0.1 on a free port and runs
in a background thread of the kernel, so the cell returns at once and the notebook stays usable. One server
per kernel: calling again shows the same one; ``.shutdown()`` on the returned server stops it.

Frames. The playground forbids other pages to frame it (``X-Frame-Options: DENY``, against clickjacking).
The kernel's own server lets the notebook's pages frame it instead: it is started with
``frame_ancestors=`` :data:`NOTEBOOK_FRAME_ANCESTORS` (pages served from this machine, and VS Code's notebook
view), sent as the policy ``frame-ancestors``; every other site still may not. A playground started any
other way is unchanged. If the page cannot be framed all the same, the cell shows a link that opens it in a new tab.

The address is the kernel's own 127.0.0.1, which the browser reaches when both run on one machine (JupyterLab
or VS Code on your computer); a kernel on another machine (Colab, a remote server) needs its port forwarded.
"""

from __future__ import annotations

import html
import urllib.request

#: the pages that may frame the kernel's playground: JupyterLab or Notebook on this machine, VS Code's webview
NOTEBOOK_FRAME_ANCESTORS = ("'self'", "http://127.0.0.1:*", "http://localhost:*", "vscode-webview:")

_server = None  # the kernel's playground, started by the first call


def playground(height: int = 760):
    """Start the playground in this kernel (once) and show it in the cell; returns the server.

    Parameters
    ----------
    height : int
        Height of the frame in pixels (200 to 4000).

    Returns
    -------
    PlaygroundServer
        Its ``url``; ``shutdown()`` stops it.
    """
    from IPython.display import HTML, display

    if isinstance(height, bool) or not isinstance(height, int) or not 200 <= height <= 4000:
        raise ValueError(f"height must be an integer number of pixels in [200, 4000]; got {height!r}.")
    server = _running_server()
    display(HTML(_cell_html(server.url, height, _frameable(server.url))))
    return server


def _running_server():
    """The kernel's playground server, started on a free 127.0.0.1 port if none is running."""
    global _server
    from glassnet.playground.server import PlaygroundServer

    if _server is None or _server.httpd.stopping.is_set():
        _server = PlaygroundServer("127.0.0.1", 0, frame_ancestors=NOTEBOOK_FRAME_ANCESTORS).start()
    return _server


def _frameable(url: str) -> bool:
    """Whether the page at ``url`` may be shown in a frame of a notebook's page (no ``X-Frame-Options``, and
    no Content-Security-Policy ``frame-ancestors 'none'``)."""
    request = urllib.request.Request(url, method="HEAD")
    with urllib.request.urlopen(request, timeout=5) as answer:  # 127.0.0.1 only: never the internet
        deny = answer.headers.get("X-Frame-Options", "").strip().upper() in ("DENY", "SAMEORIGIN")
        policies = answer.headers.get_all("Content-Security-Policy") or []
    return not deny and not any("frame-ancestors 'none'" in policy for policy in policies)


def _cell_html(url: str, height: int, frame: bool) -> str:
    link = f'<a href="{html.escape(url)}" target="_blank" rel="noopener">{html.escape(url)}</a>'
    if frame:
        return (
            f'<iframe class="glassnet-playground" src="{html.escape(url)}" title="glassnet playground" '
            f'width="100%" height="{height}" style="border:1px solid #e0e3e8;border-radius:6px"></iframe>'
            f'<div style="font-size:12px">glassnet playground at {link} (opens in a tab too)</div>'
        )
    return (
        f'<div class="glassnet-playground-link" style="font-size:14px;padding:6px 0">glassnet playground: '
        f"{link} (running in this kernel; it could not be framed here, so it opens in a new tab)"
        "</div>"
    )
