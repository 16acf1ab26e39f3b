"""Run the application under Waitress, a production WSGI server, until SIGINT or SIGTERM."""

from __future__ import annotations

import logging
import signal
import sys

import waitress

from .app import close_app, create_app
from .config import Settings

log = logging.getLogger(__name__)


def make_server(settings: Settings, app=None):
    """Create (but do not start) the WSGI server; the port is bound, so 0 gives a free one."""
    app = app or create_app(settings)
    server = waitress.create_server(
        app, host=settings.SEKG_HOST, port=settings.SEKG_PORT, threads=settings.SEKG_THREADS, ident="sekg",
        max_request_body_size=settings.SEKG_MAX_BODY_BYTES + 1, channel_timeout=max(120, int(settings.SEKG_QUERY_TIMEOUT) * 2),
        clear_untrusted_proxy_headers=True)
    return app, server


def stop_server(server, thread=None) -> None:
    """Stop a server running in another thread: its event loop closes its own sockets, then exits."""
    from waitress import wasyncore

    try:
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
    except OSError as exc:
        # The wake-up pipe is gone (seen about once in three full test runs; the closer of its
        # descriptor is not yet found): close the sockets from here; the loop then ends on its own.
        log.warning("stopping the server: its wake-up pipe is unusable (%s); closing its sockets directly", exc)
        wasyncore.close_all(server._map, ignore_all=True)
    if thread is not None:
        thread.join(timeout=10)
    server.task_dispatcher.shutdown(timeout=5)


def run_server(settings: Settings) -> None:
    """Serve until stopped; the store is closed on the way out."""
    app, server = make_server(settings)

    def stop(signum, frame):
        log.info("stopping on signal %s", signum)
        server.close()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    host = settings.SEKG_HOST
    print(f"sekg serving http://{host}:{server.effective_port}/ (store: {settings.SEKG_STORE})", flush=True)
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        close_app(app)
        sys.stdout.flush()
