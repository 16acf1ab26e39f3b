"""Storage: one interface, an embedded Oxigraph implementation and a remote SPARQL 1.1 one."""

from .base import Answer, Store, Transaction

__all__ = ["Answer", "Store", "Transaction", "open_store"]


def open_store(settings, **kwargs) -> Store:
    """Open the store the settings name: the embedded Oxigraph store, or a remote SPARQL engine."""
    if settings.remote:
        from .remote import RemoteStore

        return RemoteStore(settings, **kwargs)
    from .embedded import EmbeddedStore

    return EmbeddedStore(settings, **kwargs)
