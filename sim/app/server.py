"""`icsim app`: start the Streamlit server on the app's main script, with its workspace.

Bound to localhost unless a host is given; usage statistics off (no calls home); uploads capped.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from ..errors import InputError

MAIN = Path(__file__).resolve().parent / "main.py"
WORKSPACE_ENV = "ICSIM_WORKSPACE"  # how the server tells the pages their workspace
DEFAULT_WORKSPACE = Path("icsim-workspace")
MAX_UPLOAD_MB = 200  # an extract of several years of spells is tens of MB; the file reader caps at 200 MB too


def command(port: int, host: str, workspace: Path) -> list[str]:
    """The Streamlit command line that serves the app."""
    return [
        sys.executable, "-m", "streamlit", "run", str(MAIN),
        "--server.port", str(port),
        "--server.address", host,
        "--server.headless", "true",
        "--server.maxUploadSize", str(MAX_UPLOAD_MB),
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",  # no "Deploy" or developer menu: the users are planners
        "--theme.base", "light",
    ]


def check(port: int, host: str, workspace: Path) -> Path:
    """The workspace folder to use (created), after refusing impossible settings."""
    if not 1 <= port <= 65535:
        raise InputError(f"--port = {port}: expected a port number 1-65535")
    if not host.strip():
        raise InputError("--host = '': expected a host name or address, e.g. localhost or 0.0.0.0")
    if importlib.util.find_spec("streamlit") is None:
        raise InputError('the web app needs Streamlit: pip install "icsim[app]" (or make app)')
    if workspace.exists() and not workspace.is_dir():
        raise InputError(f"--workspace {workspace}: is a file; expected a folder (created if missing)")
    workspace.mkdir(parents=True, exist_ok=True)
    return workspace.resolve()


def serve(port: int = 8501, host: str = "localhost", workspace: Path = DEFAULT_WORKSPACE) -> int:
    """Run the server until it is stopped (Ctrl-C); its exit code."""
    folder = check(port, host, workspace)
    env = {**os.environ, WORKSPACE_ENV: str(folder)}
    try:
        return subprocess.call(command(port, host, folder), env=env)
    except KeyboardInterrupt:
        return 0
