"""Import federations' spreadsheets into their named graphs through declarative RML mappings."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import BadRequestError, NotFoundError
from ..paths import PROJECT_ROOT

MAPPINGS_DIR = PROJECT_ROOT / "data" / "import"
FEDERATION_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def shipped_mappings() -> dict[str, Path]:
    """Return the mappings shipped with the project by name (`template`, `sample-it`, ...)."""
    return {p.name[: -len("-mapping.ttl")]: p for p in sorted(MAPPINGS_DIR.glob("*-mapping.ttl"))}


def resolve_mapping(name: str | None, *, allow_paths: bool) -> Path:
    """Find a mapping by shipped name (default `template`), or as a file path when paths are allowed."""
    mappings = shipped_mappings()
    if not name:
        return mappings["template"]
    if name in mappings:
        return mappings[name]
    if allow_paths and Path(name).is_file():
        return Path(name)
    known = ", ".join(mappings)
    raise NotFoundError(f"no mapping named {name!r}; the server has: {known}")


def check_federation(federation: str) -> str:
    """Refuse a federation identifier that cannot be part of a graph IRI."""
    if not FEDERATION_ID.fullmatch(federation or ""):
        raise BadRequestError(f"invalid federation identifier {federation!r}: use lower-case letters, digits "
                              "and '-' (at most 63 characters), such as 'confcooperative-piemonte'")
    return federation
