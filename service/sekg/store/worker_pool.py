"""Keep a pool of query worker processes; give each query a deadline and kill workers that pass it."""

from __future__ import annotations

import json
import logging
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Connection

from ..errors import QuerySyntaxError, QueryTimeoutError, SekgError, StoreBusyError

log = logging.getLogger(__name__)
SPOOL_IN_MEMORY = 1024 * 1024


class _Worker:
    """One query process, started as `python -m sekg.store.query_worker FD` on a socket pair."""

    def __init__(self):
        parent, child = socket.socketpair()
        self.process = subprocess.Popen([sys.executable, "-m", "sekg.store.query_worker", str(child.fileno())],
                                        pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL)
        child.close()
        self.parent_conn = Connection(parent.detach())
        self.checkpoint: str | None = None
        self._closing = threading.Lock()

    def alive(self) -> bool:
        return self.process.poll() is None

    def close_connection(self) -> None:
        """Close the socket once, even when the pool closes while a request thread replaces this worker.

        Two unguarded closes would both pass the same descriptor number to close(2): the second
        fails, or worse, closes whatever file reused that number in between.
        """
        with self._closing:
            if not self.parent_conn.closed:
                try:
                    self.parent_conn.close()
                except OSError as exc:  # already closed under us: nothing left to release
                    log.warning("closing a query worker's socket: %s", exc)

    def kill(self) -> None:
        try:
            self.process.kill()
        finally:
            self.process.wait(timeout=5)
            self.close_connection()

    def stop(self) -> None:
        try:
            self.parent_conn.send(None)
        except (OSError, BrokenPipeError):
            pass
        try:
            self.process.wait(timeout=2)
            self.close_connection()
        except subprocess.TimeoutExpired:
            self.kill()


class WorkerPool:
    """Run query jobs on worker processes; a job past its deadline costs its worker, not the server."""

    def __init__(self, size: int):
        self.size = size
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        self.killed = 0

    def start(self) -> None:
        for _ in range(self.size):
            self._add_worker()

    def _add_worker(self) -> None:
        worker = _Worker()
        with self._lock:
            closed = self._closed
            if not closed:
                self._all.add(worker)
        if closed:  # a replacement that finished spawning after the pool closed
            worker.stop()
            return
        self._idle.put(worker)

    def _replace(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        worker.kill()
        self.killed += 1
        if not self._closed:
            # spawning takes a moment; do it off the request thread
            threading.Thread(target=self._add_worker, daemon=True).start()

    def open_checkpoints(self) -> set[str]:
        with self._lock:
            return {w.checkpoint for w in self._all if w.checkpoint}

    def run(self, job: dict, timeout: float) -> tuple[tempfile.SpooledTemporaryFile, dict]:
        """Run a job; return the spooled answer and its metadata, or raise."""
        deadline = time.monotonic() + timeout
        try:
            worker = self._idle.get(timeout=timeout)
        except queue.Empty:
            raise StoreBusyError("every query worker is busy; try again shortly",
                                 headers={"Retry-After": "5"}) from None
        if not worker.alive():
            self._replace(worker)
            return self.run(job, max(0.1, deadline - time.monotonic()))
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        try:
            worker.checkpoint = job.get("checkpoint")
            worker.parent_conn.send(job)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not worker.parent_conn.poll(remaining):
                    self._replace(worker)
                    worker = None
                    raise QueryTimeoutError(f"the query ran longer than {timeout:g} s and was stopped")
                message = worker.parent_conn.recv_bytes()
                tag, payload = message[:1], message[1:]
                if tag == b"D":
                    spool.write(payload)
                elif tag == b"E":
                    return spool, json.loads(payload)
                else:
                    error = json.loads(payload)
                    if error["kind"] == "syntax":
                        raise QuerySyntaxError(error["message"])
                    raise SekgError(f"query evaluation failed: {error['message']}")
        except (EOFError, OSError, BrokenPipeError):
            if worker is not None:
                self._replace(worker)
                worker = None
            spool.close()
            raise SekgError("the query worker stopped unexpectedly") from None
        except BaseException:
            spool.close()
            raise
        finally:
            if worker is not None:
                self._idle.put(worker)

    def ping(self, timeout: float = 5.0) -> bool:
        try:
            self.run({"ping": True}, timeout)
            return True
        except SekgError:
            return False

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.stop()
