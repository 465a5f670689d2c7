"""`make app`'s command, run exactly as the Makefile runs it on a fresh machine: no terminal
on stdin, no Streamlit credentials, no display. It must serve the dashboard without a prompt."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from interp.cli import main

ROOT = Path(__file__).resolve().parents[2]


def makefile_app_command(port: int) -> list[str]:
    """The `app:` recipe of the Makefile, with the venv's `interp` as this interpreter."""
    text = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^app:.*\n\t(.+)$", text, flags=re.MULTILINE)
    assert recipe, "the Makefile has no `app:` target with a one-line recipe"
    words = shlex.split(recipe.group(1).replace("$(PORT)", str(port)))
    assert words[0] == "$(BIN)/interp", f"unexpected app recipe {recipe.group(1)!r}"
    return [sys.executable, "-m", "interp.cli", *words[1:]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_group(process: subprocess.Popen) -> None:
    """Stop `interp app` and the streamlit server it started (one process group)."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the streamlit child, if it outlived its parent
    except ProcessLookupError:
        pass


@pytest.mark.timeout(150)
def test_make_app_command_serves_without_a_prompt(tmp_path):
    port = free_port()
    env = {**os.environ, "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}  # no ~/.streamlit
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"):
        env.pop(name, None)
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(makefile_app_command(port), stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
                                  start_new_session=True)
    try:
        deadline, healthy = time.monotonic() + 120, False
        while time.monotonic() < deadline and not healthy:
            assert server.poll() is None, f"exited with {server.returncode}:\n{log.read_text()}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    healthy = r.status == 200
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        assert healthy, f"no health check answer in 120 s:\n{log.read_text()}"
        for _ in range(50):  # the ready line follows the health check by one poll
            if f"ready: http://localhost:{port}" in log.read_text():
                break
            time.sleep(0.1)
        text = log.read_text()
        assert f"ready: http://localhost:{port}" in text
        assert "Email" not in text
    finally:
        stop_group(server)


def test_port_in_use_is_a_clean_error(capsys):
    with socket.socket() as sock:
        sock.bind(("", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert main(["app", "--port", str(port)]) == 2
    assert f"port {port} is not free" in capsys.readouterr().err


def test_no_browser_is_opened_without_a_display(monkeypatch):
    from interp.cli import app_cmd

    monkeypatch.setattr(app_cmd.sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert not app_cmd.graphical_browser_available()
