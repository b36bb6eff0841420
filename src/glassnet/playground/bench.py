"""Frames per second of the playground: ``python -m glassnet.playground.bench`` (a benchmark, not a test).

Two numbers for a 2-8-8-2 tanh network on circles (400 points, Adam, batches of 10):

- **frames drawn**: how many complete frames (the 48x48 decision-region grid, every neuron's 20x20 map, the
  weights, the four scores on all points, the curves, encoded as JSON) the session computes per second when
  it does nothing else, i.e. the ceiling;
- **frames received**: a real run through the HTTP server: the session trains in its thread while this
  script reads the server-sent event stream like a page would, and counts the frames that arrive in
  ``--seconds``; the server sends at most 30 a second, so 30 is the target.
"""

from __future__ import annotations

import argparse
import http.client
import json
import time

from glassnet.playground.server import PlaygroundServer
from glassnet.playground.session import Session

CONFIG = {"dataset": "circles", "n_samples": 400, "layers": "8:tanh:0,8:tanh:0", "optimizer": "adam", "lr": 0.03,
          "batch_size": 10}  # fmt: skip


def frames_drawn(seconds: float) -> float:
    session = Session("bench", CONFIG)
    for _ in range(50):
        session.step(trace=False)
    count, start = 0, time.perf_counter()
    with session.lock:
        while time.perf_counter() - start < seconds:
            session._publish()
            count += 1
    session.close()
    return count / (time.perf_counter() - start)


def frames_received(seconds: float) -> tuple[float, float]:
    with PlaygroundServer(port=0) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request(
            "POST", "/api/session", json.dumps({"config": CONFIG}), {"Content-Type": "application/json"}
        )
        sid = json.loads(conn.getresponse().read())["id"]
        conn.request("POST", f"/api/session/{sid}/play", "{}", {"Content-Type": "application/json"})
        conn.getresponse().read()
        events = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        events.request("GET", f"/api/session/{sid}/events")
        stream = events.getresponse()
        count, start, steps = 0, time.perf_counter(), []
        while time.perf_counter() - start < seconds:
            line = stream.fp.readline()
            if line.startswith(b"data: "):
                count += 1
                steps.append(json.loads(line[6:])["step"])
        elapsed = time.perf_counter() - start
        events.close()
        conn.close()
    return count / elapsed, (steps[-1] - steps[0]) / elapsed if len(steps) > 1 else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m glassnet.playground.bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each measurement (default 5)")
    args = parser.parse_args(argv)
    drawn = frames_drawn(args.seconds)
    received, steps = frames_received(args.seconds)
    print("glassnet playground, 2-8-8-2 tanh network on circles (400 points, Adam, batch 10)")
    print(f"  frames drawn (ceiling):            {drawn:7.1f} per second")
    print(f"  frames received over HTTP (SSE):   {received:7.1f} per second (the server sends at most 30)")
    print(f"  training steps while streaming:    {steps:7.0f} per second")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
