"""Headless Chromium driven over WebDriver, with the standard library only.

    with Browser() as browser:
        browser.open("http://127.0.0.1:16686/trace/<id>")
        browser.wait_for_text("chat ragtel-extractive-1")
        browser.click_text("chat ragtel-extractive-1")
        browser.screenshot(Path("jaeger.png"))

Debian's ``chromium`` and ``chromium-driver`` packages supply the browser and its WebDriver
server; WebDriver is plain JSON over HTTP, so no browser-automation package (and no browser
download) is needed. Chromium gets a fresh profile, and every request that is not for 127.0.0.1
goes to a closed local port, so a page can only reach the backends the test started.
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from backends import LOOPBACK, BackendError, free_port, http_request, poll

CHROMIUM = ("/usr/bin/chromium", "/usr/lib/chromium/chromium", "chromium", "chromium-browser")
CHROMEDRIVER = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver", "chromedriver")
_ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C key of an element reference
_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-quic", "--no-first-run", "--no-default-browser-check",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--disable-domain-reliability",
    "--disable-client-side-phishing-detection", "--hide-scrollbars",
    "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider",
    # Any request that is not for 127.0.0.1 goes to a closed local port and fails.
    "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)  # fmt: skip


def _which(candidates: tuple[str, ...]) -> str | None:
    for name in candidates:
        found = shutil.which(name)
        if found:
            return found
    return None


def available() -> str | None:
    """None when Chromium and its driver are installed, else what to install."""
    if _which(CHROMIUM) is None or _which(CHROMEDRIVER) is None:
        return "chromium and chromium-driver (apt-get install -y chromium chromium-driver)"
    return None


class Browser:
    """One Chromium session behind a chromedriver process; stop() ends both."""

    def __init__(self, width: int = 1600, height: int = 1000) -> None:
        self.width, self.height = width, height
        self.port = free_port()
        self.base = f"http://{LOOPBACK}:{self.port}"
        self.session: str | None = None
        self._driver: subprocess.Popen[bytes] | None = None
        self._profile: str | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> Browser:
        missing = available()
        if missing:
            raise BackendError(f"headless browser unavailable: install {missing}")
        self._profile = tempfile.mkdtemp(prefix="ragtel-chromium-")
        self._driver = subprocess.Popen(
            [str(_which(CHROMEDRIVER)), f"--port={self.port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        poll(lambda: self._status_ok(), 20, what="chromedriver ready")
        args = [*_FLAGS, f"--window-size={self.width},{self.height}",
                f"--user-data-dir={self._profile}"]  # fmt: skip
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {"binary": _which(CHROMIUM), "args": args},
                }
            }
        }
        value = self._call("POST", "/session", caps, session=False)
        self.session = value["sessionId"]
        return self

    def stop(self) -> None:
        if self.session is not None:
            with contextlib.suppress(BackendError):
                self._call("DELETE", "", None)
            self.session = None
        if self._driver is not None:
            self._driver.terminate()
            try:
                self._driver.wait(10)
            except subprocess.TimeoutExpired:
                self._driver.kill()
            self._driver = None
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    def __enter__(self) -> Browser:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- page ----------------------------------------------------------------------------------
    def open(self, url: str) -> None:
        if not url.startswith(f"http://{LOOPBACK}:"):
            raise BackendError(f"refusing to open a page off the loopback address: {url}")
        self._call("POST", "/url", {"url": url})

    def text(self) -> str:
        """What the page shows as text (``document.body.innerText``)."""
        return str(self.execute("return document.body ? document.body.innerText : ''"))

    def wait_for_text(self, *needles: str, timeout: float = 30) -> str:
        """Poll until the page's text contains every needle; returns that text."""

        def attempt() -> str | None:
            text = self.text()
            return text if all(n in text for n in needles) else None

        try:
            return poll(attempt, timeout, interval=0.3, what=f"page text {needles}")
        except TimeoutError as error:
            raise AssertionError(f"{error}\n--- page text ---\n{self.text()[:3000]}") from None

    def execute(self, script: str, *args: Any) -> Any:
        return self._call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def click_text(
        self, text: str, selector: str = "*", timeout: float = 20, *, scroll: bool = True
    ) -> None:
        """Click the innermost visible element matching ``selector`` whose text is ``text``;
        ``scroll=False`` clicks it where it is, as a user who does not scroll first."""
        script = """
            const [text, selector, scroll] = arguments;
            const hits = [...document.querySelectorAll(selector)].filter(e =>
                e.offsetParent !== null && (e.innerText || '').trim() === text &&
                ![...e.children].some(c => (c.innerText || '').trim() === text));
            if (!hits.length) return false;
            if (scroll) hits[0].scrollIntoView({block: 'center'});
            hits[0].click();
            return true;"""
        poll(
            lambda: self.execute(script, text, selector, scroll),
            timeout,
            what=f"a {text!r} to click",
        )

    def on_screen(self, needles: list[str]) -> dict[str, bool]:
        """For each needle: whether the innermost visible element showing it starts inside the
        window as it is scrolled now (its first line visible), without scrolling."""
        script = """
            const [needles] = arguments;
            const all = [...document.body.querySelectorAll('*')]
                .filter(e => e.offsetParent !== null);
            const seen = {};
            for (const needle of needles) {
                const hits = all.filter(e => (e.innerText || '').includes(needle) &&
                    ![...e.children].some(c => (c.innerText || '').includes(needle)));
                seen[needle] = hits.some(e => {
                    const box = e.getBoundingClientRect();
                    const line = parseFloat(getComputedStyle(e).lineHeight) || 20;
                    const bottom = box.top + Math.min(box.height, line);
                    return box.top >= 0 && bottom <= window.innerHeight;
                });
            }
            return seen;"""
        return dict(self.execute(script, needles))

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self._call("GET", "/screenshot", None)))
        return path

    # -- protocol ------------------------------------------------------------------------------
    def _status_ok(self) -> bool:
        try:
            status, body = http_request(f"{self.base}/status", timeout=2)
        except OSError:
            return False
        return status == 200 and bool(json.loads(body).get("value", {}).get("ready"))

    def _call(self, method: str, path: str, body: Any, *, session: bool = True) -> Any:
        url = f"{self.base}/session/{self.session}{path}" if session else f"{self.base}{path}"
        data = json.dumps(body).encode() if body is not None else None
        status, raw = http_request(
            url, method=method, body=data, headers={"Content-Type": "application/json"},
            timeout=60,
        )  # fmt: skip
        answer = json.loads(raw or b"{}")
        if status != 200:
            error = answer.get("value", {})
            raise BackendError(f"WebDriver {method} {path}: {status} {error.get('message', raw)}")
        return answer.get("value")


def settle(seconds: float = 0.5) -> None:
    """Let a single-page app finish a render after the text it waited for appeared."""
    time.sleep(seconds)
