"""Give every HTML template the page language, its texts, the language switch and the navigation."""

from __future__ import annotations

from flask import request

from .i18n import LANGUAGES, choose_language, text

NAV = [("directory", "/"), ("tender", "/tender"), ("charts", "/charts"), ("sparql", "/sparql"),
       ("catalogue", "/catalog"), ("dumps", "/dumps")]


def switch_url(language: str) -> str:
    args = request.args.to_dict(flat=False)
    args["lang"] = [language]
    from urllib.parse import urlencode

    return request.path + "?" + urlencode(args, doseq=True)


def register_template_context(app) -> None:
    from .linked_data import UriSpace

    uris = UriSpace(app.extensions["sekg"].settings.base_iri)
    app.add_template_filter(uris.page, "page_url")

    @app.context_processor
    def page_context():
        language = choose_language()
        other = next(code for code in LANGUAGES if code != language)
        return {"lang": language, "other_lang": other, "t": lambda key: text(key, language),
                "switch_url": switch_url(other), "nav_links": NAV}

    @app.after_request
    def remember_language(response):
        wanted = request.args.get("lang")
        if wanted in LANGUAGES and response.mimetype == "text/html":
            response.set_cookie("lang", wanted, max_age=365 * 24 * 3600, samesite="Lax")
        return response
