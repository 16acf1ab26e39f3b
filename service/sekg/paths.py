"""Locate the project's folders (ontology, shapes, data, queries) from the installed package."""

from pathlib import Path

# The package is installed in development mode from its checkout; the data it serves lives
# beside it in the repository.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
ONTOLOGY_DIR = PROJECT_ROOT / "ontology"
ONTOLOGY_FILE = ONTOLOGY_DIR / "sekg.ttl"
REUSED_TERMS_FILE = ONTOLOGY_DIR / "reused-terms.ttl"
SHAPES_DIR = PROJECT_ROOT / "shapes"
SHAPES_FILE = SHAPES_DIR / "sekg-shapes.ttl"
DATA_DIR = PROJECT_ROOT / "data"
VOCAB_DIR = DATA_DIR / "vocab"
SOURCES_DIR = DATA_DIR / "sources"
QUERIES_DIR = PROJECT_ROOT / "queries"
PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
