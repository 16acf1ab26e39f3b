"""Issue, check and revoke bearer tokens; each is bound to the named graphs it may write.

Tokens are random and long, so a SHA-256 digest is enough to store them safely: only the digest
and the first characters (to recognise a token in listings) are kept.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .errors import BadRequestError, NotFoundError

PREFIX = "sekg_"


@dataclass(frozen=True)
class Grant:
    id: int
    admin: bool
    graphs: tuple[str, ...]
    label: str
    shown: str
    created: str
    revoked: str | None

    def may_write(self, graph: str | None) -> bool:
        """Tell whether the token may change a graph (None = the default graph)."""
        if self.admin:
            return True
        return graph is not None and graph in self.graphs

    @property
    def who(self) -> str:
        return f"token {self.id} ({self.label or self.shown})"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenStore:
    """Keep tokens in an SQLite file in the state folder, safe to use while the server runs."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("""CREATE TABLE IF NOT EXISTS tokens (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                digest TEXT UNIQUE NOT NULL,
                shown TEXT NOT NULL,
                admin INTEGER NOT NULL,
                graphs TEXT NOT NULL,
                label TEXT NOT NULL DEFAULT '',
                created TEXT NOT NULL,
                revoked TEXT)""")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def create(self, graphs: list[str] | tuple[str, ...] = (), *, admin: bool = False, label: str = "") -> str:
        """Create a token; return it (the only time it is ever shown)."""
        graphs = tuple(dict.fromkeys(graphs))
        if not admin and not graphs:
            raise BadRequestError("a token needs at least one --graph, or --admin")
        for graph in graphs:
            if "://" not in graph and not graph.startswith("urn:"):
                raise BadRequestError(f"{graph!r} is not an absolute graph IRI")
        token = PREFIX + secrets.token_urlsafe(32)
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with closing(self._connect()) as db, db:
            db.execute("INSERT INTO tokens (digest, shown, admin, graphs, label, created) VALUES (?,?,?,?,?,?)",
                       (_digest(token), token[: len(PREFIX) + 6], int(admin), json.dumps(graphs), label, now))
        return token

    def check(self, token: str) -> Grant | None:
        """Return the grant of a valid, unrevoked token, or None."""
        digest = _digest(token)
        with closing(self._connect()) as db:
            row = db.execute("SELECT id, admin, graphs, label, shown, created, revoked, digest FROM tokens "
                             "WHERE digest = ?", (digest,)).fetchone()
        if row is None or row[6] is not None or not hmac.compare_digest(row[7], digest):
            return None
        return self._grant(row)

    def list(self) -> list[Grant]:
        with closing(self._connect()) as db:
            rows = db.execute("SELECT id, admin, graphs, label, shown, created, revoked FROM tokens ORDER BY id").fetchall()
        return [self._grant(row) for row in rows]

    def revoke(self, token_or_id: str) -> Grant:
        """Revoke a token given itself or its id."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with closing(self._connect()) as db, db:
            if token_or_id.isdigit():
                where, value = "id = ?", int(token_or_id)
            else:
                where, value = "digest = ?", _digest(token_or_id)
            row = db.execute(f"SELECT id, admin, graphs, label, shown, created, revoked FROM tokens WHERE {where}",
                             (value,)).fetchone()
            if row is None:
                raise NotFoundError("no such token")
            db.execute("UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL", (now, row[0]))
        return self._grant(row[:6] + (row[6] or now,))

    @staticmethod
    def _grant(row) -> Grant:
        return Grant(id=row[0], admin=bool(row[1]), graphs=tuple(json.loads(row[2])), label=row[3], shown=row[4],
                     created=row[5], revoked=row[6])
