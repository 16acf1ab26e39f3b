"""Keep a pool of query worker processes; give each query a deadline and kill workers that pass it.

Each worker process runs up to `threads` queries at once, one per slot; a slot is a socket pair
served by one thread of the worker, so a request thread talks to its slot directly. Jobs go to
a free slot of the first worker that has one: light traffic keeps one process (and its block
cache) warm while the others stand by. Killing a worker for one runaway query also ends the
queries running beside it; those innocent neighbours are run again once, on another worker,
within their own deadline.
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Connection

from ..errors import QuerySyntaxError, QueryTimeoutError, SekgError, StoreBusyError
from .allocator import worker_environment
from .query_worker import KEEP_OPEN

log = logging.getLogger(__name__)
SPOOL_IN_MEMORY = 1024 * 1024


class _Slot:
    """One socket to one thread of a worker process; used by one request at a time."""

    def __init__(self, worker: "_Worker", conn: Connection):
        self.worker = worker
        self.conn = conn
        self._closing = threading.Lock()

    def say_stop(self) -> None:
        """Ask the worker process to end (any one slot's stop ends it), unless the socket is closed."""
        with self._closing:
            if not self.conn.closed:
                try:
                    self.conn.send(None)
                except OSError:  # the process has already ended
                    pass

    def close(self) -> None:
        """Close the socket once, however many threads decide to.

        Two unguarded closes would both pass the same descriptor number to close(2): the second
        fails, or worse, closes whatever file reused that number in between.
        """
        with self._closing:
            if not self.conn.closed:
                try:
                    self.conn.close()
                except OSError as exc:  # already closed under us: nothing left to release
                    log.warning("closing a query worker's socket: %s", exc)


class _Worker:
    """One query process, started as `python -m sekg.store.query_worker FD [FD ...]`, one FD per slot."""

    def __init__(self, threads: int, env: dict[str, str] | None = None):
        pairs = [socket.socketpair() for _ in range(threads)]
        child_fds = [child.fileno() for _, child in pairs]
        self.process = subprocess.Popen([sys.executable, "-m", "sekg.store.query_worker", *map(str, child_fds)],
                                        pass_fds=child_fds, stdin=subprocess.DEVNULL, env=env)
        for _, child in pairs:
            child.close()
        self.slots = [_Slot(self, Connection(parent.detach())) for parent, _ in pairs]
        self.retired = False
        self.killed_for: int | None = None  # the job whose deadline cost this worker its life
        self.opened: list[str] = []  # checkpoints the process may hold open, most recent last

    def alive(self) -> bool:
        return not self.retired and self.process.poll() is None

    def note_checkpoint(self, checkpoint: str | None) -> None:
        if checkpoint:
            self.opened = ([c for c in self.opened if c != checkpoint] + [checkpoint])[-KEEP_OPEN:]

    def kill(self, for_job: int | None = None) -> None:
        if for_job is not None and self.killed_for is None:
            self.killed_for = for_job
        try:
            self.process.kill()
        except OSError:  # already reaped
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.warning("query worker %s did not end after SIGKILL", self.process.pid)

    def stop(self) -> None:
        for slot in self.slots:
            slot.say_stop()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()


class WorkerPool:
    """Run query jobs on worker processes; a job past its deadline costs its worker, not the server."""

    def __init__(self, size: int, threads: int = 1, allocator: str | None = None):
        self.size = size
        self.threads = max(1, threads)
        self.allocator = allocator  # a malloc library the workers preload (allocator.py); None: the C library's
        self._env = worker_environment(allocator)
        self._workers: list[_Worker] = []  # in order of start: the first with a free slot gets the job
        self._idle: set[_Slot] = set()
        self._in_use: set[_Slot] = set()
        self._cond = threading.Condition()
        self._lock = self._cond  # tests and callers inspect the workers under this lock
        self._closed = False
        self._next_job = 0
        self.killed = 0
        self.retried = 0

    @property
    def _all(self) -> list[_Worker]:
        return list(self._workers)

    def start(self) -> None:
        for _ in range(self.size):
            self._add_worker()

    def _add_worker(self) -> None:
        worker = _Worker(self.threads, self._env)
        with self._cond:
            closed = self._closed
            if not closed:
                self._workers.append(worker)
                self._idle.update(worker.slots)
                self._cond.notify_all()
        if closed:  # a replacement that finished spawning after the pool closed
            worker.stop()
            for slot in worker.slots:
                slot.close()

    def _retire(self, worker: _Worker) -> None:
        """Forget a worker whose process ended or was killed, and start another in its place.

        Its idle slots are closed here; a slot in use is closed by the request that holds it.
        """
        with self._cond:
            if worker.retired:
                return
            worker.retired = True
            if worker in self._workers:
                self._workers.remove(worker)
            idle = [slot for slot in worker.slots if slot in self._idle]
            self._idle.difference_update(idle)
            closed = self._closed
        for slot in idle:
            slot.close()
        if worker.process.poll() is None:
            worker.kill()
        if not closed:
            if worker.killed_for is None:
                log.warning("query worker %s ended unexpectedly (exit %s)", worker.process.pid,
                            worker.process.returncode)
            # spawning takes a moment; do it off the request thread
            threading.Thread(target=self._add_worker, daemon=True).start()

    def open_checkpoints(self) -> set[str]:
        with self._cond:
            return {path for w in self._workers for path in w.opened}

    def _acquire(self, deadline: float, avoid: _Worker | None) -> _Slot:
        while True:
            dead = None
            with self._cond:
                while True:
                    if self._closed:
                        raise SekgError("the query service is shutting down")
                    slot = next((s for w in self._workers if w is not avoid for s in w.slots if s in self._idle), None)
                    if slot is not None:
                        break
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise StoreBusyError("every query worker is busy; try again shortly",
                                             headers={"Retry-After": "5"})
                    self._cond.wait(remaining)
                if slot.worker.process.poll() is None:
                    self._idle.discard(slot)
                    self._in_use.add(slot)
                    return slot
                dead = slot.worker
            self._retire(dead)  # it ended while idle (crashed, or killed from outside)

    def _release(self, slot: _Slot) -> None:
        with self._cond:
            self._in_use.discard(slot)
            usable = not slot.worker.retired and not self._closed
            if usable:
                self._idle.add(slot)
                self._cond.notify()
        if not usable:
            slot.close()

    def run(self, job: dict, timeout: float) -> tuple[tempfile.SpooledTemporaryFile, dict]:
        """Run a job; return the spooled answer and its metadata, or raise."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._next_job += 1
            job_id = self._next_job
        avoid = None
        for _ in range(2):
            slot = self._acquire(deadline, avoid)
            try:
                answer = self._run_on(slot, job_id, job, deadline, timeout)
            finally:
                self._release(slot)
            if answer is not None:
                return answer
            # the worker was killed for another job's deadline while running this one
            self.retried += 1
            avoid = slot.worker
        raise SekgError("the query worker stopped unexpectedly")

    def _run_on(self, slot: _Slot, job_id: int, job: dict, deadline: float, timeout: float):
        """Return (spool, meta); None when the worker was killed for another job; raise otherwise."""
        worker, conn = slot.worker, slot.conn
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        try:
            worker.note_checkpoint(job.get("checkpoint"))
            conn.send(job)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not conn.poll(remaining):
                    worker.kill(for_job=job_id)
                    self.killed += 1
                    self._retire(worker)
                    raise QueryTimeoutError(f"the query ran longer than {timeout:g} s and was stopped")
                message = conn.recv_bytes()
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
        except (EOFError, OSError):
            spool.close()
            try:
                worker.process.wait(timeout=5)  # a socket at EOF means the process is ending
            except subprocess.TimeoutExpired:
                pass  # _retire kills it
            innocent = worker.killed_for not in (None, job_id)
            self._retire(worker)
            if innocent:
                return None
            raise SekgError("the query worker stopped unexpectedly") from None
        except BaseException:
            spool.close()
            raise

    def ping(self, timeout: float = 5.0) -> bool:
        try:
            self.run({"ping": True}, timeout)
            return True
        except SekgError:
            return False

    def close(self) -> None:
        with self._cond:
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
            idle = list(self._idle)
            self._idle.clear()
            self._cond.notify_all()
        for worker in workers:
            worker.stop()
        for slot in idle:
            slot.close()
