"""Back up an embedded store while a server may be using it, and restore a backup into a stopped store.

A backup is the latest published checkpoint (an immutable RocksDB snapshot: exactly the acknowledged
writes at one moment) plus online copies of the token and audit databases, with a manifest of
sizes and SHA-256 sums written last. It never needs the store's lock, so `sekg backup` works the
same whether or not a server holds the store:

1. read checkpoints/CURRENT (say N) and hard-link N's files into a staging folder inside the store
   (links are instant and keep the files alive even if the server later removes checkpoint N);
2. read CURRENT again: the server only removes a checkpoint once KEEP_CHECKPOINTS newer ones exist,
   so if fewer were published meanwhile, N was whole while it was linked; otherwise start again;
3. copy the linked files to the backup folder, open the copy read-only (RocksDB refuses a checkpoint
   with a missing file) and count its quads.

Restoring installs the backup as a new checkpoint and rebuilds the working copy from it, under the
store's lock: a running server holds that lock, so restoring into a served store is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import uuid
from contextlib import closing, suppress
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox

from .audit import AuditLog
from .errors import SekgError, StoreLockedError
from .store.embedded import KEEP_CHECKPOINTS, EmbeddedStore, _fsync_dir

MANIFEST = "BACKUP.json"
STATE_FILES = ("tokens.sqlite", "audit.sqlite")
DERIVED = ("portal.duckdb", "portal.duckdb.wal", "dumps")  # rebuilt from the store; stale after a restore
ATTEMPTS = 20


def _current(store_path: Path) -> str:
    pointer = store_path / "checkpoints" / "CURRENT"
    try:
        return pointer.read_text().strip()
    except FileNotFoundError:
        raise SekgError(f"there is no store at {store_path} (no published checkpoint)") from None


def _link_checkpoint(store_path: Path, staging: Path) -> str:
    """Hard-link the files of the current checkpoint into `staging`; return the checkpoint's name."""
    for _ in range(ATTEMPTS):
        name = _current(store_path)
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            for item in (store_path / "checkpoints" / name).iterdir():
                os.link(item, staging / item.name)
        except FileNotFoundError:
            continue  # the checkpoint was removed under us: a newer one exists
        if int(_current(store_path)) - int(name) < KEEP_CHECKPOINTS:
            return name
    raise SekgError(f"the store at {store_path} changed too fast to take a consistent backup; try again")


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _copy_sqlite(source: Path, target: Path) -> None:
    """Copy an SQLite database consistently while other processes may write it."""
    with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _count(checkpoint: Path) -> tuple[int, int]:
    """Open a checkpoint copy read-only (which checks every file is there); return (quads, named graphs)."""
    try:
        store = ox.Store.read_only(str(checkpoint))
    except (OSError, RuntimeError) as exc:
        raise SekgError(f"the copied snapshot in {checkpoint} does not open: {exc}") from None
    return len(store), sum(1 for _ in store.named_graphs())


def backup_store(store_path: Path, state_dir: Path, target: Path) -> dict:
    """Write a backup of the store's latest acknowledged state to `target` (new or empty); return its manifest."""
    store_path, target = Path(store_path).resolve(), Path(target).resolve()
    if target.exists() and any(target.iterdir()):
        raise SekgError(f"the backup folder {target} exists and is not empty")
    if target == store_path or store_path in target.parents:
        raise SekgError("the backup folder must be outside the store folder")
    staging = store_path / f"backup-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        version = _link_checkpoint(store_path, staging)
        taken = datetime.now(timezone.utc).isoformat(timespec="seconds")
        (target / "oxigraph").mkdir(parents=True)
        for item in sorted(staging.iterdir()):
            shutil.copy2(item, target / "oxigraph" / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for name in STATE_FILES:
        if (Path(state_dir) / name).exists():
            _copy_sqlite(Path(state_dir) / name, target / name)
    quads, graphs = _count(target / "oxigraph")
    files = {str(p.relative_to(target)): {"bytes": p.stat().st_size, "sha256": _digest(p)}
             for p in sorted(target.rglob("*")) if p.is_file()}
    manifest = {"format": 1, "version": version, "taken": taken, "quads": quads, "named_graphs": graphs,
                "source": str(store_path), "files": files}
    # the manifest is written last: a folder without one is an unfinished backup and is never restored
    partial = target / (MANIFEST + ".tmp")
    partial.write_text(json.dumps(manifest, indent=2))
    os.replace(partial, target / MANIFEST)
    return manifest


def read_manifest(backup: Path) -> dict:
    """Return a backup's manifest after checking every file against its size and SHA-256 sum."""
    backup = Path(backup)
    try:
        manifest = json.loads((backup / MANIFEST).read_text())
    except FileNotFoundError:
        raise SekgError(f"{backup} is not a finished backup: it has no {MANIFEST}") from None
    for name, info in manifest["files"].items():
        path = backup / name
        if not path.is_file() or path.stat().st_size != info["bytes"] or _digest(path) != info["sha256"]:
            raise SekgError(f"the backup in {backup} is damaged: {name} is missing or differs from the manifest")
    return manifest


def _install(backup: Path, store: EmbeddedStore) -> str:
    """Install the backup's snapshot as the store's newest checkpoint; return its name."""
    checkpoints = store.checkpoints_dir
    checkpoints.mkdir(parents=True, exist_ok=True)
    numbers = [int(p.name) for p in checkpoints.iterdir() if p.is_dir() and p.name.isdigit()]
    with suppress(FileNotFoundError, ValueError):
        numbers.append(int((checkpoints / "CURRENT").read_text().strip()))
    # a new, higher number: the portal index and dumps remember versions and must not mistake this one
    name = f"{max(numbers, default=0) + 1:010d}"
    staging = checkpoints / f"tmp-{name}"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(backup / "oxigraph", staging)
    for item in staging.iterdir():
        with open(item, "rb") as handle:
            os.fsync(handle.fileno())
    os.rename(staging, checkpoints / name)
    # from here until the working copy is rebuilt, a crash leaves the marker: the next open rebuilds it
    store.marker.write_text("restore")
    pointer = checkpoints / "CURRENT.tmp"
    with open(pointer, "w") as handle:
        handle.write(name)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(pointer, checkpoints / "CURRENT")
    _fsync_dir(checkpoints)
    return name


def _quads_before(store: EmbeddedStore) -> int | None:
    """Count the quads the store held, or None when it is too damaged to tell (restoring is then the point)."""
    try:
        return len(ox.Store.read_only(str(store.checkpoint_path(_current(store.path)))))
    except (OSError, RuntimeError, SekgError):
        return None


def restore_store(backup: Path, store_path: Path, state_dir: Path, *, replace: bool = False) -> dict:
    """Make a stopped store hold exactly the backup's data; return what was done.

    Tokens and the audit log are restored only into a state folder that has none: on a live
    installation, tokens revoked since the backup must stay revoked and the log keeps its history
    (a "restore" entry is added to it).
    """
    manifest = read_manifest(backup)
    store = EmbeddedStore(path=store_path)
    store.path.mkdir(parents=True, exist_ok=True)
    try:
        store._take_lock()  # noqa: SLF001 - the store's own lock, held while its files are replaced
    except StoreLockedError:
        owner = (store.path / "sekg.lock").read_text().strip() or "another process"
        raise StoreLockedError(f"the store {store.path} is open in {owner} (a running server?); stop it "
                               f"before restoring, or restore into another folder") from None
    try:
        had_data = (store.checkpoints_dir / "CURRENT").exists()
        if had_data and not replace:
            raise SekgError(f"the store {store.path} already holds data; give --replace to overwrite it "
                            f"with the backup")
        before = _quads_before(store) if had_data else 0
        name = _install(Path(backup), store)
        store._current = name  # noqa: SLF001
        store._restore_primary()  # noqa: SLF001 - rebuild the working copy from the new checkpoint; drops the marker
        for old in store.checkpoints_dir.iterdir():
            if old.is_dir() and old.name != name:
                shutil.rmtree(old, ignore_errors=True)
    finally:
        store.close()
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    for derived in DERIVED:
        path = state_dir / derived
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    kept = []
    for name in STATE_FILES:
        if (Path(backup) / name).exists() and not (state_dir / name).exists():
            shutil.copy2(Path(backup) / name, state_dir / name)
        elif (state_dir / name).exists():
            kept.append(name)
    AuditLog(state_dir / "audit.sqlite").record(
        "operator (command line)", "restore", {"ALL": (before or 0, manifest["quads"])},
        {"backup": str(Path(backup).resolve()), "taken": manifest["taken"], "version": manifest["version"]})
    return {"version": manifest["version"], "taken": manifest["taken"], "quads": manifest["quads"],
            "replaced": had_data, "kept": kept}
