# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The dashboard page in a real headless Chromium while the demo clip plays through the real nodes over DDS.

Needs Debian's ``chromium`` and ``chromium-driver`` (``tools/install_browser.sh``); without them the
module skips with one reason. Writes ``out/dashboard/dashboard.png`` (and ``perception_stopped.png``)
for a person to look at.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import PROCESS_TEST_TIMEOUT_S, ROOT, wait_for
from rclpy.parameter import Parameter

from emotion_perception.dashboard.access import AccessPolicy
from emotion_perception.dashboard.hub import ClientHub
from emotion_perception.dashboard.server import DashboardServer
from emotion_perception.dashboard.state import DashboardState, FacePoint
from emotion_perception.ros.dashboard_node import DashboardNode
from emotion_perception.tools.demo import DemoOptions, run_demo

pytestmark = pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
try:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service
except ImportError:  # pragma: no cover - selenium is in requirements.txt
    webdriver = None
NO_BROWSER = None if webdriver is not None and CHROMIUM and CHROMEDRIVER else (
    "no headless browser: install Debian's chromium and chromium-driver (tools/install_browser.sh) and selenium")

OUT = ROOT / "out" / "dashboard"
FACE_SERIES_JS = """
const p = window.dashboard && window.dashboard.plot;
if (!p) return null;
const i = p.series.findIndex((s) => s.label === arguments[0]);
if (i < 1) return null;
const ys = p.data[i].filter((v) => v !== null);
return ys.length ? [ys.length, Math.min(...ys), Math.max(...ys)] : null;
"""
MARKER_IN_VIEW_JS = """
const p = window.dashboard.plot;
const a = [...window.dashboard.model.actions.values()].find((a) => a.name === arguments[0]);
return Boolean(p && a && p.scales.x.min <= a.stamp && a.stamp <= p.scales.x.max);
"""


@pytest.fixture(scope="module")
def chromium() -> Iterator[webdriver.Chrome]:
    """One headless Chromium; the test skips with one reason where there is none."""
    if NO_BROWSER:
        pytest.skip(NO_BROWSER)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,1050", "--hide-scrollbars"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    except WebDriverException as exc:
        pytest.skip(f"no headless browser: chromium does not start here: {exc.msg}")
    try:
        yield driver
    finally:
        driver.quit()


def _text(driver: webdriver.Chrome, css: str) -> str:
    """The text of every element matching ``css`` (read in the page: the page redraws them all the time)."""
    return driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map((e) => e.innerText).join(' | ')", css)


def _check_a_token_guarded_page(driver: webdriver.Chrome) -> None:
    """A page opened with ?token= carries it on every request and its socket; without it: 401. The server has
    the policy of a non-loopback bind, its socket on 127.0.0.1."""
    token = "browser-token-123"
    state = DashboardState()
    state.add_frame(1.0, [FacePoint("face_7", 0.4, 0.9)])
    server = DashboardServer(ClientHub(state), "127.0.0.1", 0, AccessPolicy("0.0.0.0", token))
    server.start()
    try:
        driver.get(server.url)
        assert "401" in driver.execute_script("return document.body.innerText")
        driver.get_log("browser")  # reading the log empties it: the expected 401 is not counted below
        driver.get(f"{server.url}?token={token}")
        assert wait_for(lambda: _text(driver, "#connection") == "live", timeout=30), _text(driver, "#connection")
        assert wait_for(lambda: _text(driver, '#faces li[data-face="face_7"]'), timeout=30)
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not severe, severe  # the scripts, styles and the socket all carried the token (its cookie)
    finally:
        server.stop()


@pytest.mark.slow
def test_the_page_in_chromium_token_then_live_valence_actions_verdicts_stats_and_health(
    chromium: webdriver.Chrome, ros_context, executor, tmp_path: Path
) -> None:
    _check_a_token_guarded_page(chromium)
    dashboard = DashboardNode(context=ros_context, parameter_overrides=[Parameter("port", value=0)])
    executor.add_node(dashboard)
    driver = chromium
    summary: dict = {}
    # 6.5-15 s of the clip: she cries, the robot tells a joke at 9 s, she laughs from about 10 s.
    options = DemoOptions(start=6.5, end=15.0, out=tmp_path / "demo", colour=False, quiet=True, extra_wait=10.0)
    demo = threading.Thread(target=lambda: summary.update(run_demo(options, context=ros_context)), daemon=True)
    try:
        driver.get(dashboard.url)
        assert wait_for(lambda: _text(driver, "#connection") == "live", timeout=30), _text(driver, "#connection")
        assert wait_for(lambda: dashboard.camera_subscribed, timeout=10)  # a page is open: the camera is wanted
        demo.start()

        assert wait_for(lambda: _text(driver, "#faces li[data-face]"), timeout=90)
        face = driver.execute_script("return document.querySelector('#faces li[data-face]').dataset.face")
        assert wait_for(lambda: (driver.execute_script(FACE_SERIES_JS, face) or [0])[0] >= 5, timeout=30)
        first = driver.execute_script(FACE_SERIES_JS, face)
        assert wait_for(lambda: driver.execute_script(FACE_SERIES_JS, face)[0] >= first[0] + 20, timeout=60)
        assert wait_for(lambda: driver.execute_script("return document.getElementById('camera').naturalWidth") > 0,
                        timeout=30), "no camera frame shown"

        verdict_cell = '#verdicts tr[data-action="tell_joke"] .verdict.WELL_RECEIVED'
        assert wait_for(lambda: _text(driver, verdict_cell), timeout=90), \
            _text(driver, "#verdicts tbody tr")
        assert driver.execute_script(MARKER_IN_VIEW_JS, "tell_joke"), "the action's marker is outside the chart"
        assert wait_for(lambda: _text(driver, '#stats tr[data-action="tell_joke"]'),
                        timeout=30), _text(driver, "#stats-note")
        OUT.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(OUT / "dashboard.png"))

        count, low, high = driver.execute_script(FACE_SERIES_JS, face)
        assert count > first[0] and high - low > 0.5, (first, count, low, high)  # sad to happy: the line moved
        row = _text(driver, '#verdicts tr[data-action="tell_joke"]')
        assert "WELL_RECEIVED" in row and "+" in row, row  # verdict with its (positive) delta
        stats = _text(driver, '#stats tr[data-action="tell_joke"]').split()
        assert stats[:3] == ["tell_joke", "1", "1"], stats  # one verdict, well received
        assert "reactions arriving" in _text(driver, '#indicators .pill.ok[data-indicator="perception"]')

        demo.join(timeout=120)
        assert not demo.is_alive() and summary["actions"][0]["verdict"]["verdict"] == "WELL_RECEIVED"
        for indicator in ("perception", "camera"):  # perception stopped with the demo: the page turns red
            red = f'#indicators .pill.bad[data-indicator="{indicator}"]'
            assert wait_for(lambda red=red: _text(driver, red), timeout=30), _text(driver, "#indicators")
        driver.save_screenshot(str(OUT / "perception_stopped.png"))
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not severe, severe  # no script error, no blocked resource (everything is served locally)
    finally:
        if demo.is_alive():
            demo.join(timeout=60)
