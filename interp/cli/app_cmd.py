"""`interp app`: serve the Streamlit dashboard (interp/app/main.py).

The server always runs headless: Streamlit's non-headless mode asks for an e-mail address
on first run, which stops `make app` on a fresh machine (and kills it when stdin is not a
terminal). We print the URL once the server answers its health check and open a browser
ourselves, only where a graphical one can exist.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from interp.cli.arguments import port_number
from interp.errors import InputError

READY_TIMEOUT_S = 120.0  # first start imports torch and compiles the default program


def app_entry_file() -> Path:
    """Path of the dashboard's entry file."""
    from interp import app

    return Path(app.__file__).resolve().parent / "main.py"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `interp app [--port N] [--headless]`."""
    parser = subparsers.add_parser("app", help="open the interactive dashboard")
    parser.add_argument("--port", type=port_number, default=8501, help="port to serve on (default 8501)")
    parser.add_argument(
        "--headless", action="store_true",
        help="never open a browser (servers and tests); the URL is printed either way",
    )
    parser.set_defaults(handler=run_app)


def streamlit_command(port: int) -> list[str]:
    """The streamlit command line: headless (no first-run prompt), usage statistics off."""
    return [
        sys.executable, "-m", "streamlit", "run", str(app_entry_file()),
        "--server.port", str(port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        # Streamlit's full gc.collect(2) after every script run walks torch's ~300k objects
        # holding the GIL (0.2-0.7 s), which delays the run's last message to the browser.
        "--runner.postScriptGC", "false",
        # No reloading of edited modules: a reload makes cached models' classes differ from
        # the re-imported ones (isinstance fails), and the watcher rescans sys.modules.
        "--server.fileWatcherType", "none",
    ]


def graphical_browser_available() -> bool:
    """Whether opening a browser can show a window (not a console browser taking the terminal)."""
    if sys.platform in ("darwin", "win32"):
        return True
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    import webbrowser

    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


def check_port_free(port: int) -> None:
    """InputError naming the port when something already listens on it."""
    with socket.socket() as sock:
        try:
            sock.bind(("", port))
        except OSError as err:
            raise InputError(f"port {port} is not free ({err.strerror}); pick another with --port N "
                             f"(make app PORT=N).") from None


def wait_until_ready(url: str, server: subprocess.Popen, timeout: float = READY_TIMEOUT_S) -> bool:
    """True once the server answers its health check; False if it exits or times out first."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    return False


def run_app(args: argparse.Namespace) -> int:
    """Serve interp/app/main.py with streamlit until it exits; open a browser when one exists."""
    check_port_free(args.port)
    url = f"http://localhost:{args.port}"
    print(f"starting the dashboard on {url} (Ctrl-C stops it)", flush=True)
    server = subprocess.Popen(streamlit_command(args.port))
    try:
        if wait_until_ready(f"http://127.0.0.1:{args.port}", server):
            print(f"the dashboard is ready: {url}", flush=True)
            if not args.headless and graphical_browser_available():
                import webbrowser

                webbrowser.open(url)
        return server.wait()
    except KeyboardInterrupt:
        # Ctrl-C reaches streamlit too (same process group), which shuts down cleanly.
        server.wait()
        return 0
