"""glassnet.widget.LiveFit in a real JupyterLab, driven by headless Chromium (Debian's chromium + chromedriver).

A generated notebook fits a small network on a 2-D problem (the decision map) and an estimator on 8 x 8 digits
(the weights as pictures) with the widget, then opens the playground in a cell; the test runs it in JupyterLab
and checks, in the page, that the widget rendered, that its epoch and curves advanced while the fit ran, and
that the playground drew inside its frame. Nothing reaches the internet: the
server listens on 127.0.0.1 and every file comes from the installed packages.

Set ``GLASSNET_WIDGET_SCREENSHOTS=docs/images`` to also save a picture of the notebook there.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

webdriver = pytest.importorskip("selenium.webdriver")
pytest.importorskip("jupyterlab")
pytest.importorskip("ipykernel")
pytest.importorskip("anywidget")
nbformat = pytest.importorskip("nbformat")
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None)
CHROMEDRIVER = shutil.which("chromedriver")
if not CHROMIUM or not CHROMEDRIVER:
    pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
                allow_module_level=True)  # fmt: skip

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

SHOTS = os.environ.get("GLASSNET_WIDGET_SCREENSHOTS")
EPOCHS = 40  # the 2-D fit: each epoch sleeps 0.05 s, so the fit lasts 2 s or more and the page sees it move

MOONS = f"""\
import time
import numpy as np
from sklearn.datasets import make_moons
from glassnet.callbacks import Callback
from glassnet.network import build_mlp
from glassnet.optim import Adam
from glassnet.training import Trainer
from glassnet.widget import LiveFit

class Slow(Callback):  # a slower fit than this tiny network's, so that the page can watch it move
    def on_epoch_end(self, trainer, epoch, logs):
        time.sleep(0.05)

X, y = make_moons(400, noise=0.15, random_state=0)
net = build_mlp([2, 16, 16, 2], activation="tanh", seed=0)
live = LiveFit(data=(X, y), budget=0.5)  # 10 updates a second even on a busy machine
trainer = Trainer(net, Adam(0.03), batch_size=32, seed=0, validation_data=(X, y), callbacks=[live, Slow()])
history = trainer.fit(X, y, epochs={EPOCHS})
"""

DIGITS = """\
import warnings
from sklearn.datasets import load_digits
from glassnet.estimators import MLPClassifier
from glassnet.widget import LiveFit

Xd, yd = load_digits(return_X_y=True)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # ConvergenceWarning: a short fit on purpose
    MLPClassifier(hidden_layer_sizes=(32,), max_iter=15, random_state=0).fit(Xd / 16, yd, callbacks=[LiveFit()])
"""


PLAYGROUND = """\
from glassnet.widget import playground

server = playground(height=560)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(driver, condition, timeout=30.0, message=""):
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: condition(d), message)


def stop_group(process: subprocess.Popen) -> None:
    """End ``process`` and everything it started (its kernels): SIGTERM, then SIGKILL after 10 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def lab():
    """A JupyterLab on 127.0.0.1 with a generated notebook; yields (url of the notebook, its folder)."""
    root = Path(tempfile.mkdtemp(prefix="glassnet-lab-"))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code) for code in (MOONS, DIGITS, PLAYGROUND)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "widget.ipynb")
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    for name in ("CONFIG", "DATA", "RUNTIME"):  # no user settings, kernels or workspaces of this machine
        env[f"JUPYTER_{name}_DIR"] = str(root / f".jupyter-{name.lower()}")
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(root / ".workspaces")
    env["IPYTHONDIR"] = str(root / ".ipython")  # no startup scripts of this machine in the kernel
    labconfig = root / ".jupyter-config" / "labconfig"
    labconfig.mkdir(parents=True)  # no "Would you like to get notified about Jupyter news?" over the page
    disabled = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
    (labconfig / "page_config.json").write_text(json.dumps(disabled))
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[2] / "src"), env.get("PYTHONPATH", "")])
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}", f"--notebook-dir={root}", "--expose-app-in-browser",
               "--allow-root", "--ServerApp.port_retries=0", "--LabApp.news_url=",  # nothing from the internet:
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",  # no news, no update check,
               "--LabApp.extension_manager=readonly"]  # no extension index  # fmt: skip
    log = open(root / "lab.log", "wb")  # noqa: SIM115 - closed in the finally
    server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 40
        api = f"http://127.0.0.1:{port}/api/status?token={token}"
        while True:
            try:
                with urllib.request.urlopen(api, timeout=2) as answer:
                    json.loads(answer.read())
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n" + (root / "lab.log").read_text()[-3000:])
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/lab/tree/widget.ipynb?token={token}", root
    finally:
        try:
            stop_group(server)
        finally:
            log.close()
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="glassnet-chromium-")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,1400"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def widgets(driver) -> list[dict]:
    """What each glassnet widget on the page shows now."""
    return driver.execute_script("""
        return [...document.querySelectorAll('.glassnet-live')].map((el) => ({
          epoch: Number(el.dataset.epoch), updates: Number(el.dataset.updates),
          status: el.querySelector('.gn-status').dataset.status,
          title: el.querySelector('.gn-title').textContent,
          loss_points: Number(el.querySelector('.gn-loss canvas').dataset.points || 0),
          score_points: Number(el.querySelector('.gn-score canvas').dataset.points || 0),
          keys: [...el.querySelectorAll('.gn-key')].map((k) => k.textContent),
          map_shown: !el.querySelector('.gn-map').hidden,
          map_drawn: Number(el.querySelector('.gn-mapcanvas').dataset.drawn || 0),
          tiles: Number(el.querySelector('.gn-tiles').dataset.tiles || 0),
          tiles_shown: !el.querySelector('.gn-weights').hidden,
        }));""")  # fmt: skip


def test_livefit_draws_a_fit_in_jupyterlab(lab, browser):
    url, root = lab
    browser.get(url)
    wait(browser, lambda d: d.execute_script(
        "const a = window.jupyterapp; return !!(a && a.shell.currentWidget && a.shell.currentWidget.sessionContext"
        " && a.shell.currentWidget.sessionContext.session && a.shell.currentWidget.sessionContext.session.kernel)"),
        timeout=40, message="the notebook and its kernel did not open")  # fmt: skip
    wait(browser, lambda d: d.execute_script(
        "return window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.connectionStatus === 'connected'"),
        timeout=30, message="the kernel did not connect")  # fmt: skip
    browser.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells')")

    # while the 2-D fit runs: the widget appears and its epoch moves before the fit ends
    seen = set()

    def moving(d):
        shown = widgets(d)
        if shown and shown[0]["status"] == "training":
            seen.add(shown[0]["epoch"])
        return len(seen) >= 3 or (shown and shown[0]["status"] == "done")

    wait(browser, moving, timeout=60, message="the widget did not appear or did not move")
    assert len(seen) >= 3, f"the page saw the epochs {sorted(seen)} during the fit: not live"

    wait(browser, lambda d: len(widgets(d)) == 2 and all(w["status"] == "done" for w in widgets(d)),
         timeout=60, message=f"the fits did not finish in the page: {widgets(browser)}")  # fmt: skip
    moons, digits = widgets(browser)
    assert moons["epoch"] == EPOCHS and moons["title"] == "network 2-16-16-2, softmax_cross_entropy"
    assert moons["loss_points"] == 2 * EPOCHS  # loss and val_loss, one point an epoch
    assert moons["keys"] == ["loss", "val_loss", "val_score"] and moons["score_points"] == EPOCHS
    assert moons["map_shown"] and moons["map_drawn"] == moons["updates"]  # the last map drawn
    assert not moons["tiles_shown"]
    assert digits["epoch"] == 15 and digits["tiles"] == 16 and digits["tiles_shown"]
    assert digits["title"] == "MLPClassifier 64-32-10, softmax_cross_entropy"
    assert not digits["map_shown"]

    # the map is really painted: its pixels are not one colour
    colours = browser.execute_script("""
        const c = document.querySelector('.glassnet-live .gn-mapcanvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, seen = new Set();
        for (let i = 0; i < d.length; i += 4 * 97) seen.add(d[i] + ',' + d[i + 1] + ',' + d[i + 2]);
        return seen.size;""")  # fmt: skip
    assert colours > 20
    # the playground in the third cell: framed, and running (it drew its first frame)
    frame = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "iframe.glassnet-playground"), timeout=30,
                 message="the playground's frame did not appear")[0]  # fmt: skip
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", frame)
    browser.switch_to.frame(frame)
    try:
        wait(browser, lambda d: d.execute_script("return !!(window.__playground && window.__playground.frames > 0)"),
             timeout=30, message="the playground did not draw in its frame")  # fmt: skip
    finally:
        browser.switch_to.default_content()
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        time.sleep(0.5)
        browser.save_screenshot(str(Path(SHOTS) / "widget-playground-cell.png"))
        elements = browser.find_elements(By.CSS_SELECTOR, ".glassnet-live")
        for element, name in zip(elements, ("widget", "widget-digits"), strict=True):
            browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
            time.sleep(0.3)  # let the notebook's scrolling settle
            element.screenshot(str(Path(SHOTS) / f"{name}.png"))
        # the README's picture: the first cell and its widget, without the file browser
        browser.execute_script("window.jupyterapp.shell.collapseLeft()")
        browser.execute_script("document.querySelector('.jp-Cell').scrollIntoView({block: 'start'})")
        time.sleep(0.5)
        browser.save_screenshot(str(Path(SHOTS) / "widget-jupyterlab.png"))
