"""Start throwaway external SPARQL 1.1 engines (Virtuoso 7.2, Oxigraph server) for tests.

Each server runs as a real subprocess on free loopback ports, keeps its database in a
temporary directory that ``stop()`` removes, and works as a context manager::

    with VirtuosoServer() as virtuoso:
        requests.post(virtuoso.update_url, data={"update": "..."}, auth=virtuoso.auth)

Virtuoso 7.2.5 (Debian) quirks to keep in mind: its default graph is the union of all graphs,
``SYSTEM_GRAPHS`` included; ``DROP ALL`` is a silent no-op; a direct ``application/sparql-query``
POST hangs (send queries by GET or as a form); updates need ``update_url`` (``/sparql-auth``)
with HTTP *digest* auth; ASK answers come back as a SELECT-style result.

On Linux a server gets SIGTERM when the thread that started it ends, so a killed test run
leaves no server behind; start servers from a thread that outlives them (pytest's main thread).
"""

from __future__ import annotations

import ctypes
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from requests.auth import HTTPDigestAuth

VIRTUOSO_INI = """\
[Database]
DatabaseFile       = {db_dir}/virtuoso.db
ErrorLogFile       = {db_dir}/virtuoso.log
LockFile           = {db_dir}/virtuoso.lck
TransactionFile    = {db_dir}/virtuoso.trx
xa_persistent_file = {db_dir}/virtuoso.pxa
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = {db_dir}/virtuoso-temp.db
TransactionFile    = {db_dir}/virtuoso-temp.trx

[Parameters]
ServerPort         = 127.0.0.1:{isql_port}
DisableUnixSocket  = 1
DirsAllowed        = {dirs_allowed}
NumberOfBuffers    = {number_of_buffers}
MaxDirtyBuffers    = {max_dirty_buffers}
CheckpointInterval = 60

[HTTPServer]
ServerPort         = 127.0.0.1:{http_port}
ServerThreads      = 10

[SPARQL]
ResultSetMaxRows           = {result_set_max_rows}
MaxQueryExecutionTime      = {max_query_execution_time}
MaxQueryCostEstimationTime = {max_query_cost_estimation_time}
"""

#: Graphs a fresh Virtuoso database already holds; ``reset()`` keeps them.
SYSTEM_GRAPHS = (
    "http://www.openlinksw.com/schemas/virtrdf#",
    "http://www.w3.org/ns/ldp#",
    "http://localuriqaserver/sparql",
)

_PORT_ATTEMPTS = 3


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now (it may be taken again later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_PRCTL = ctypes.CDLL(None).prctl if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM this child when the thread that started it ends, so no server is orphaned.

    It runs between fork and exec, so it only calls a function looked up beforehand.
    """
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def _sql_string(value: str) -> str:
    """Quote a value as a Virtuoso SQL string literal."""
    if "\\" in value:
        raise ValueError(f"backslashes are not supported in SQL strings: {value!r}")
    return "'" + value.replace("'", "''") + "'"


def _log_tail(path: Path, lines: int = 30) -> str:
    """Return the last lines of a log file, or a note that there is none."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class _Server:
    """Hold what both engines share: the subprocess, the temp dir and the context manager."""

    name = "server"
    ready_path = ""

    def __init__(self, startup_timeout: float = 60.0) -> None:
        self.startup_timeout = startup_timeout
        self.workdir: Path | None = None
        self.process: subprocess.Popen | None = None
        self.http_port: int | None = None
        self.startup_seconds: float | None = None
        self._command_line: list[str] = []

    @property
    def base_url(self) -> str:
        """Return the server's root URL, http://127.0.0.1:PORT."""
        if self.http_port is None:
            raise RuntimeError(f"{self.name} is not started")
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def auth(self):
        """Return the requests auth object that write requests need (None if none is needed)."""
        return None

    @property
    def log_path(self) -> Path:
        """Return the file that receives the server's stdout and stderr."""
        return self.workdir / "server.log"

    def put_graph(self, graph_iri: str, data: bytes | str, media_type: str = "text/turtle") -> int:
        """Replace a named graph through the Graph Store Protocol and return the HTTP status."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        response = requests.put(self.gsp_url, params={"graph": graph_iri}, data=data,
                                headers={"Content-Type": media_type}, auth=self.auth, timeout=60)
        response.raise_for_status()
        return response.status_code

    def crash(self) -> None:
        """Kill the server as an outage would, keeping its ports and data; ``relaunch()`` brings it back."""
        self._kill()

    def relaunch(self) -> None:
        """Start a crashed server again, on the same ports and data."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError(f"{self.name} is running")
        if not self._launch(self._command_line):
            raise RuntimeError(f"{self.name} could not listen on its port again; log tail:\n{_log_tail(self.log_path)}")

    def _launch(self, command: list[str]) -> bool:
        """Start the subprocess and wait until it answers; return False if its port was taken."""
        self._command_line = command
        started = time.monotonic()
        with open(self.log_path, "wb") as log:  # one log per attempt, so the tail is this attempt's
            self.process = subprocess.Popen(command, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        url = self.base_url + self.ready_path
        while time.monotonic() - started < self.startup_timeout:
            if self.process.poll() is not None:
                tail = _log_tail(self.log_path)
                if re.search(r"listen|address already in use", tail, re.IGNORECASE):
                    return False
                raise RuntimeError(f"{self.name} exited with code {self.process.returncode} while starting;"
                                   f" log tail:\n{tail}")
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    self.startup_seconds = time.monotonic() - started
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self._kill()
        raise RuntimeError(f"{self.name} was not ready after {self.startup_timeout:.0f} s;"
                           f" log tail:\n{_log_tail(self.log_path)}")

    def _start_on_free_ports(self, make_command) -> None:
        """Run make_command() with new ports until the server listens (a port may be taken meanwhile)."""
        for _ in range(_PORT_ATTEMPTS):
            if self._launch(make_command()):
                return
        raise RuntimeError(f"{self.name} could not bind free ports after {_PORT_ATTEMPTS} attempts;"
                           f" log tail:\n{_log_tail(self.log_path)}")

    def _kill(self) -> None:
        """Kill the subprocess (if it still runs) and reap it."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def _cleanup(self) -> None:
        """Kill the subprocess if needed and remove the temp dir."""
        self._kill()
        self.process = None
        self.http_port = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def start(self):
        """Start the server; subclasses implement it."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop the server; subclasses implement it."""
        raise NotImplementedError

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


class VirtuosoServer(_Server):
    """Run Virtuoso Open Source 7.2 (Debian ``virtuoso-opensource``) with a SPARQL user.

    ``user``/``password`` may read and update through ``update_url`` and ``gsp_url`` with
    HTTP digest auth; ``query_url`` is anonymous and read-only. The dba password is changed
    to a random one, so only ``isql()`` can administer the server.
    """

    name = "virtuoso-t"
    ready_path = "/sparql?query=ASK%7B%7D"

    def __init__(self, user: str = "sekg", password: str | None = None, *,
                 max_query_execution_time: int = 60, max_query_cost_estimation_time: int = 60,
                 number_of_buffers: int = 170000, max_dirty_buffers: int = 130000,
                 result_set_max_rows: int = 100000, load_dirs: tuple[str | os.PathLike, ...] = (),
                 startup_timeout: float = 60.0) -> None:
        super().__init__(startup_timeout)
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", user):
            raise ValueError(f"user must be a plain SQL identifier: {user!r}")
        self._user = user
        self._password = password or secrets.token_hex(12)
        self._dba_password = "dba"
        self.settings = {
            "max_query_execution_time": max_query_execution_time,
            "max_query_cost_estimation_time": max_query_cost_estimation_time,
            "number_of_buffers": number_of_buffers,
            "max_dirty_buffers": max_dirty_buffers,
            "result_set_max_rows": result_set_max_rows,
        }
        self.load_dirs = [Path(d).resolve() for d in load_dirs]
        self.isql_port: int | None = None

    @property
    def query_url(self) -> str:
        """Return the anonymous, read-only SPARQL endpoint."""
        return self.base_url + "/sparql"

    @property
    def update_url(self) -> str:
        """Return the SPARQL endpoint for queries and updates (digest auth)."""
        return self.base_url + "/sparql-auth"

    @property
    def gsp_url(self) -> str:
        """Return the Graph Store Protocol endpoint (digest auth, ``?graph=IRI``)."""
        return self.base_url + "/sparql-graph-crud-auth"

    @property
    def user(self) -> str:
        """Return the SPARQL user's name."""
        return self._user

    @property
    def password(self) -> str:
        """Return the SPARQL user's password."""
        return self._password

    @property
    def auth(self) -> HTTPDigestAuth:
        """Return digest auth for ``user``, as ``update_url`` and ``gsp_url`` require."""
        return HTTPDigestAuth(self._user, self._password)

    @property
    def load_dir(self) -> Path:
        """Return a folder inside the temp dir that ``bulk_load`` may always read."""
        return self.workdir / "load"

    def start(self) -> VirtuosoServer:
        """Start the server, wait until it answers and create the SPARQL user."""
        for tool in ("virtuoso-t", "isql-vt"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} not found: install virtuoso-opensource"
                                   " (bash .ci/install --test does)")
        if self.process is not None:
            raise RuntimeError("virtuoso-t is already started")
        self.workdir = Path(tempfile.mkdtemp(prefix="sekg-virtuoso-"))
        (self.workdir / "db").mkdir()
        self.load_dir.mkdir()
        try:
            self._start_on_free_ports(self._prepare)
            self._dba_password = "dba"
            new_dba_password = secrets.token_hex(12)
            self.isql(f"DB.DBA.USER_CREATE({_sql_string(self._user)}, {_sql_string(self._password)});\n"
                      f'GRANT SPARQL_SELECT TO "{self._user}";\n'
                      f'GRANT SPARQL_UPDATE TO "{self._user}";\n'
                      f"USER_SET_PASSWORD('dba', {_sql_string(new_dba_password)});\n")
            self._dba_password = new_dba_password
        except BaseException:
            self._cleanup()
            raise
        return self

    def _prepare(self) -> list[str]:
        """Write virtuoso.ini with new ports into a fresh db folder; return the command line."""
        db_dir = self.workdir / "db"
        shutil.rmtree(db_dir)
        db_dir.mkdir()
        self.http_port, self.isql_port = free_port(), free_port()
        while self.isql_port == self.http_port:
            self.isql_port = free_port()
        dirs_allowed = ", ".join([".", str(self.workdir), *map(str, self.load_dirs)])
        ini = self.workdir / "virtuoso.ini"
        ini.write_text(VIRTUOSO_INI.format(db_dir=db_dir, isql_port=self.isql_port, http_port=self.http_port,
                                           dirs_allowed=dirs_allowed, **self.settings))
        return ["virtuoso-t", "+foreground", "+configfile", str(ini)]

    def isql(self, sql: str, timeout: float = 600) -> str:
        """Run SQL statements as dba through isql-vt and return its output; raise on any SQL error.

        isql-vt exits 0 even when a statement fails, so its output is scanned for ``*** Error``.
        """
        if self.isql_port is None:
            raise RuntimeError("virtuoso-t is not started")
        fd, script = tempfile.mkstemp(suffix=".sql", dir=self.workdir)
        try:
            with os.fdopen(fd, "w") as file:
                file.write(sql)
            result = subprocess.run(["isql-vt", f"127.0.0.1:{self.isql_port}", "dba", self._dba_password, script],
                                    capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        finally:
            os.unlink(script)
        output = result.stdout + result.stderr
        if result.returncode != 0 or "*** Error" in output:
            raise RuntimeError(f"isql-vt failed (exit code {result.returncode}):\n{output}")
        return result.stdout

    def bulk_load(self, path: str | os.PathLike, graph: str | None = None, timeout: float = 3600) -> None:
        """Bulk-load one RDF file (N-Quads, TriG, N-Triples, Turtle, RDF/XML; may be gzipped) and checkpoint.

        ``graph`` is required for triple formats; quads keep their own graphs (``graph``, if given,
        receives the default-graph triples of a quad file). Virtuoso reads files only under the temp
        dir (see ``load_dir``), ``load_dirs`` and, in practice, anywhere under /tmp. Without the
        checkpoint, bulk-loaded data would be lost when the server stops.
        """
        path = Path(path).resolve()
        if not path.is_file():
            raise FileNotFoundError(path)
        if graph is None and not re.search(r"\.(nq|nquads|trig)(\.gz)?$", path.name, re.IGNORECASE):
            raise ValueError(f"{path.name} holds triples: pass the graph to load them into")
        file = _sql_string(str(path))
        output = self.isql(f"DELETE FROM DB.DBA.LOAD_LIST WHERE ll_file = {file};\n"  # so a file can be reloaded
                           f"ld_add({file}, {'NULL' if graph is None else _sql_string(graph)});\n"
                           "rdf_loader_run();\n"
                           "checkpoint;\n"
                           f"SELECT 'LOADED', ll_state, ll_error FROM DB.DBA.LOAD_LIST WHERE ll_file = {file};\n",
                           timeout=timeout)
        row = next((line.split(None, 2) for line in output.splitlines() if line.startswith("LOADED ")), None)
        if row is None or row[1:] != ["2", "NULL"]:
            raise RuntimeError(f"Virtuoso failed to load {path}:\n{output}")

    def reset(self) -> None:
        """Delete every triple outside ``SYSTEM_GRAPHS`` and forget loaded files, then checkpoint."""
        keep = ", ".join(f"iri_to_id({_sql_string(graph)})" for graph in SYSTEM_GRAPHS)
        self.isql("log_enable(3, 1);\n"
                  f"DELETE FROM DB.DBA.RDF_QUAD WHERE G NOT IN ({keep});\n"
                  "DELETE FROM DB.DBA.LOAD_LIST;\n"
                  "checkpoint;\n")

    def stop(self, timeout: float = 30) -> None:
        """Shut the server down (checkpoint and exit; kill it if that fails) and remove the temp dir."""
        if self.process is not None and self.process.poll() is None:
            try:
                subprocess.run(["isql-vt", f"127.0.0.1:{self.isql_port}", "dba", self._dba_password,
                                "exec=shutdown;"], capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.isql_port = None
        self._cleanup()


class OxigraphServer(_Server):
    """Run the Oxigraph server (``oxigraph serve`` from the PyPI ``oxigraph`` package).

    It needs no auth. Its default graph is the real default graph unless ``union_default_graph``
    is set. ``oxigraph load`` cannot run while the server holds its database, so load data
    with ``put_graph`` (or a SPARQL update) instead.
    """

    name = "oxigraph"
    ready_path = "/query?query=ASK%7B%7D"

    def __init__(self, union_default_graph: bool = False, startup_timeout: float = 60.0,
                 timeout_s: int | None = None) -> None:
        super().__init__(startup_timeout)
        self.union_default_graph = union_default_graph
        self.timeout_s = timeout_s  # `--timeout-s`: the server cancels queries running longer

    @property
    def query_url(self) -> str:
        """Return the SPARQL query endpoint."""
        return self.base_url + "/query"

    @property
    def update_url(self) -> str:
        """Return the SPARQL update endpoint (answers 204)."""
        return self.base_url + "/update"

    @property
    def gsp_url(self) -> str:
        """Return the Graph Store Protocol endpoint (``?graph=IRI`` or ``?default``)."""
        return self.base_url + "/store"

    @staticmethod
    def executable() -> str:
        """Return the oxigraph CLI: the one next to this Python first, else the one on PATH."""
        beside = Path(sys.executable).parent / "oxigraph"
        found = str(beside) if beside.is_file() else shutil.which("oxigraph")
        if found is None:
            raise RuntimeError("oxigraph not found: install the oxigraph package (bash .ci/install --test does)")
        return found

    def start(self) -> OxigraphServer:
        """Start the server on a fresh database and wait until it answers."""
        executable = self.executable()
        if self.process is not None:
            raise RuntimeError("oxigraph is already started")
        self.workdir = Path(tempfile.mkdtemp(prefix="sekg-oxigraph-"))
        try:
            self._start_on_free_ports(lambda: self._command(executable))
        except BaseException:
            self._cleanup()
            raise
        return self

    def _command(self, executable: str) -> list[str]:
        """Pick a new port and return the command line."""
        self.http_port = free_port()
        command = [executable, "serve", "--location", str(self.workdir / "db"),
                   "--bind", f"127.0.0.1:{self.http_port}"]
        if self.union_default_graph:
            command.append("--union-default-graph")
        if self.timeout_s is not None:
            command += ["--timeout-s", str(self.timeout_s)]
        return command

    def reset(self) -> None:
        """Delete all graphs, the default graph included, with ``DROP ALL``."""
        response = requests.post(self.update_url, data={"update": "DROP ALL"}, timeout=60)
        response.raise_for_status()

    def stop(self, timeout: float = 10) -> None:
        """Stop the server with SIGTERM (kill it if it lingers) and remove the temp dir."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self._cleanup()
