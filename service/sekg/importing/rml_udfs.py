"""Functions the RML mappings call, as morph-kgc runs them (it executes this file in its own process).

They only look up the answers the importer computed beforehand (with the vocabularies, and with
every problem already reported), so the engine's process needs no access to the graph. morph-kgc
prepends its own `udf` decorator to this file and runs it for each rule: keep it free of imports
from the project. Literal results are escaped here, because morph-kgc writes them as they are.
"""
import json
import os
import sys
import types

FN = "https://w3id.org/sekg/fn#"
EMPTY = "\u2205"
_KEY = "_sekg_rml_answers"
_cache = sys.modules.get(_KEY)
if _cache is None:
    _cache = types.ModuleType(_KEY)
    with open(os.environ["SEKG_RML_ANSWERS"], encoding="utf-8") as handle:
        _cache.answers = json.load(handle)
    sys.modules[_KEY] = _cache


def _answer(function, row, **inputs):
    """Return the importer's answer for these inputs (keyed like the importer: by parameter name order)."""
    values = [inputs[name] for name in sorted(inputs) if inputs[name] is not None]
    key = json.dumps(["" if v == EMPTY else str(v) for v in values], ensure_ascii=False)
    return _cache.answers.get(function, {}).get(str(int(float(row))), {}).get(key)


def _literal(value):
    if value is None:
        return None
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")


@udf(fun_id=FN + "enterprise", name=FN + "name", row=FN + "row")  # noqa: F821 - given by morph-kgc
def enterprise(name, row):
    return _answer("enterprise", row, name=name)


@udf(fun_id=FN + "part", name=FN + "name", kind=FN + "kind", value=FN + "value", row=FN + "row")  # noqa: F821
def part(name, kind, value, row):
    return _answer("part", row, name=name, kind=kind, value=value)


@udf(fun_id=FN + "cpv", value=FN + "value", row=FN + "row")  # noqa: F821
def cpv(value, row):
    return _answer("cpv", row, value=value)


@udf(fun_id=FN + "concept", scheme=FN + "scheme", value=FN + "value", row=FN + "row")  # noqa: F821
def concept(scheme, value, row):
    return _answer("concept", row, scheme=scheme, value=value)


@udf(fun_id=FN + "place", value=FN + "value", province=FN + "province", country=FN + "country",  # noqa: F821
     field=FN + "field", row=FN + "row")
def place(value, field, row, province=None, country=None):
    answer = _answer("place", row, value=value, province=province, country=country, field=field)
    return _literal(answer) if field == "label" else answer


@udf(fun_id=FN + "vat", value=FN + "value", field=FN + "field", row=FN + "row")  # noqa: F821
def vat(value, field, row):
    answer = _answer("vat", row, value=value, field=field)
    return _literal(answer) if field == "notation" else answer


@udf(fun_id=FN + "fiscal_code", value=FN + "value", row=FN + "row")  # noqa: F821
def fiscal_code(value, row):
    return _literal(_answer("fiscal_code", row, value=value))


@udf(fun_id=FN + "year", value=FN + "value", row=FN + "row")  # noqa: F821
def year(value, row):
    return _literal(_answer("year", row, value=value))


@udf(fun_id=FN + "website", value=FN + "value", row=FN + "row")  # noqa: F821
def website(value, row):
    return _answer("website", row, value=value)


@udf(fun_id=FN + "email", value=FN + "value", row=FN + "row")  # noqa: F821
def email(value, row):
    return _literal(_answer("email", row, value=value))
