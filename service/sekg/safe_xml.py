"""Refuse XML that declares a DTD or entities before any RDF/XML parser expands them."""

from __future__ import annotations

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from xml.etree.ElementTree import ParseError

from .errors import DataSyntaxError


def check_xml(data: bytes, what: str = "the RDF/XML data") -> None:
    """Raise DataSyntaxError for a DTD, entity declaration or external reference, or malformed XML."""
    try:
        fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise DataSyntaxError(f"{what} declares a DTD or XML entities, which this server does not accept "
                              f"({type(exc).__name__})") from None
    except ParseError as exc:
        raise DataSyntaxError(f"{what} is not well-formed XML: {exc}") from None
