"""List what the project ships: the ontology, the shapes, the vocabularies and the sourced data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .namespaces import GRAPH
from .paths import ONTOLOGY_FILE, REUSED_TERMS_FILE, SHAPES_FILE, SOURCES_DIR, VOCAB_DIR


@dataclass(frozen=True)
class ShippedFile:
    path: Path
    graph: str | None  # None: the file names its graphs itself (TriG / N-Quads)
    kind: str  # "ontology" | "shapes" | "vocabulary" | "data"


def shipped_files() -> list[ShippedFile]:
    """Return every shipped file with the named graph it is loaded into."""
    files = [
        ShippedFile(ONTOLOGY_FILE, str(GRAPH["ontology"]), "ontology"),
        ShippedFile(REUSED_TERMS_FILE, str(GRAPH["ontology"]), "ontology"),
        ShippedFile(SHAPES_FILE, str(GRAPH["shapes"]), "shapes"),
    ]
    files += [ShippedFile(p, str(GRAPH["vocab/" + p.stem]), "vocabulary") for p in sorted(VOCAB_DIR.glob("*.ttl"))]
    files += [ShippedFile(p, None, "data") for p in sorted(SOURCES_DIR.glob("*.trig"))]
    return files


def validated_files() -> list[ShippedFile]:
    """Return the shipped files whose content the shapes check (all but the shapes themselves)."""
    return [f for f in shipped_files() if f.kind != "shapes"]
