"""Read and check the service settings from SEKG_* environment variables, once, at start-up."""

from __future__ import annotations

import ipaddress
import os
import re
import typing
from dataclasses import dataclass, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from .errors import ConfigError
from .namespaces import CANONICAL_BASE

ALLOCATOR_AUTO, ALLOCATOR_SYSTEM = "auto", "system"  # SEKG_QUERY_ALLOCATOR's named choices

REMOTE = "sparql"


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a boolean, got {value!r}")


def _list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.replace("\n", ",").split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    """Every setting of the service; the attribute docs are the README's configuration table."""

    SEKG_STORE: str = "sekg-store"
    """Folder of the embedded Oxigraph store, or `sparql` for an external SPARQL 1.1 engine."""
    SEKG_STATE_DIR: str = ""
    """Folder for tokens, audit log, search index and dumps; defaults to the store folder (or `sekg-state` with an external engine)."""
    SEKG_BASE_IRI: str = CANONICAL_BASE
    """Canonical base IRI of the graph's resources."""
    SEKG_HOST: str = "127.0.0.1"
    SEKG_PORT: int = 8080
    SEKG_THREADS: int = 16
    """Request threads of the WSGI server."""
    SEKG_QUERY_WORKERS: int = 2
    """Query worker processes of the embedded store (a runaway query is stopped by ending its process)."""
    SEKG_QUERY_THREADS: int = 4
    """Queries each worker process runs at once, sharing its open store and cache."""
    SEKG_QUERY_ALLOCATOR: str = ALLOCATOR_AUTO
    """malloc of the query workers: `auto` (jemalloc when installed), `system`, or a library's path."""
    SEKG_QUERY_TIMEOUT: float = 30.0
    """Seconds after which a query is stopped and answered 503."""
    SEKG_MAX_RESULT_ROWS: int = 100_000
    """Cap on solutions (SELECT) or triples (CONSTRUCT/DESCRIBE) in one answer."""
    SEKG_MAX_BODY_BYTES: int = 50 * 1024 * 1024
    """Largest request body accepted (413 beyond)."""
    SEKG_MAX_URL_BYTES: int = 16 * 1024
    """Longest request URI accepted (414 beyond)."""
    SEKG_SERVICE_ALLOWLIST: tuple[str, ...] = ()
    """Comma-separated SPARQL endpoints that federated SERVICE may call; empty = SERVICE off."""
    SEKG_RATE_LIMIT: float = 0.0
    """Queries per second allowed per client on /sparql (0 = unlimited)."""
    SEKG_RATE_BURST: int = 20
    """Burst of queries a client may send above the rate."""
    SEKG_REMOTE_QUERY_URL: str = ""
    SEKG_REMOTE_UPDATE_URL: str = ""
    SEKG_REMOTE_GSP_URL: str = ""
    SEKG_REMOTE_USER: str = ""
    SEKG_REMOTE_PASSWORD: str = ""
    SEKG_REMOTE_DIALECT: str = "generic"
    """`generic`, `virtuoso` or `oxigraph`: engine quirks the remote store handles."""
    SEKG_TILE_URL: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    """Map tile server for the portal map; empty disables tiles."""
    SEKG_PUBLIC_URL: str = ""
    """Public address of this server (behind a proxy); empty = the address requests arrive at."""
    SEKG_PUBLISHER_NAME: str = "Social Economy Knowledge Graph contributors"
    """Publisher named in the catalogue."""
    SEKG_PUBLISHER_ID: str = "sekg"
    """Publisher identifier in the catalogue (for dati.gov.it: the IPA code)."""
    SEKG_CONTACT_EMAIL: str = ""
    """Contact e-mail of the catalogue; empty = the contact point is the site's address."""
    SEKG_LICENCE: str = "CC_BY_4_0"
    """Licence of the data: a code of the EU licence authority table."""
    SEKG_RML_ENGINE: str = ""
    """Python of the RML engine's environment (morph-kgc) for imports; empty = `.venv-rml` of the project."""
    SEKG_IMPORT_MAX_ROWS: int = 200_000
    """Largest spreadsheet (rows) one import accepts."""
    SEKG_LOAD_SHIPPED: bool = True
    """Fill a fresh store with the shipped ontology, vocabularies and data."""
    SEKG_PORTAL_INDEX_AT_START: bool = True
    """Build the directory's search index at start-up; `false` builds it on the directory's first visit or first write (a SPARQL-first mirror of a big store)."""
    SEKG_LOG_LEVEL: str = "INFO"

    # --- derived values -------------------------------------------------------------------
    @property
    def remote(self) -> bool:
        return self.SEKG_STORE == REMOTE

    @property
    def store_path(self) -> Path:
        return Path(self.SEKG_STORE).resolve()

    @property
    def state_dir(self) -> Path:
        if self.SEKG_STATE_DIR:
            return Path(self.SEKG_STATE_DIR).resolve()
        if self.remote:
            return Path("sekg-state").resolve()
        return self.store_path

    @property
    def base_iri(self) -> str:
        return self.SEKG_BASE_IRI


_CONVERTERS = {int: int, float: float, bool: _bool, str: str, tuple[str, ...]: _list}


def load_settings(environ: dict | None = None, **overrides) -> Settings:
    """Build settings from defaults, then the environment, then explicit overrides, and check them."""
    environ = os.environ if environ is None else environ
    values: dict = {}
    problems: list[str] = []
    hints = typing.get_type_hints(Settings)
    for f in fields(Settings):
        if not f.name.startswith("SEKG_"):
            continue
        if f.name in environ:
            converter = _CONVERTERS[hints[f.name]]
            try:
                values[f.name] = converter(environ[f.name])
            except ValueError as exc:
                problems.append(f"{f.name}: {exc}")
    unknown = sorted(k for k in environ if k.startswith("SEKG_") and k not in {f.name for f in fields(Settings)})
    problems.extend(f"{name}: unknown setting" for name in unknown)
    for name, value in overrides.items():
        if value is not None:
            values[name] = value
    if problems:
        raise ConfigError("invalid configuration: " + "; ".join(problems))
    settings = Settings(**values)
    check_settings(settings)
    return settings


def check_settings(settings: Settings) -> None:
    """Raise ConfigError naming every setting that is out of range or inconsistent."""
    problems = []
    if settings.SEKG_QUERY_TIMEOUT <= 0:
        problems.append("SEKG_QUERY_TIMEOUT must be positive")
    if settings.SEKG_QUERY_WORKERS < 1:
        problems.append("SEKG_QUERY_WORKERS must be at least 1")
    if settings.SEKG_QUERY_THREADS < 1:
        problems.append("SEKG_QUERY_THREADS must be at least 1")
    if settings.SEKG_QUERY_ALLOCATOR not in {ALLOCATOR_AUTO, ALLOCATOR_SYSTEM} and not Path(settings.SEKG_QUERY_ALLOCATOR).is_file():
        problems.append(f"SEKG_QUERY_ALLOCATOR: no library at {settings.SEKG_QUERY_ALLOCATOR}; "
                        "give `auto`, `system` or the path of a malloc library such as libjemalloc.so.2")
    if settings.SEKG_THREADS < 1:
        problems.append("SEKG_THREADS must be at least 1")
    if settings.SEKG_MAX_RESULT_ROWS < 1:
        problems.append("SEKG_MAX_RESULT_ROWS must be at least 1")
    if settings.SEKG_MAX_BODY_BYTES < 1024:
        problems.append("SEKG_MAX_BODY_BYTES must be at least 1024")
    if settings.SEKG_MAX_URL_BYTES < 256:
        problems.append("SEKG_MAX_URL_BYTES must be at least 256")
    if not 0 <= settings.SEKG_PORT <= 65535:
        problems.append("SEKG_PORT must be between 0 and 65535")
    if settings.SEKG_IMPORT_MAX_ROWS < 1:
        problems.append("SEKG_IMPORT_MAX_ROWS must be at least 1")
    if settings.SEKG_RML_ENGINE and not Path(settings.SEKG_RML_ENGINE).is_file():
        problems.append(f"SEKG_RML_ENGINE: {settings.SEKG_RML_ENGINE} is not a file")
    if settings.SEKG_RATE_LIMIT < 0:
        problems.append("SEKG_RATE_LIMIT must not be negative")
    base = urlsplit(settings.SEKG_BASE_IRI)
    if base.scheme not in {"http", "https"} or not base.netloc or not settings.SEKG_BASE_IRI.endswith("/"):
        problems.append("SEKG_BASE_IRI must be an absolute http(s) IRI ending with '/'")
    for endpoint in settings.SEKG_SERVICE_ALLOWLIST:
        problem = _allowlist_problem(endpoint)
        if problem:
            problems.append(f"SEKG_SERVICE_ALLOWLIST: {endpoint}: {problem}")
    if settings.SEKG_REMOTE_DIALECT not in {"generic", "virtuoso", "oxigraph"}:
        problems.append("SEKG_REMOTE_DIALECT must be generic, virtuoso or oxigraph")
    if settings.remote:
        for name in ("SEKG_REMOTE_QUERY_URL", "SEKG_REMOTE_UPDATE_URL"):
            value = getattr(settings, name)
            if not value:
                problems.append(f"{name} is required when SEKG_STORE=sparql")
            elif urlsplit(value).scheme not in {"http", "https"}:
                problems.append(f"{name} must be an http(s) URL")
        if settings.SEKG_REMOTE_GSP_URL and urlsplit(settings.SEKG_REMOTE_GSP_URL).scheme not in {"http", "https"}:
            problems.append("SEKG_REMOTE_GSP_URL must be an http(s) URL")
    if settings.SEKG_PUBLIC_URL and (urlsplit(settings.SEKG_PUBLIC_URL).scheme not in {"http", "https"}
                                     or settings.SEKG_PUBLIC_URL.endswith("/")):
        problems.append("SEKG_PUBLIC_URL must be an http(s) URL without a trailing '/'")
    if not re.fullmatch(r"[A-Z0-9_]+", settings.SEKG_LICENCE):
        problems.append("SEKG_LICENCE must be a code of the EU licence table, such as CC_BY_4_0")
    if settings.SEKG_CONTACT_EMAIL and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", settings.SEKG_CONTACT_EMAIL):
        problems.append("SEKG_CONTACT_EMAIL must be an e-mail address")
    if settings.SEKG_LOG_LEVEL.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        problems.append("SEKG_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
    if problems:
        raise ConfigError("invalid configuration: " + "; ".join(problems))


def _allowlist_problem(endpoint: str) -> str | None:
    parts = urlsplit(endpoint)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return "must be an absolute http(s) URL"
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return None
    if not address.is_global:
        return "must not be a loopback, private or link-local address"
    return None


def with_overrides(settings: Settings, **values) -> Settings:
    """Return a copy of the settings with some values replaced, checked again."""
    updated = replace(settings, **{k: v for k, v in values.items() if v is not None})
    check_settings(updated)
    return updated
