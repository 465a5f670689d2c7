"""Serve the dashboard for real (`interp app --headless`) on a free local port, for the
browser test and the screenshot script; stop it (and the streamlit child) afterwards."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    """Wait for Streamlit's health check; RuntimeError if the server dies or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    raise RuntimeError(f"the dashboard did not come up at {url} in {timeout} s")


@contextmanager
def running_app(timeout: float = 60) -> Iterator[str]:
    """The URL of a freshly started dashboard; the server is stopped on exit."""
    with serving_app(timeout) as (url, _):
        yield url


@contextmanager
def serving_app(timeout: float = 60) -> Iterator[tuple[str, int]]:
    """The URL of a freshly started dashboard and the pid of `interp app` (the streamlit
    server is its child); the server is stopped on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # Own process group: `interp app` starts streamlit as a child, and both must go.
    server = subprocess.Popen(
        [sys.executable, "-m", "interp.cli", "app", "--headless", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        wait_healthy(url, server, timeout)
        yield url, server.pid
    finally:
        stop_group(server)


def stop_group(server: subprocess.Popen) -> None:
    """Stop `interp app` and the streamlit server it started (one process group)."""
    group = server.pid
    os.killpg(group, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        server.poll()
        try:
            os.killpg(group, 0)  # raises once no process of the group is left
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(group, signal.SIGKILL)
    server.wait()
