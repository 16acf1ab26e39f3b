"""Describe a resource in schema.org JSON-LD, for search engines reading its HTML page."""

from __future__ import annotations

from rdflib import Literal
from rdflib.namespace import DCTERMS, FOAF, SKOS

from .namespaces import CV, EURIO, LEGAL, LOCN, ORG, SCHEMA, SEKG

ORGANISATION_TYPES = {ORG.Organization, ORG.FormalOrganization, SEKG.SocialEconomyEnterprise, LEGAL.LegalEntity}


def _text(values, language: str) -> str | None:
    literals = [v for v in values if isinstance(v, Literal)]
    for wanted in (language, None, "en", "it"):
        for literal in literals:
            if literal.language == wanted:
                return str(literal)
    return str(literals[0]) if literals else None


def schema_org(description, language: str) -> dict:
    """Map the description's main facts to schema.org terms."""
    types = set(description.types())
    name = _text(description.values(SKOS.prefLabel), language)
    data = {"@context": "https://schema.org", "@id": str(description.iri)}
    if types & ORGANISATION_TYPES:
        data["@type"] = "Organization"
        legal_name = _text(description.values(LEGAL.legalName), language)
        if legal_name:
            data["legalName"] = legal_name
        homepage = description.values(FOAF.homepage)
        if homepage:
            data["url"] = str(homepage[0])
        founded = description.values(SCHEMA.foundingDate)
        if founded:
            data["foundingDate"] = str(founded[0])
        for address in description.values(CV.registeredAddress):
            place = _address(description, address, language)
            if place:
                data["address"] = place
    elif EURIO.Project in types:
        data["@type"] = "Project"
    elif types & {SCHEMA.Event, SCHEMA.EventSeries}:
        data["@type"] = "EventSeries" if SCHEMA.EventSeries in types else "Event"
        for key, predicate in (("startDate", SCHEMA.startDate), ("endDate", SCHEMA.endDate)):
            values = description.values(predicate)
            if values:
                data[key] = str(values[0])
        organisers = [{"@id": str(o), "name": description.label(o, language)} for o in description.values(SCHEMA.organizer)]
        if organisers:
            data["organizer"] = organisers
    elif SKOS.Concept in types:
        data["@type"] = "DefinedTerm"
        notation = description.values(SKOS.notation)
        if notation:
            data["termCode"] = str(notation[0])
    else:
        data["@type"] = "Thing"
    if name:
        data["name"] = name
    summary = _text(description.values(DCTERMS.description), language)
    if summary:
        data["description"] = summary
    return data


def _address(description, address, language: str) -> dict | None:
    statements = description.parts.get(address, {})
    place = {"@type": "PostalAddress"}
    for (p, o) in statements:
        if p == LOCN.postName:
            place["addressLocality"] = str(o)
        elif p == LOCN.postCode:
            place["postalCode"] = str(o)
        elif p == LOCN.thoroughfare:
            place["streetAddress"] = str(o)
        elif p == SEKG.municipality and "addressLocality" not in place:
            label = description.label(o, language)
            if label:
                place["addressLocality"] = label
    return place if len(place) > 1 else None

