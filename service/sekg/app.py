"""Build the Flask application: settings, store, services, error handlers and blueprints."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import Flask, current_app

from .audit import AuditLog
from .config import Settings, load_settings
from .errors import SekgError
from .queries import NamedQuery, load_queries
from .ratelimit import RateLimiter
from .store import Store, open_store
from .tokens import TokenStore
from .writes import WriteService

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a request handler needs, created once per application."""

    settings: Settings
    store: Store
    tokens: TokenStore
    queries: dict[str, NamedQuery]
    audit: AuditLog
    writes: WriteService
    limiter: RateLimiter
    extras: dict = field(default_factory=dict)


def services() -> Services:
    """Return the services of the application handling the current request."""
    return current_app.extensions["sekg"]


def prepare_store(settings: Settings, store: Store | None = None) -> Store:
    """Open the store; fill a fresh one with the shipped data when the settings ask for it."""
    if store is None:
        store = open_store(settings).open()
    if settings.SEKG_LOAD_SHIPPED:
        store.fill_if_empty(fill_with_shipped)
    return store


def fill_with_shipped(store: Store) -> None:
    """Load the shipped ontology, vocabularies and data into an empty store."""
    from .loader import load_shipped

    log.info("filling the fresh store with the shipped ontology, vocabularies and data")
    load_shipped(store)


def create_app(settings: Settings | None = None, *, store: Store | None = None, **overrides) -> Flask:
    """Create the application; `overrides` are SEKG_* settings that win over the environment."""
    if settings is None:
        settings = load_settings(**overrides)
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.SEKG_MAX_BODY_BYTES
    app.config["JSON_SORT_KEYS"] = False
    store = prepare_store(settings, store)
    audit = AuditLog(settings.state_dir / "audit.sqlite")
    app.extensions["sekg"] = Services(
        settings=settings,
        store=store,
        tokens=TokenStore(settings.state_dir / "tokens.sqlite"),
        queries=load_queries(),
        audit=audit,
        writes=WriteService(store, audit, settings),
        limiter=RateLimiter(settings.SEKG_RATE_LIMIT, settings.SEKG_RATE_BURST),
    )

    from .error_handlers import register_error_handlers
    from .http import register_request_limits

    register_error_handlers(app)
    register_request_limits(app)

    from .blueprints import (graph_store, health, importing, lod, portal, publishing, reconcile, sparql, static_files,
                             update)
    from .dumps import Dumps
    from .importing.matching import ConceptCache
    from .portal_index import PortalIndex
    from .web import register_template_context

    extras = app.extensions["sekg"].extras
    extras["dumps"] = Dumps(store, settings.state_dir / "dumps")
    extras["portal_index"] = PortalIndex(settings.state_dir / "portal.duckdb", store, app.extensions["sekg"].queries)
    app.extensions["sekg"].writes.listeners.append(extras["portal_index"].graphs_changed)
    extras["import_concepts"] = ConceptCache(store, app.extensions["sekg"].queries)
    app.extensions["sekg"].writes.listeners.append(extras["import_concepts"].graphs_changed)
    if settings.SEKG_PORTAL_INDEX_AT_START:
        extras["portal_index"].ensure_current()
    register_template_context(app)
    app.register_blueprint(static_files.bp)
    app.register_blueprint(lod.bp)
    app.register_blueprint(publishing.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(update.bp)
    app.register_blueprint(graph_store.bp)
    app.register_blueprint(importing.bp)
    app.register_blueprint(reconcile.bp)
    return app


def close_app(app: Flask) -> None:
    """Close the application's store (and its query workers)."""
    services_ = app.extensions.get("sekg")
    if services_ is not None:
        services_.store.close()


__all__ = ["Services", "SekgError", "close_app", "create_app", "prepare_store", "services"]
