"""A real headless Chromium for the report tests, driven over the DevTools protocol.

Debian's ``chromium`` (scripts/setup-system.sh installs it) runs headless with the network
cut off (every host resolves to nothing, every request goes to a dead proxy), a fresh
profile, and software WebGL. The harness records what a person would notice and a test
must assert: console errors, uncaught exceptions, every network request, every dialog
(``alert`` and friends, dismissed at once).

``python tests/browser.py PAGE.html OUT.png [JS]`` takes the screenshot the README shows
(the report's charts drawn, then ``JS`` run, e.g. to expand a group).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",  # root in CI and containers; the page is our own file
    "--disable-gpu",
    "--enable-unsafe-swiftshader",  # software WebGL (parallel coordinates) without a GPU
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--proxy-server=127.0.0.1:9",  # nothing listens there: no request can leave
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--remote-debugging-port=0",
)


class Browser:
    """One headless Chromium with one page, closed on exit (``with Browser(tmp) as b``)."""

    def __init__(self, workdir: Path, *, width: int = 1400, height: int = 1000) -> None:
        import websocket

        assert CHROMIUM, "chromium is not installed"
        self.profile = Path(tempfile.mkdtemp(prefix="profile", dir=workdir))
        self.process = subprocess.Popen(
            [
                CHROMIUM,
                *FLAGS,
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        port = self._port()
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list").read())
        page = next(t for t in targets if t.get("type") == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self._id = 0
        self.events: list[dict[str, Any]] = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def _port(self) -> int:
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if marker.exists() and marker.read_text().strip():
                return int(marker.read_text().splitlines()[0])
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.process.returncode}")
            time.sleep(0.05)
        raise RuntimeError("chromium did not open its DevTools port within 60 s")

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            shutil.rmtree(self.profile, ignore_errors=True)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and return its result (events meanwhile are kept)."""
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._event(message)

    def _event(self, message: dict[str, Any]) -> None:
        self.events.append(message)
        if message.get("method") == "Page.javascriptDialogOpening":
            # A dialog blocks the page: dismiss it (the test asserts none ever opened).
            self._id += 1
            self.ws.send(
                json.dumps(
                    {
                        "id": self._id,
                        "method": "Page.handleJavaScriptDialog",
                        "params": {"accept": False},
                    }
                )
            )

    def open(
        self, url: str, *, ready: str = "document.body && document.body.dataset.ready === 'true'"
    ) -> None:
        """Load ``url`` and wait until ``ready`` holds (60 s at most); events start anew."""
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for(ready)

    def wait_for(self, condition: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.js(f"Boolean({condition})") is True:
                return
            time.sleep(0.1)
        raise AssertionError(f"the page never satisfied {condition}; errors: {self.errors()}")

    def js(self, expression: str) -> Any:
        """Evaluate ``expression`` in the page; its value (JSON-able) comes back."""
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression!r} threw {result['exceptionDetails']}")
        return result["result"].get("value")

    def drain(self, seconds: float = 0.5) -> None:
        """Collect the events of the next ``seconds`` (renders finishing, late errors)."""
        self.ws.settimeout(0.1)
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                try:
                    self._event(json.loads(self.ws.recv()))
                except Exception as exc:
                    if "timed out" not in str(exc).lower():
                        raise
        finally:
            self.ws.settimeout(60)

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries so far."""
        out = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append(
                    " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
                )
            elif method == "Runtime.exceptionThrown":
                out.append(json.dumps(params["exceptionDetails"])[:500])
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                out.append(params["entry"].get("text", ""))
        return out

    def requests(self) -> list[str]:
        """The URL of every request the page made."""
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]

    def dialogs(self) -> list[str]:
        return [
            e["params"].get("message", "")
            for e in self.events
            if e.get("method") == "Page.javascriptDialogOpening"
        ]

    def screenshot(self, path: Path, *, width: int = 1400, height: int = 1800) -> None:
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.drain(1.5)
        shot = self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))


if __name__ == "__main__":
    page_path, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
    with tempfile.TemporaryDirectory() as tmp, Browser(Path(tmp)) as browser:
        browser.open(page_path.as_uri())
        browser.js("window.nagaReport.drawCharts()")
        if len(sys.argv) > 3:
            browser.js(sys.argv[3])
        browser.screenshot(out)
        print(f"wrote {out}; errors: {browser.errors()}")
