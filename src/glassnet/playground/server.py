"""The playground's web server: Python's standard library only (``http.server`` and server-sent events).

Why the standard library: the playground must start from a plain ``pip install glassnet`` and work offline,
and it serves one user's browser on loopback. A threaded ``http.server`` serves a dozen tabs easily; frames go
to the page over server-sent events (a long ``text/event-stream`` response the browser's ``EventSource``
reconnects by itself), which need no WebSocket handshake code and no dependency. Training never runs on the
request path: each session has its own thread (:mod:`glassnet.playground.session`).

Safety: the server listens on 127.0.0.1 unless ``host`` is given; a request whose ``Host`` header is not an
address this server answers to is refused with 421 (a DNS-rebinding page would send its own name), and a
request from a page of another origin with 403, ``Origin: null`` included (a sandboxed frame or a page opened
from a file). Commands are ``application/json`` (a file upload ``application/octet-stream``): a page of another
site cannot send those without the browser asking the server first, which it never answers. Every number in a
command is finite and its nesting shallow, or the reply is 400 with a message. Connections are bounded
(:data:`MAX_CONNECTIONS`, one thread each) and time out when the client stalls (:data:`SOCKET_TIMEOUT`);
request bodies, sessions and network sizes are bounded too.
"""

from __future__ import annotations

import ipaddress
import json
import math
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from glassnet.playground.build import menus
from glassnet.playground.config import ConfigError, salvage_config
from glassnet.playground.session import SessionError, SessionManager

__all__ = ["PlaygroundServer"]

MAX_BODY = 8 * 1024 * 1024  # bytes: a CSV of 5,000 rows or a model file
MAX_CONNECTIONS = 64  # open connections (one thread each): 16 tabs with an event stream and a few requests
MAX_NOTE = 4000  # characters of a teacher's note in a lesson
SOCKET_TIMEOUT = 30.0  # seconds a connection may stall (or idle between requests) before it is closed
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}  # fmt: skip


def _static_files() -> dict[str, bytes]:
    root = resources.files("glassnet.playground") / "static"
    return {entry.name: entry.read_bytes() for entry in root.iterdir() if entry.is_file()}


def _finite_number(text: str) -> float:
    """``json.loads``'s reader of decimals: a number beyond float's range (``1e400``) is an error, not inf."""
    value = float(text)
    if not math.isfinite(value):
        raise ConfigError(f"The number {text[:40]} is out of range (at most about 1.8e308).")
    return value


def _bounded_int(text: str) -> int:
    """``json.loads``'s reader of integers: at most 15 digits (every setting is far below; float holds them)."""
    if len(text.lstrip("-")) > 15:
        raise ConfigError(f"The number {text[:40]}... is out of range (at most 15 digits).")
    return int(text)


def _no_constant(name: str):
    raise ConfigError(f"{name} is not a number a command may hold; send a finite number.")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class _Handler(BaseHTTPRequestHandler):
    server_version = "glassnet-playground"
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT  # a read or write that stalls this long ends the connection (and its thread)
    server: _HTTPServer

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        if self.server.verbose:
            super().log_message(format, *args)

    # --- helpers ---------------------------------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        ancestors = self.server.frame_ancestors
        if ancestors:  # only these pages may frame it (a notebook's: glassnet.widget.playground)
            self.send_header("Content-Security-Policy", "frame-ancestors " + " ".join(ancestors))
        else:
            self.send_header(
                "X-Frame-Options", "DENY"
            )  # no other page may frame the playground (clickjacking)
        self.send_header("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload) -> None:
        self._send(status, json.dumps(payload, allow_nan=False).encode(), "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    def _read_body(self) -> None:
        """Read the whole body first, so that an early error never leaves bytes in a kept-alive connection."""
        self._raw = b""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            raise _TooLarge(f"The request body is {length:,} bytes; the playground takes 0 to {MAX_BODY:,}.")
        self._raw = self.rfile.read(length) if length else b""

    def _body(self) -> bytes:
        return self._raw

    def _json_body(self) -> dict:
        raw = self._body()
        if not raw:
            return {}
        try:
            value = json.loads(
                raw, parse_float=_finite_number, parse_int=_bounded_int, parse_constant=_no_constant
            )
        except ConfigError:
            raise
        except RecursionError:
            raise ConfigError(
                "The request's JSON is nested deeper than the parser goes; a command nests 3 levels at most."
            ) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigError(f"The request body is not valid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise ConfigError("The request body must be a JSON object.")
        return value

    def _host_ok(self) -> bool:
        host = self.headers.get("Host", "")
        if host.lower() not in self.server.allowed_hosts and not (
            self.server.any_ip and _is_ip(host.rsplit(":", 1)[0]) and host.endswith(f":{self.server.port}")
        ):
            self._error(
                HTTPStatus.MISDIRECTED_REQUEST,
                f"Refused: this playground serves {self.server.url}, not the host {host!r} "
                "(a page under another name may be trying DNS rebinding). Open the address printed by "
                "`glassnet playground`.",
            )
            return False
        origin = self.headers.get("Origin")
        if origin is not None:  # "null" too: a sandboxed frame or a file:// page, whose origin nobody knows
            origin_host = urlsplit(origin).netloc.lower()
            if origin_host not in self.server.allowed_hosts and not (
                self.server.any_ip and _is_ip(origin_host.rsplit(":", 1)[0])
            ):
                self._error(
                    HTTPStatus.FORBIDDEN, f"Refused: requests from pages of {origin} are not allowed."
                )
                return False
        return True

    def _content_type_ok(self, method: str, parts: list[str]) -> bool:
        """A command (POST) is JSON, a file upload raw bytes: types no page of another site may send unasked
        (an HTML form or a plain ``fetch`` may send text/plain, form data or multipart without asking)."""
        if method != "POST":
            return True
        expected = "application/octet-stream" if parts == ["api", "digits", "load"] else "application/json"
        received = self.headers.get_content_type()
        if received != expected:
            self._error(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                f"Refused: {'/'.join(parts)} takes a body of type {expected}; got {received}.",
            )
            return False
        return True

    # --- dispatch --------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        try:
            self._read_body()
            if not self._host_ok() or not self._content_type_ok(method, parts):
                return None
            if method == "GET" and parts == ["favicon.ico"]:
                return self._send(200, self.server.static["favicon.svg"], _TYPES[".svg"])
            if method == "GET" and (not parts or parts == ["index.html"]):
                return self._send(200, self.server.static["index.html"], _TYPES[".html"])
            if method == "GET" and parts == ["teacher"]:  # a page of checkboxes that builds a class's link
                return self._send(200, self.server.static["teacher.html"], _TYPES[".html"])
            if method == "GET" and len(parts) == 2 and parts[0] == "static":
                return self._static(parts[1])
            if parts[:1] == ["api"]:
                return self._api(method, parts[1:], parse_qs(url.query))
            return self._error(404, f"Nothing at {url.path}; open / for the playground.")
        except _TooLarge as exc:
            return self._error(413, str(exc))
        except (ConfigError, SessionError, ValueError, TypeError, OverflowError) as exc:  # say what was wrong
            return self._error(400, str(exc))
        except KeyError:
            return self._error(
                404,
                "This playground session has expired (idle too long) or the server restarted: reload the page.",
            )
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True
            return None
        except Exception as exc:  # the server keeps running; the page shows the message
            return self._error(500, f"Unexpected {type(exc).__name__}: {exc}")

    def _static(self, name: str) -> None:
        body = self.server.static.get(name)
        if body is None:
            return self._error(404, f"No static file {name!r}.")
        suffix = name[name.rfind(".") :]
        self._send(200, body, _TYPES.get(suffix, "application/octet-stream"))

    def _api(self, method: str, parts: list[str], query: dict) -> None:
        manager = self.server.sessions
        if method == "GET" and parts == ["menus"]:  # the registries' choices, read at each call
            return self._json(200, menus())
        if method == "POST" and parts == ["session"]:
            body = self._json_body()
            config, dropped = body.get("config") or {}, []
            if body.get("salvage"):  # a link: keep what is valid, say what is not
                config, dropped = salvage_config(config, None)
            session = manager.create(config, body.get("csv"))
            return self._json(200, {**session.state(), "dropped": dropped})
        if len(parts) >= 2 and parts[0] == "session":
            session = manager.get(parts[1])
            action = parts[2] if len(parts) > 2 else "state"
            if method == "GET" and action == "events":
                return self._events(session)
            if method == "GET" and action in _DOWNLOADS:
                return self._send(200, *_DOWNLOADS[action](session, query))
            if method == "POST" and action == "close":
                manager.close(session.id)
                return self._json(200, {"closed": True})
            if method == "POST" and action in _COMMANDS:
                return self._json(200, _COMMANDS[action](session, self._json_body()))
        if parts[:1] == ["digits"]:
            return self.server.digits.handle(self, method, parts[1:])
        return self._error(404, f"Unknown API call {method} /api/{'/'.join(parts)}.")

    def _events(self, session) -> None:
        """Server-sent events: the newest frame whenever there is one, at most ``max_fps`` a second."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Accel-Buffering", "no")
        self.end_headers()
        self.close_connection = True
        version, last_sent = 0, 0.0
        min_gap = 1.0 / self.server.max_fps
        while not self.server.stopping.is_set() and not session.closed:
            frame, version_now = session.wait_frame(version, timeout=10.0)
            session.last_seen = time.monotonic()
            if frame is None:
                chunk = b": keep-alive\n\n"
            else:
                gap = min_gap - (time.perf_counter() - last_sent)
                if gap > 0:  # throttle: wait, then send the newest frame (older ones are dropped)
                    time.sleep(gap)
                    frame, version_now = session.frame, session.version
                version, last_sent = version_now, time.perf_counter()
                chunk = b"data: " + frame.encode() + b"\n\n"
            self.wfile.write(chunk)
            self.wfile.flush()


def _lesson(session, query: dict) -> tuple:
    note = (query.get("note") or [""])[0]
    if len(note) > MAX_NOTE:
        raise ValueError(f"The teacher's note has {len(note):,} characters; a lesson takes {MAX_NOTE:,}.")
    return (session.lesson_html(note).encode(), "text/html; charset=utf-8",
            {"Content-Disposition": 'attachment; filename="glassnet-lesson.html"'})  # fmt: skip


#: GET /api/session/ID/<action>: (body, content type, headers) of the session's state, script, lesson, model
_DOWNLOADS = {
    "state": lambda session, query: (json.dumps(session.state(), allow_nan=False).encode(), "application/json", {}),
    "python": lambda session, query: (session.python().encode(), "text/x-python; charset=utf-8",
                                      {"Content-Disposition": 'inline; filename="glassnet_playground.py"'}),
    "lesson": _lesson,
    "model": lambda session, query: (session.model_bytes(), "application/octet-stream",
                                     {"Content-Disposition": 'attachment; filename="playground-model.npz"'}),
}  # fmt: skip


def _play(session, body: dict) -> dict:
    speed = body.get("steps_per_frame")
    session.play(int(speed) if isinstance(speed, (int, float)) and speed >= 1 else None)
    return {"playing": session.playing}


def _pause(session, body: dict) -> dict:
    session.pause()
    return {"playing": False}


def _reset(session, body: dict) -> dict:
    session.pause()
    session.reset()
    return {"playing": False}


def _warp(session, body: dict) -> dict:
    session.set_warp(body.get("layer"), body.get("units"))
    return {"layer": session.warp_layer, "units": list(session.warp_units)}


#: POST /api/session/ID/<action> with a JSON body: what the session does and the reply
_COMMANDS = {
    "config": lambda s, body: {"change": s.configure(body.get("config") or {}, body.get("csv")), **s.state()},
    "play": _play,
    "pause": _pause,
    "reset": _reset,
    "step": lambda s, body: {"trace": s.step(trace=bool(body.get("trace", True)))},
    "warp": _warp,
    "weight": lambda s, body: {"change": s.set_weight(body.get("layer"), body.get("row"), body.get("col"),
                                                      body.get("value"))},
    "point": lambda s, body: {"change": s.add_point(body.get("x"), body.get("y"), body.get("label")), **s.state()},
    "gradcheck": lambda s, body: s.gradcheck(),
}  # fmt: skip


class _TooLarge(Exception):
    pass


class _HTTPServer(ThreadingHTTPServer):
    """One thread per connection, at most :data:`MAX_CONNECTIONS` at once: one more is answered 503 and closed
    at once, from the accepting thread."""

    daemon_threads = True
    allow_reuse_address = True
    frame_ancestors: tuple[str, ...] = ()  # the pages that may frame the playground (PlaygroundServer's)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request, client_address) -> None:
        if not self.slots.acquire(blocking=False):
            try:
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                b"Connection: close\r\nRetry-After: 1\r\n\r\n")  # fmt: skip
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def handle_error(self, request, client_address) -> None:
        """A client that went away or stalled is no error of the server's: no traceback for it."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


class PlaygroundServer:
    """The playground on ``host:port`` (``port=0``: a free port); :meth:`serve_forever` or :meth:`start`.

    Parameters
    ----------
    host : str
        The address to listen on; 127.0.0.1 by default (only this machine). Another address serves the
        network, so it must be asked for explicitly.
    port : int
        0 picks a free port; :attr:`url` tells which.
    max_sessions, idle_timeout : int, float
        At most this many tabs at once; a session without a request or an open event stream for
        ``idle_timeout`` seconds is freed.
    max_fps : float
        Frames per second pushed to each page at most.
    frame_ancestors : tuple of str
        The pages that may show the playground in a frame (a Content-Security-Policy ``frame-ancestors`` list);
        empty by default: no page may (``X-Frame-Options: DENY``, against clickjacking).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_sessions: int = 16,
        idle_timeout: float = 600.0,
        max_fps: float = 30.0,
        verbose: bool = False,
        frame_ancestors: tuple[str, ...] = (),
    ) -> None:
        from glassnet.playground.digits import DigitsLab

        self.httpd = _HTTPServer((host, port), _Handler)
        self.httpd.frame_ancestors = tuple(frame_ancestors)
        self.host, self.port = host, self.httpd.server_address[1]
        shown = f"[{host}]" if ":" in host else host
        if host in ("0.0.0.0", "::", ""):
            shown = "127.0.0.1"
        self.url = f"http://{shown}:{self.port}/"
        allowed = {f"{shown}:{self.port}".lower()}
        if host in ("127.0.0.1", "0.0.0.0", "::", "", "localhost", "::1"):
            allowed |= {f"localhost:{self.port}", f"127.0.0.1:{self.port}", f"[::1]:{self.port}"}
        httpd = self.httpd
        httpd.allowed_hosts = allowed
        httpd.any_ip = host in ("0.0.0.0", "::", "")  # a wildcard: any IP literal (never a name) is fine
        httpd.port, httpd.url = self.port, self.url
        httpd.verbose, httpd.max_fps = verbose, max_fps
        httpd.static = _static_files()
        httpd.sessions = SessionManager(max_sessions=max_sessions, idle_timeout=idle_timeout)
        httpd.digits = DigitsLab()
        httpd.stopping = threading.Event()
        self.sessions = httpd.sessions
        self._thread: threading.Thread | None = None
        self._reaper = threading.Thread(target=self._reap, name="playground-reaper", daemon=True)
        self._reaper.start()

    def _reap(self) -> None:
        while not self.httpd.stopping.wait(min(30.0, max(0.05, self.sessions.idle_timeout / 4))):
            self.sessions.reap()

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown` (or Ctrl-C in the calling thread, after which it cleans up)."""
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        finally:
            self._cleanup()

    def start(self) -> PlaygroundServer:
        """Serve from a background thread (tests, notebooks); returns self."""
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="playground-server", daemon=True)  # fmt: skip
        self._thread.start()
        return self

    def _cleanup(self) -> None:
        self.httpd.stopping.set()
        self.sessions.close_all()
        self.httpd.digits.close()
        self.httpd.server_close()

    def shutdown(self) -> None:
        """Stop serving, stop every session's training and close the socket."""
        self.httpd.stopping.set()
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._cleanup()

    def __enter__(self) -> PlaygroundServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.shutdown()
