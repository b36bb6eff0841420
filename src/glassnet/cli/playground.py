"""``glassnet playground``: a local web app that trains glassnet's own layers live in the browser."""

from __future__ import annotations

import argparse
import threading
import webbrowser

from glassnet.cli._common import CLIError, eprint


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "playground",
        help="watch glassnet learn a 2-D problem live in your browser, one batch at a time",
        description="Start the glassnet playground: a local web page (no internet needed) that trains glassnet's "
        "own layers on 2-D problems or your CSV, shows the decision regions, every neuron and weight, steps "
        "through one batch with the formulas and the source, and lets you draw a digit. Ctrl-C stops it.",
    )
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 serves your network)")  # fmt: skip
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    p.add_argument("--idle-timeout", type=float, default=600.0,
                   help="seconds after which an idle tab's session is freed (default 600)")  # fmt: skip
    p.add_argument("--verbose", action="store_true", help="log every request")
    return p


def run(args) -> int:
    from glassnet.playground.server import PlaygroundServer

    if not 0 <= args.port <= 65535:
        raise CLIError(f"--port must be in 0..65535; got {args.port}", code=2)
    try:
        server = PlaygroundServer(args.host, args.port, idle_timeout=args.idle_timeout, verbose=args.verbose)
    except OSError as exc:
        raise CLIError(
            f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc}); try another --port, or --port 0"
        ) from None
    eprint(f"glassnet playground: {server.url}  (Ctrl-C stops it)")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        eprint(f"warning: listening on {args.host}: other machines on your network can open the playground")
    if not args.no_browser:
        threading.Timer(0.3, lambda: webbrowser.open(server.url)).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        eprint("glassnet playground: stopped")
    return 0
