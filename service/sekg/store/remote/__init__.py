"""Keep the dataset in an external SPARQL 1.1 engine; see store.py, and docs/deploy.md for the engines."""

from .store import RemoteStore

__all__ = ["RemoteStore"]
