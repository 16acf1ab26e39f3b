"""Choose a response media type from an Accept header, honouring q-values, wildcards and q=0."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import NotAcceptableError


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float
    params: tuple[tuple[str, str], ...]

    def specificity(self, media_type: str) -> int | None:
        """Return how specifically this range matches a media type (3 exact ... 1 */*), or None."""
        main, _, sub = media_type.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 1
        if self.type == main and self.subtype == "*":
            return 2
        if self.type == main and self.subtype == sub:
            return 3 + len(self.params)
        return None


def parse_accept(header: str | None) -> list[MediaRange]:
    """Parse an Accept header into media ranges; unparseable pieces are skipped, as RFC 9110 allows."""
    if header is None or not header.strip():
        return [MediaRange("*", "*", 1.0, ())]
    ranges = []
    for piece in header.split(","):
        piece = piece.strip()
        if not piece:
            continue
        name, *raw_params = [p.strip() for p in piece.split(";")]
        if "/" not in name:
            if name == "*":
                name = "*/*"
            else:
                continue
        main, _, sub = name.lower().partition("/")
        if not main or not sub or (main == "*" and sub != "*"):
            continue
        q = 1.0
        params = []
        for raw in raw_params:
            key, _, value = raw.partition("=")
            key = key.strip().lower()
            value = value.strip().strip('"')
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
                q = min(max(q, 0.0), 1.0)
            elif key:
                params.append((key, value))
        ranges.append(MediaRange(main, sub, q, tuple(params)))
    return ranges


def _match(ranges: list[MediaRange], media_type: str) -> tuple[int, float]:
    """Return (specificity, q) of the most specific range matching a media type; (0, 0) if none."""
    best_specificity = 0
    best_q = 0.0
    for media_range in ranges:
        specificity = media_range.specificity(media_type)
        if specificity is not None and specificity > best_specificity:
            best_specificity, best_q = specificity, media_range.q
    return best_specificity, best_q


def quality(ranges: list[MediaRange], media_type: str) -> float:
    """Return the q-value the client gives a media type: that of the most specific matching range."""
    return _match(ranges, media_type)[1]


def offer_quality(ranges: list[MediaRange], offer) -> float:
    """Return the q-value of an offer known by several names: the most specifically matched name decides."""
    return max(_match(ranges, name) for name in _names(offer))[1]


def negotiate(accept: str | None, offers):
    """Return the offer the client prefers, ties going to the earlier offer; raise 406 if none fits.

    `offers` are objects with a `media_type` (and optional `aliases`) attribute, or plain strings.
    """
    ranges = parse_accept(accept)
    best = None
    best_q = 0.0
    for offer in offers:
        q = offer_quality(ranges, offer)
        if q > best_q:
            best, best_q = offer, q
    if best is None:
        offered = ", ".join(_names(offer)[0] for offer in offers)
        raise NotAcceptableError(f"none of the acceptable media types can be produced; offered: {offered}",
                                 detail={"offered": [_names(o)[0] for o in offers]})
    return best


def prefers_html(accept: str | None, rdf_offers) -> bool:
    """Tell whether a client (a browser) prefers HTML over every RDF offer."""
    ranges = parse_accept(accept)
    html = max(quality(ranges, "text/html"), quality(ranges, "application/xhtml+xml"))
    if html <= 0:
        return False
    explicit_html = any(r.type in {"text", "application"} and r.subtype in {"html", "xhtml+xml"} for r in ranges)
    best_rdf = max(offer_quality(ranges, o) for o in rdf_offers)
    return explicit_html and html >= best_rdf


def _names(offer) -> tuple[str, ...]:
    if isinstance(offer, str):
        return (offer,)
    return (offer.media_type, *getattr(offer, "aliases", ()))
