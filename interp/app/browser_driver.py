"""Drive Debian's headless Chromium over the DevTools protocol (no browser download): the
browser test and the screenshot script (interp/app/screenshots.py) use it.

Streamlit renders client-side over a websocket, so a one-shot `--dump-dom` with a virtual
time budget captures a blank page: virtual time runs ahead of the server. Instead we start
Chromium with a DevTools pipe port, load the page, and poll the live DOM in real time.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from websockets.sync.client import connect

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-quic", "--no-first-run", "--disable-sync",
    "--remote-debugging-port=0", "--remote-allow-origins=*",
]


def chromium_path() -> str | None:
    """The Chromium binary, or None when it is not installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """One headless Chromium with one page, driven through the DevTools websocket."""

    def __init__(self, width: int = 1400, height: int = 1200):
        self.profile = tempfile.mkdtemp(prefix="interp-chromium-")
        self.process = subprocess.Popen(
            [chromium_path(), *FLAGS, f"--user-data-dir={self.profile}",
             f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self._id = 0
        # Entered as a context manager, the form every websockets version supports.
        self._stack = ExitStack()
        self.socket = self._stack.enter_context(
            connect(self._page_websocket(), max_size=2**26, open_timeout=30))

    def _page_websocket(self) -> str:
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("Chromium did not start its DevTools endpoint.")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json") as response:
                pages = [t for t in json.load(response) if t["type"] == "page"]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
            time.sleep(0.1)
        raise RuntimeError("Chromium opened no page.")

    def call(self, method: str, **params: object) -> dict:
        """Send one DevTools command and return its result (events in between are skipped)."""
        self._id += 1
        self.socket.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str) -> object:
        """Value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def wait_for(self, expression: str, timeout: float = 60.0) -> bool:
        """Poll until `expression` is truthy in the page; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return True
            time.sleep(0.25)
        return False

    def click_text(self, text: str, selector: str = "label, button, p") -> bool:
        """Click the first element matching `selector` whose text is `text`; False if none."""
        script = (f"(() => {{ const e = [...document.querySelectorAll({json.dumps(selector)})]"
                  f".find(e => e.innerText.trim() === {json.dumps(text)});"
                  " if (!e) return false; e.click(); return true; })()")
        return bool(self.evaluate(script))

    def type_text(self, selector: str, text: str) -> bool:
        """Replace the text of the first input matching `selector` with `text` and press Enter
        (a Streamlit text input commits on Enter); False if there is no such input."""
        found = self.evaluate(f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
                              " if (!e) return false; e.focus(); e.select(); return true; })()")
        if not found:
            return False
        self.call("Input.insertText", text=text)
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter",
                      windowsVirtualKeyCode=13, nativeVirtualKeyCode=13)
        return True

    def move_mouse(self, x: float, y: float) -> None:
        """A real mouse move to page pixel (x, y): hover handlers fire as for a user."""
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)

    def click_at(self, x: float, y: float) -> None:
        """A real left click at page pixel (x, y) (widgets that ignore element.click(), e.g. selects)."""
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def center_of(self, expression: str) -> tuple[float, float] | None:
        """Page centre of the element `expression` evaluates to (None if there is none)."""
        box = self.evaluate(f"(() => {{ const e = {expression}; if (!e) return null; "
                            "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); "
                            "return [r.left + r.width / 2, r.top + r.height / 2]; })()")
        return None if box is None else (box[0], box[1])

    def set_viewport(self, width: int, height: int) -> None:
        """Resize the page (for screenshots of long views)."""
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=False)

    def dom(self) -> str:
        return str(self.evaluate("document.documentElement.outerHTML"))

    def screenshot(self, path: str | Path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self._stack.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            shutil.rmtree(self.profile, ignore_errors=True)
