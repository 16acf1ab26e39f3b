"""Make and keep the data dumps: every format from one snapshot, regenerated when the data changes.

Files live in `<state>/dumps/<version>/` with a `manifest.json` (sizes, checksums, counts); the
newest complete set is the one served and catalogued. Stable names: sekg.nq.gz, sekg.nt.gz,
sekg.ttl, sekg.jsonld.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import shutil
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .formats import JSONLD, NQUADS, NTRIPLES, TURTLE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DumpFormat:
    name: str
    syntax: object
    gzip: bool
    quads: bool  # with the named graphs (N-Quads) or all graphs merged into triples


FORMATS = (
    DumpFormat("sekg.nq.gz", NQUADS, True, True),
    DumpFormat("sekg.nt.gz", NTRIPLES, True, False),
    DumpFormat("sekg.ttl", TURTLE, False, False),
    DumpFormat("sekg.jsonld", JSONLD, False, False),
)
BY_NAME = {f.name: f for f in FORMATS}


class _Counting:
    """Write through to a file while computing its SHA-256."""

    def __init__(self, handle):
        self.handle = handle
        self.digest = hashlib.sha256()

    def write(self, data) -> int:
        self.digest.update(data)
        return self.handle.write(data)

    def flush(self):
        self.handle.flush()


def write_dumps(store, directory: Path) -> dict:
    """Write every dump format from one snapshot into `directory`; return the manifest."""
    directory = Path(directory)
    with store.snapshot() as snapshot:
        target = directory / snapshot.version
        staging = directory / f"tmp-{snapshot.version}-{os.getpid()}-{threading.get_ident()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        files = {}
        for fmt in FORMATS:
            path = staging / fmt.name
            with open(path, "wb") as raw:
                counting = _Counting(raw)
                sink = gzip.GzipFile(fileobj=counting, mode="wb", mtime=0) if fmt.gzip else counting
                try:
                    if fmt.quads:
                        count = snapshot.write_quads(sink, fmt.syntax)
                    else:
                        count = snapshot.write_triples(sink, fmt.syntax)
                finally:
                    if fmt.gzip:
                        sink.close()
            files[fmt.name] = {
                "media_type": fmt.syntax.media_type,
                "compressed": "application/gzip" if fmt.gzip else None,
                "file_type": fmt.syntax.file_type,
                "bytes": path.stat().st_size,
                "sha256": counting.digest.hexdigest(),
                ("quads" if fmt.quads else "triples"): count,
            }
        manifest = {"version": snapshot.version,
                    "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "modified": store.modified.isoformat() if store.modified else None,
                    "files": files}
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2))
        if target.exists():
            shutil.rmtree(target)
        os.rename(staging, target)
    (directory / "CURRENT.tmp").write_text(manifest["version"])
    os.replace(directory / "CURRENT.tmp", directory / "CURRENT")
    for old in directory.iterdir():
        if old.is_dir() and old.name != manifest["version"] and not old.name.startswith("tmp-"):
            shutil.rmtree(old, ignore_errors=True)
    return manifest


class Dumps:
    """Serve the newest complete dumps and refresh them in the background when the data changed."""

    def __init__(self, store, directory: Path):
        self.store = store
        self.directory = Path(directory)
        self._lock = threading.Lock()
        self._running: threading.Thread | None = None

    def manifest(self) -> dict | None:
        pointer = self.directory / "CURRENT"
        if not pointer.exists():
            return None
        try:
            return json.loads((self.directory / pointer.read_text().strip() / "manifest.json").read_text())
        except (OSError, ValueError):
            return None

    def path(self, name: str) -> Path | None:
        """Return the file of a dump by its stable name, or None when unknown or not made yet."""
        manifest = self.manifest()
        if name not in BY_NAME or manifest is None:
            return None
        return self.directory / manifest["version"] / name

    @property
    def fresh(self) -> bool:
        manifest = self.manifest()
        return manifest is not None and manifest["version"] == self.store.version

    def refresh(self, *, wait: bool = False) -> None:
        """Regenerate the dumps if the data changed since they were made (at most one run at a time)."""
        with self._lock:
            if self.fresh:
                return
            if self._running is None or not self._running.is_alive():
                self._running = threading.Thread(target=self._run, name="sekg-dumps", daemon=True)
                self._running.start()
            running = self._running
        if wait:
            running.join()

    def _run(self) -> None:
        try:
            write_dumps(self.store, self.directory)
        except Exception:  # noqa: BLE001 - a failed background run is logged; the previous dumps stay served
            log.exception("making the dumps failed")
