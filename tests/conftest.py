"""Shared fixtures: live servers on port 0 (Waitress in a thread), stores and tokens."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from sekg.app import close_app
from sekg.config import load_settings
from sekg.server import make_server, stop_server
from sekg.tokens import TokenStore

PROJECT = Path(__file__).resolve().parents[1]
SHARED = PROJECT.parent / "shared"


@dataclass
class LiveServer:
    """A running server: its base URL, settings, app and an operator token."""

    url: str
    settings: object
    app: object
    server: object
    thread: threading.Thread
    admin_token: str

    @property
    def store(self):
        return self.app.extensions["sekg"].store

    def token(self, *graphs: str, label: str = "") -> str:
        return TokenStore(self.settings.state_dir / "tokens.sqlite").create(list(graphs), label=label)

    def auth(self, token: str | None = None) -> dict:
        return {"Authorization": f"Bearer {token or self.admin_token}"}

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, timeout=60, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return requests.post(self.url + path, timeout=60, **kwargs)

    def stop(self) -> None:
        stop_server(self.server, self.thread)
        close_app(self.app)


def start_server(store_dir: Path, **settings) -> LiveServer:
    """Serve a store folder, or an external engine when the settings say SEKG_STORE=sparql (see remote_settings)."""
    values = {"SEKG_STORE": str(store_dir), "SEKG_PORT": 0, "SEKG_QUERY_WORKERS": 2, "SEKG_THREADS": 8}
    values.update(settings)
    if values["SEKG_STORE"] == "sparql":
        values.setdefault("SEKG_STATE_DIR", str(store_dir))
    config = load_settings(environ={}, **values)
    app, server = make_server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="sekg-test-server")
    thread.start()
    admin = TokenStore(config.state_dir / "tokens.sqlite").create(admin=True, label="tests")
    return LiveServer(f"http://127.0.0.1:{server.effective_port}", config, app, server, thread, admin)


def remote_settings(engine) -> dict:
    """Return the settings that put the service on a test engine of tests/triplestores.py."""
    from triplestores import VirtuosoServer

    settings = {"SEKG_STORE": "sparql", "SEKG_REMOTE_QUERY_URL": engine.query_url,
                "SEKG_REMOTE_UPDATE_URL": engine.update_url, "SEKG_REMOTE_GSP_URL": engine.gsp_url,
                "SEKG_REMOTE_DIALECT": "oxigraph"}
    if isinstance(engine, VirtuosoServer):
        # queries go to the digest-protected endpoint too, so that SPARQLWrapper's digest auth is exercised
        settings.update(SEKG_REMOTE_QUERY_URL=engine.update_url, SEKG_REMOTE_USER=engine.user,
                        SEKG_REMOTE_PASSWORD=engine.password, SEKG_REMOTE_DIALECT="virtuoso")
    return settings


@pytest.fixture
def empty_server(tmp_path):
    """A server on a fresh store without the shipped data, for write tests."""
    live = start_server(tmp_path / "store", SEKG_LOAD_SHIPPED=False)
    yield live
    live.stop()


@pytest.fixture(scope="session")
def shipped_server(tmp_path_factory):
    """A server on a store filled with the shipped data; tests must not change it."""
    live = start_server(tmp_path_factory.mktemp("shipped") / "store")
    yield live
    live.stop()


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium (Debian's package) driven by Playwright."""
    from playwright.sync_api import sync_playwright

    from browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def synthetic_server(tmp_path_factory):
    """A server on the shipped data plus 400 SYNTHETIC enterprises (bench/synthetic.py), index built."""
    import sys

    sys.path.insert(0, str(PROJECT / "bench"))
    import synthetic

    from sekg.loader import FileToLoad, load_files, shipped_to_load
    from sekg.store.embedded import EmbeddedStore

    root = tmp_path_factory.mktemp("synthetic")
    data = root / "synthetic.nq"
    with open(data, "w", encoding="utf-8") as handle:
        synthetic.generate(400, handle, seed=7)
    store = EmbeddedStore(path=root / "store").open()
    try:
        load_files(store, shipped_to_load() + [FileToLoad(data, None)], validate_first=False)
    finally:
        store.close()
    live = start_server(root / "store", SEKG_TILE_URL="")  # no tile server: the map must work without one
    live.app.extensions["sekg"].extras["portal_index"].ensure_current(wait=True)
    yield live
    live.stop()
