"""Frames per second of the playground: ``python -m glassnet.playground.bench`` (a benchmark, not a test).

Three numbers for a 2-8-8-2 tanh network on circles (400 points, Adam, batches of 10), and the last for a
2-32-32-2 network too:

- **frames drawn**: how many complete frames (the 48x48 decision-region grid, every neuron's 20x20 map, the
  weights, the four scores on all points, the curves, encoded as JSON) the session computes per second when
  it does nothing else, i.e. the ceiling;
- **frames received**: a real run through the HTTP server: the session trains in its thread while this
  script reads the server-sent event stream like a page would, and counts the frames that arrive in
  ``--seconds``; the server sends at most 30 a second, so 30 is the target;
- **frames on the page**: headless Chromium opens the playground, plays, and counts the frames the page has
  drawn (decision map, neuron maps, edges, curves) in ``--seconds``: what a student sees. Issue 21's targets:
  20 a second for 2-8-8-2, 10 for 2-32-32-2. Needs Selenium and Chromium (``chromium``, ``chromedriver``).
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


WIDE = {**CONFIG, "layers": "32:tanh:0,32:tanh:0"}


def _query(config: dict) -> str:
    return "&".join(f"{k}={v}" for k, v in config.items())


def _chromium(profile: str):
    """A headless Chromium driven by Selenium, or None when either is missing."""
    import shutil

    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return None
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        return None
    options = Options()
    options.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 f"--user-data-dir={profile}", "--window-size=1400,1000"):  # fmt: skip
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(driver_path))


_COUNTERS = "return [window.__playground.frames, window.__playground.received, window.__playground.drawMs]"


def _measure(driver, url: str, seconds: float, speed: str) -> tuple[float, float, float]:
    """(frames drawn a second, frames received a second, milliseconds of script a frame) of one page."""
    driver.get("about:blank")
    driver.get(url)
    deadline = time.perf_counter() + 30
    while not driver.execute_script("return window.__playground && window.__playground.frames > 0"):
        if time.perf_counter() > deadline:
            raise RuntimeError("the page drew no frame in 30 s")
        time.sleep(0.05)
    if speed:  # the speed menu's value: steps per frame, "0" as fast as it goes; "": the page's default
        driver.execute_script(f"document.getElementById('speed').value = '{speed}'")
    driver.find_element("id", "btn-play").click()
    time.sleep(1.0)  # the first second: the page and the session warm up
    first = driver.execute_script(_COUNTERS)
    start = time.perf_counter()
    time.sleep(seconds)
    last = driver.execute_script(_COUNTERS)
    elapsed = time.perf_counter() - start
    driver.find_element("id", "btn-play").click()
    drawn = last[0] - first[0]
    return drawn / elapsed, (last[1] - first[1]) / elapsed, (last[2] - first[2]) / max(drawn, 1)


def frames_on_the_page(seconds: float, configs: list[dict], speed: str = "") -> list[tuple] | None:
    """Frames per second the page draws in headless Chromium, for each configuration; None without a browser."""
    import shutil
    import tempfile

    profile = tempfile.mkdtemp(prefix="glassnet-bench-")
    driver = _chromium(profile)
    if driver is None:
        shutil.rmtree(profile, ignore_errors=True)
        return None
    try:
        with PlaygroundServer(port=0) as server:
            return [_measure(driver, f"{server.url}#{_query(config)}", seconds, speed) for config in configs]
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m glassnet.playground.bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each measurement (default 5)")
    parser.add_argument("--no-browser", action="store_true", help="skip the measurement in Chromium")
    args = parser.parse_args(argv)
    drawn = frames_drawn(args.seconds)
    received, steps = frames_received(args.seconds)
    print("glassnet playground, 2-8-8-2 tanh network on circles (400 points, Adam, batch 10)")
    print(f"  frames drawn (ceiling):            {drawn:7.1f} per second")
    print(f"  frames received over HTTP (SSE):   {received:7.1f} per second (the server sends at most 30)")
    print(f"  training steps while streaming:    {steps:7.0f} per second")
    page = None if args.no_browser else frames_on_the_page(args.seconds, [CONFIG, WIDE])
    if page is None:
        print("  frames on the page (Chromium):     skipped (--no-browser, or no Selenium/Chromium)")
    else:
        for name, (drawn, received, ms), target in zip(("2-8-8-2", "2-32-32-2"), page, (20, 10), strict=True):
            print(
                f"  frames on the page, {name + ':':<15}{drawn:7.1f} per second (target {target}); "
                f"{received:.1f} received, {ms:.1f} ms to draw one"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
