"""Run `sekg` as separate processes: a server that can be killed for real, and the command line."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import requests

SEKG = str(Path(sys.executable).parent / "sekg")  # the console script: the commands exactly as operators run them


def sekg(*args: str, check: bool = False, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run one `sekg` command and return its result (text output)."""
    return subprocess.run([SEKG, *args], capture_output=True, text=True, check=check,
                          env={**os.environ, **(env or {})}, timeout=600)


def admin_token(store: Path) -> str:
    """Create an operator's token with the command line; it is the last line printed."""
    return sekg("token", "create", "--admin", "--label", "tests", "--store", str(store), check=True).stdout.split()[-1]


@dataclass
class ServerProcess:
    """A `sekg serve` process on port 0 and the address it printed."""

    process: subprocess.Popen
    url: str

    def kill(self) -> None:
        """Stop it the hard way (SIGKILL): no handler runs, nothing is flushed or closed."""
        os.killpg(self.process.pid, signal.SIGKILL)  # its query workers too, as a machine crash would
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.process.stdout:
            self.process.stdout.close()

    def alive(self) -> bool:
        return self.process.poll() is None


def start_serving(store: Path, **env: str) -> ServerProcess:
    """Start `sekg serve --port 0` on a store in its own process group; return once it accepts requests."""
    settings = {"SEKG_LOAD_SHIPPED": "false", "SEKG_QUERY_WORKERS": "1", "SEKG_THREADS": "8",
                "SEKG_LOG_LEVEL": "WARNING", **env}
    process = subprocess.Popen([SEKG, "serve", "--store", str(store), "--port", "0"], stdout=subprocess.PIPE,
                               env={**os.environ, **settings}, text=True, start_new_session=True)
    line = process.stdout.readline()  # printed once the port is bound and the store is open
    match = re.search(r"(http://[^/\s]+)/", line)
    if not match:
        process.kill()
        raise RuntimeError(f"sekg serve did not start: {line!r}")
    server = ServerProcess(process, match.group(1))
    assert requests.get(server.url + "/health", timeout=60).status_code == 200
    return server
