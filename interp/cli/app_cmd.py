"""`interp app`: serve the Streamlit dashboard (app/main.py)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


def app_entry_file() -> Path:
    """Path of the dashboard's entry file."""
    import app

    return Path(app.__file__).resolve().parent / "main.py"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `interp app [--port N] [--headless]`."""
    parser = subparsers.add_parser("app", help="open the interactive dashboard")
    parser.add_argument("--port", type=int, default=8501, help="port to serve on (default 8501)")
    parser.add_argument(
        "--headless", action="store_true", help="do not open a browser (for servers and tests)"
    )
    parser.set_defaults(handler=run_app)


def run_app(args: argparse.Namespace) -> int:
    """Serve app/main.py with streamlit until it exits."""
    command = [
        sys.executable, "-m", "streamlit", "run", str(app_entry_file()),
        "--server.port", str(args.port),
        "--server.headless", "true" if args.headless else "false",
        "--browser.gatherUsageStats", "false",
    ]
    print(f"serving the dashboard on http://localhost:{args.port} (Ctrl-C stops it)", flush=True)
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        # Ctrl-C reaches streamlit too (same process group), which shuts down cleanly.
        return 0
