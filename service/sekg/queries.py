"""Load the named SPARQL queries of queries/*.rq, read their headers and check their syntax once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from .errors import QuerySyntaxError
from .paths import QUERIES_DIR

_HEADER = re.compile(r"^#\+\s*(\w+)\s*:\s*(.*)$")


@dataclass(frozen=True)
class NamedQuery:
    name: str
    text: str
    title: str = ""
    summary: str = ""
    params: tuple[str, ...] = ()
    example: bool = False
    meta: dict = field(default_factory=dict, compare=False)


def parse_query_file(path: Path) -> NamedQuery:
    """Read one .rq file and its `#+ key: value` header lines."""
    text = path.read_text(encoding="utf-8")
    meta = {}
    for line in text.splitlines():
        match = _HEADER.match(line.strip())
        if match:
            meta[match.group(1).lower()] = match.group(2).strip()
    params = tuple(p.strip().lstrip("?") for p in meta.get("params", "").split(",") if p.strip())
    title = meta.get("title") or path.stem.replace("_", " ").capitalize()
    return NamedQuery(name=path.stem, text=text, title=title, summary=meta.get("summary", ""), params=params,
                      example=meta.get("example", "").lower() in {"yes", "true"}, meta=meta)


def check_syntax(query: NamedQuery) -> None:
    """Parse a query with the engine (on an empty store) so that a typo fails at start-up."""
    try:
        result = ox.Store().query(query.text)
        if not isinstance(result, ox.QueryBoolean):
            for _ in result:
                break
    except SyntaxError as exc:
        raise QuerySyntaxError(f"queries/{query.name}.rq: {exc}") from None


@lru_cache(maxsize=4)
def load_queries(directory: Path = QUERIES_DIR) -> dict[str, NamedQuery]:
    """Load and syntax-check every query of a folder, by name."""
    queries = {}
    for path in sorted(Path(directory).glob("*.rq")):
        query = parse_query_file(path)
        check_syntax(query)
        queries[query.name] = query
    return queries
