"""Pick the page language (Italian or English) and format dates, amounts and literals for it."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from babel import Locale
from babel.dates import format_date, format_datetime, format_skeleton
from babel.numbers import format_currency, format_decimal
from flask import request
from rdflib import Literal
from rdflib.namespace import XSD

LANGUAGES = ("en", "it")
LOCALES = {"en": "en_GB", "it": "it_IT"}

UI = {
    "site": {"en": "Social Economy Knowledge Graph", "it": "Knowledge Graph dell'economia sociale"},
    "directory": {"en": "Directory", "it": "Elenco imprese"},
    "tender": {"en": "Match a tender", "it": "Verifica di mercato"},
    "charts": {"en": "At a glance", "it": "In sintesi"},
    "sparql": {"en": "SPARQL", "it": "SPARQL"},
    "catalogue": {"en": "Catalogue", "it": "Catalogo"},
    "dumps": {"en": "Downloads", "it": "Scaricamenti"},
    "language": {"en": "Language", "it": "Lingua"},
    "switch_to": {"en": "Italiano", "it": "English"},
    "properties": {"en": "Statements", "it": "Affermazioni"},
    "referenced_by": {"en": "Referenced by", "it": "Citato da"},
    "sources": {"en": "Where these facts come from", "it": "Da dove vengono questi fatti"},
    "source_graph": {"en": "Named graph", "it": "Grafo nominato"},
    "source_page": {"en": "Source", "it": "Fonte"},
    "confidence": {"en": "Confidence", "it": "Affidabilità"},
    "retrieved": {"en": "Read on", "it": "Consultato"},
    "formats": {"en": "This page as data", "it": "Questa pagina come dati"},
    "property": {"en": "Property", "it": "Proprietà"},
    "value": {"en": "Value", "it": "Valore"},
    "in_graph": {"en": "graph", "it": "grafo"},
    "not_found": {"en": "Not found", "it": "Non trovato"},
    "classes": {"en": "Classes", "it": "Classi"},
    "object_properties": {"en": "Properties", "it": "Proprietà"},
    "concept_schemes": {"en": "Concept schemes", "it": "Schemi di concetti"},
    "concepts": {"en": "Concepts", "it": "Concetti"},
    "more": {"en": "more", "it": "altri"},
    "triples": {"en": "triples", "it": "triple"},
    "skip": {"en": "Skip to content", "it": "Vai al contenuto"},
}


def choose_language() -> str:
    """Return the page language: the `lang` parameter, then the `lang` cookie, then Accept-Language."""
    wanted = request.args.get("lang") or request.cookies.get("lang")
    if wanted in LANGUAGES:
        return wanted
    best = request.accept_languages.best_match(LANGUAGES)
    return best or "en"


def text(key: str, language: str) -> str:
    entry = UI.get(key)
    if entry is None:
        return key
    return entry.get(language) or entry["en"]


def format_literal(value: Literal, language: str) -> str:
    """Format a literal for people: dates in words, numbers grouped, the rest as it is."""
    locale = LOCALES[language]
    datatype = value.datatype
    lexical = str(value)
    try:
        if datatype == XSD.date:
            return format_date(datetime.date.fromisoformat(lexical[:10]), format="long", locale=locale)
        if datatype == XSD.dateTime:
            moment = datetime.datetime.fromisoformat(lexical.replace("Z", "+00:00"))
            return format_datetime(moment, format="long", locale=locale, tzinfo=moment.tzinfo)
        if datatype == XSD.gYearMonth:
            year, month = lexical[:7].split("-")
            return format_skeleton("yMMMM", datetime.date(int(year), int(month), 1), locale=locale)
        if datatype == XSD.gYear:
            return lexical
        if datatype in (XSD.integer, XSD.decimal, XSD.double, XSD.int, XSD.long, XSD.nonNegativeInteger):
            return format_decimal(Decimal(lexical), locale=locale)
        if datatype == XSD.boolean:
            return {"true": {"en": "yes", "it": "sì"}, "false": {"en": "no", "it": "no"}}[lexical][language]
    except (ValueError, InvalidOperation, KeyError):
        pass
    return lexical


def format_amount(value, currency: str, language: str) -> str:
    """Format a monetary amount, without decimals when it is a whole number."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return f"{value} {currency}"
    locale = Locale.parse(LOCALES[language])
    if number == number.to_integral_value():
        # the locale's own pattern, without its decimals: "1.300.000 €", "€1,300,000"
        pattern = locale.currency_formats["standard"].pattern.replace(".00", "")
        return format_currency(number, currency, format=pattern, locale=locale, currency_digits=False)
    return format_currency(number, currency, locale=locale)
