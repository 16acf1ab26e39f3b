"""Build the readable documentation of the ontology, the shapes and any named graph."""

from __future__ import annotations

from rdflib import Literal, URIRef
from rdflib.namespace import OWL, PROV, RDFS, SKOS

from .namespaces import GRAPH, SEKG
from .pages import local_name, web_link

KIND_KEYS = {OWL.Class: "classes", OWL.ObjectProperty: "object_properties", OWL.DatatypeProperty: "object_properties"}


def _pick(values: list, language: str) -> str:
    literals = [v for v in values if isinstance(v, Literal)]
    for wanted in (language, None, "en"):
        for literal in literals:
            if literal.language == wanted:
                return str(literal)
    return str(literals[0]) if literals else ""


def _curie(iri: str) -> str:
    from .namespaces import PREFIXES

    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


def ontology_terms(svc, graph_iri: str, language: str, uris) -> dict:
    terms: dict[URIRef, dict] = {}
    for row in svc.store.select(svc.queries["list_ontology_terms"].text, {"g": URIRef(graph_iri)}):
        term = terms.setdefault(row["term"], {"iri": str(row["term"]), "curie": _curie(str(row["term"])),
                                              "anchor": local_name(str(row["term"])), "kind": row["kind"],
                                              "labels": [], "definitions": [], "domain": set(), "range": set(),
                                              "super": set(), "match": set()})
        for key, field in (("label", "labels"), ("definition", "definitions")):
            if key in row and row[key] not in term[field]:
                term[field].append(row[key])
        for key in ("domain", "range", "super", "match"):
            if key in row:
                term[key].add(str(row[key]))
    groups: dict[str, list] = {}
    for term in sorted(terms.values(), key=lambda t: t["curie"]):
        term["label"] = _pick(term["labels"], language) or term["anchor"]
        term["definition"] = _pick(term["definitions"], language)
        for key in ("domain", "range", "super", "match"):
            term[key] = [{"curie": _curie(v), "href": uris.page(v)} for v in sorted(term[key])]
        groups.setdefault(KIND_KEYS[term["kind"]], []).append(term)
    schemes = []
    for row in svc.store.select(svc.queries["list_concept_schemes"].text, union=True):
        schemes.append({"iri": str(row["scheme"]), "href": uris.page(str(row["scheme"])),
                        "title": str(row.get("title", "")) or _curie(str(row["scheme"])),
                        "concepts": int(row["concepts"])})
    return {"groups": groups, "schemes": schemes}


def shape_list(svc, graph_iri: str, language: str) -> list[dict]:
    shapes: dict[URIRef, dict] = {}
    for row in svc.store.select(svc.queries["list_shapes"].text, {"g": URIRef(graph_iri)}):
        shape = shapes.setdefault(row["shape"], {"iri": str(row["shape"]), "anchor": local_name(str(row["shape"])),
                                                 "labels": [], "targets": set(), "properties": {}})
        if "label" in row and row["label"] not in shape["labels"]:
            shape["labels"].append(row["label"])
        if "target" in row:
            shape["targets"].add(_curie(str(row["target"])))
        if "property" in row:
            prop = shape["properties"].setdefault(row["property"], {"name": local_name(str(row["property"])),
                                                                    "path": "", "severity": "Violation",
                                                                    "messages": []})
            if "path" in row:
                prop["path"] = _curie(str(row["path"]))
            if "severity" in row:
                prop["severity"] = local_name(str(row["severity"]))
            if "message" in row and row["message"] not in prop["messages"]:
                prop["messages"].append(row["message"])
    out = []
    for shape in sorted(shapes.values(), key=lambda s: s["anchor"]):
        if not shape["properties"] and not shape["targets"]:
            continue
        shape["label"] = _pick(shape["labels"], language) or shape["anchor"]
        shape["targets"] = sorted(shape["targets"])
        shape["properties"] = sorted(({**p, "message": _pick(p["messages"], language)}
                                      for p in shape["properties"].values()), key=lambda p: p["name"])
        out.append(shape)
    return out


def graph_summary(svc, graph_iri: str, language: str, uris) -> dict:
    triples = 0
    provenance: dict[URIRef, list] = {}
    for row in svc.store.select(svc.queries["graph_summary"].text, {"g": URIRef(graph_iri)}):
        triples = int(row["triples"])
        if "p" in row:
            provenance.setdefault(row["p"], []).append(row["o"])
    iris = [row["s"] for row in svc.store.select(svc.queries["graph_subjects"].text, {"g": URIRef(graph_iri)})]
    labels: dict = {}
    if iris:
        for row in svc.store.select(svc.queries["labels_of"].text, {"x": iris}, union=True):
            labels.setdefault(row["x"], []).append(row["label"])
    subjects = sorted(({"href": uris.page(str(iri)), "iri": str(iri),
                        "label": _pick(labels.get(iri, []), language) or local_name(str(iri))} for iri in iris),
                      key=lambda item: item["label"].lower())
    return {
        "triples": triples,
        "label": _pick(provenance.get(RDFS.label, []) + provenance.get(SKOS.prefLabel, []), language),
        "derived": [{"text": str(o), "href": web_link(str(o))} for o in provenance.get(PROV.wasDerivedFrom, [])],
        "confidence": [{"href": uris.page(str(o)), "iri": str(o)} for o in provenance.get(SEKG.confidence, [])],
        "retrieved": [str(o) for o in provenance.get(SEKG.retrievedOn, [])],
        "subjects": subjects,
    }


def graph_page(svc, graph_iri: str, language: str, uris) -> dict:
    """Return what the documentation page of a graph shows."""
    page = {"graph_iri": graph_iri, "kind": "graph"}
    if graph_iri == str(GRAPH["ontology"]):
        page.update(kind="ontology", **ontology_terms(svc, graph_iri, language, uris))
    elif graph_iri == str(GRAPH["shapes"]):
        page.update(kind="shapes", shapes=shape_list(svc, graph_iri, language))
    else:
        page.update(summary=graph_summary(svc, graph_iri, language, uris))
    return page
