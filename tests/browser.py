"""Drive Debian's Chromium through Playwright, recording console errors and off-site requests."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 "--disable-default-apps", "--disable-extensions"]


@dataclass
class PageLog:
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def offsite(self, allowed=("127.0.0.1", "localhost")) -> list[str]:
        return [url for url in self.requests if urllib.parse.urlsplit(url).hostname not in allowed
                and not url.startswith("data:")]


def watch(page) -> PageLog:
    """Record what a page logs and requests."""
    log = PageLog()
    page.on("console", lambda message: log.console_errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: log.page_errors.append(str(error)))
    page.on("request", lambda request: log.requests.append(request.url))
    return log
