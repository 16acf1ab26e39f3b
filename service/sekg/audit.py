"""Record every write (who, when, which graph, how many triples) in an append-only SQLite log."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path


@dataclass(frozen=True)
class Entry:
    id: int
    time: str
    who: str
    operation: str
    graph: str
    triples_before: int
    triples_after: int
    detail: str


class AuditLog:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("""CREATE TABLE IF NOT EXISTS writes (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                time TEXT NOT NULL, who TEXT NOT NULL, operation TEXT NOT NULL, graph TEXT NOT NULL,
                triples_before INTEGER NOT NULL, triples_after INTEGER NOT NULL, detail TEXT NOT NULL)""")

    def _connect(self):
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        return db

    def record(self, who: str, operation: str, changes: dict[str, tuple[int, int]], detail: dict | None = None):
        """Log one acknowledged write: `changes` maps each graph to (triples before, triples after)."""
        now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        text = json.dumps(detail or {}, ensure_ascii=False)
        with closing(self._connect()) as db, db:
            db.executemany(
                "INSERT INTO writes (time, who, operation, graph, triples_before, triples_after, detail) "
                "VALUES (?,?,?,?,?,?,?)",
                [(now, who, operation, graph, before, after, text) for graph, (before, after) in changes.items()])

    def entries(self, *, graph: str | None = None, limit: int = 100, since: datetime | None = None) -> list[Entry]:
        """Return the newest `limit` entries (of one graph, at or after `since`), oldest first."""
        query = "SELECT id, time, who, operation, graph, triples_before, triples_after, detail FROM writes"
        conditions, args = [], []
        if graph:
            conditions.append("graph = ?")
            args.append(graph)
        if since is not None:
            # times are stored as UTC ISO 8601 text, which sorts like the instants it names
            moment = since if since.tzinfo else since.replace(tzinfo=timezone.utc)
            conditions.append("time >= ?")
            args.append(moment.astimezone(timezone.utc).isoformat(timespec="milliseconds"))
        if conditions:
            query += " WHERE " + " AND ".join(conditions)
        query += " ORDER BY id DESC LIMIT ?"
        with closing(self._connect()) as db:
            rows = db.execute(query, (*args, limit)).fetchall()
        return [Entry(*row) for row in reversed(rows)]
