"""Describe the graph for data portals: a DCAT-AP 3 catalogue (and its DCAT-AP_IT view) made from the store.

Datasets: the whole graph (with the dumps and the SPARQL service as distributions) and every named
graph (with its Graph Store URL as distribution). Everything a harvester needs to check the
catalogue is typed in it (licences, formats, places, agents), so validators need no background.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, PROV, RDF, RDFS, SKOS, XSD

from .namespaces import AUTHORITY, DCATAP, DCATAPIT, HYDRA, SEKG, SPDX, VCARD, bind_prefixes

PAGE_SIZE = 50
THEMES = (AUTHORITY["data-theme/ECON"], AUTHORITY["data-theme/SOCI"])
LANGUAGES = (AUTHORITY["language/ITA"], AUTHORITY["language/ENG"])
FREQUENCY = AUTHORITY["frequency/IRREG"]
AVAILABILITY = URIRef("http://data.europa.eu/r5r/stable")
PUBLISHER_TYPE = URIRef("http://purl.org/adms/publishertype/NonProfitOrganisation")
LICENCE_TYPE = URIRef("http://purl.org/adms/licencetype/Attribution")
SPARQL11 = URIRef("https://www.w3.org/TR/sparql11-protocol/")


@dataclass
class GraphFacts:
    iri: str
    triples: int = 0
    provenance: dict | None = None
    countries: set | None = None
    start: str | None = None
    end: str | None = None


def _date(text: str | None):
    """Type an ISO date of any precision as the matching XSD literal."""
    if not text:
        return None
    if len(text) == 4:
        return Literal(text, datatype=XSD.gYear)
    if len(text) == 7:
        return Literal(text, datatype=XSD.gYearMonth)
    return Literal(text[:10], datatype=XSD.date)


def gather(svc) -> dict[str, GraphFacts]:
    """Read what the catalogue says about every named graph from the store."""
    queries = svc.queries
    facts: dict[str, GraphFacts] = {}
    for row in svc.store.select(queries["catalog_graphs"].text):
        facts[str(row["g"])] = GraphFacts(str(row["g"]), triples=int(row["triples"]), provenance={}, countries=set())
    for row in svc.store.select(queries["catalog_provenance"].text):
        if str(row["g"]) in facts:
            facts[str(row["g"])].provenance.setdefault(row["p"], []).append(row["o"])
    for row in svc.store.select(queries["catalog_spatial"].text):
        if str(row["g"]) in facts:
            facts[str(row["g"])].countries.add(row["country"])
    for row in svc.store.select(queries["catalog_temporal"].text):
        if str(row["g"]) in facts:
            facts[str(row["g"])].start, facts[str(row["g"])].end = str(row["start"]), str(row["end"])
    return facts


class CatalogBuilder:
    """Build the DCAT-AP 3 catalogue graph for one request (public URLs) and one page of datasets."""

    def __init__(self, svc, public_url: str, dumps_manifest: dict | None):
        self.svc = svc
        self.settings = svc.settings
        self.base = svc.settings.base_iri
        self.public = public_url.rstrip("/")
        self.manifest = dumps_manifest
        self.graph = bind_prefixes(Graph())
        self.catalog = URIRef(self.base + "catalog")
        self.publisher = URIRef(self.base + "id/agent/publisher")
        self.contact = URIRef(self.base + "id/agent/contact")
        self.licence = AUTHORITY["licence/" + self.settings.SEKG_LICENCE]
        self.service = URIRef(self.base + "id/service/sparql")
        self.whole = URIRef(self.base + "id/dataset/sekg")
        self.modified = svc.store.modified or datetime.now(timezone.utc)

    def add(self, *triple):
        self.graph.add(triple)

    def text(self, node, predicate, en: str, it: str):
        self.add(node, predicate, Literal(en, lang="en"))
        self.add(node, predicate, Literal(it, lang="it"))

    def build(self, page: int = 1) -> Graph:
        facts = gather(self.svc)
        names = sorted(facts)
        pages = max(1, -(-len(names) // PAGE_SIZE))
        page = min(max(page, 1), pages)
        self._catalog()
        self._agents()
        self._licence()
        self._service()
        self._whole_dataset(facts)
        for name in names[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]:
            self._graph_dataset(facts[name])
        if pages > 1:
            self._paging(page, pages, len(names))
        self._labels()
        return self.graph

    def _labels(self):
        """Label the code-list concepts the catalogue uses, from the vocabularies in the store."""
        concepts = {o for o in self.graph.objects() if isinstance(o, URIRef) and str(o).startswith(str(AUTHORITY))}
        if concepts:
            for row in self.svc.store.select(self.svc.queries["labels_of"].text, {"x": sorted(concepts)}, union=True):
                if row["label"].language in ("en", "it", None):
                    self.add(row["x"], SKOS.prefLabel, row["label"])
        for concept, label in ((AVAILABILITY, "stable"), (PUBLISHER_TYPE, "Non-Profit Organisation"),
                               (LICENCE_TYPE, "Attribution")):
            self.add(concept, SKOS.prefLabel, Literal(label, lang="en"))

    # --- pieces ---------------------------------------------------------------------------
    def _catalog(self):
        c = self.catalog
        self.add(c, RDF.type, DCAT.Catalog)
        self.text(c, DCTERMS.title, "Social Economy Knowledge Graph", "Knowledge Graph dell'economia sociale")
        self.text(c, DCTERMS.description,
                  "Linked Open Data on social-economy enterprises, the projects that help them win contracts, "
                  "their partners, and the programmes and calls that fund them; each fact with its source.",
                  "Linked Open Data sulle imprese dell'economia sociale, i progetti che le aiutano ad accedere "
                  "agli appalti, i loro partner e i programmi e bandi che li finanziano; ogni fatto con la sua fonte.")
        self.add(c, DCTERMS.publisher, self.publisher)
        self.add(c, FOAF.homepage, URIRef(self.public + "/"))
        self.add(self.public_ref("/"), RDF.type, FOAF.Document)
        for language in LANGUAGES:
            self.add(c, DCTERMS.language, language)
            self.add(language, RDF.type, DCTERMS.LinguisticSystem)
        self.add(c, DCTERMS.license, self.licence)
        self.add(c, DCTERMS.issued, Literal("2026-11-25", datatype=XSD.date))
        self.add(c, DCTERMS.modified, Literal(self.modified.date().isoformat(), datatype=XSD.date))
        self.add(c, DCAT.themeTaxonomy, URIRef("http://publications.europa.eu/resource/authority/data-theme"))
        self.add(URIRef("http://publications.europa.eu/resource/authority/data-theme"), RDF.type, SKOS.ConceptScheme)
        self.text(URIRef("http://publications.europa.eu/resource/authority/data-theme"), DCTERMS.title,
                  "Data theme", "Tema dei dati")
        self.add(c, DCTERMS.spatial, AUTHORITY["country/ITA"])
        self.add(c, DCAT.service, self.service)
        self.add(c, DCAT.dataset, self.whole)

    def public_ref(self, path: str) -> URIRef:
        return URIRef(self.public + path)

    def _agents(self):
        p = self.publisher
        for kind in (FOAF.Agent, FOAF.Organization):
            self.add(p, RDF.type, kind)
        self.add(p, FOAF.name, Literal(self.settings.SEKG_PUBLISHER_NAME))
        self.add(p, DCTERMS.identifier, Literal(self.settings.SEKG_PUBLISHER_ID))
        self.add(p, DCTERMS.type, PUBLISHER_TYPE)
        self.add(PUBLISHER_TYPE, RDF.type, SKOS.Concept)
        k = self.contact
        self.add(k, RDF.type, VCARD.Kind)
        self.add(k, RDF.type, VCARD.Organization)
        self.add(k, VCARD.fn, Literal(self.settings.SEKG_PUBLISHER_NAME))
        if self.settings.SEKG_CONTACT_EMAIL:
            self.add(k, VCARD.hasEmail, URIRef("mailto:" + self.settings.SEKG_CONTACT_EMAIL))
        self.add(k, VCARD.hasURL, URIRef(self.public + "/"))

    def _licence(self):
        self.add(self.licence, RDF.type, DCTERMS.LicenseDocument)
        self.add(self.licence, DCTERMS.type, LICENCE_TYPE)
        self.add(LICENCE_TYPE, RDF.type, SKOS.Concept)

    def _common(self, node):
        self.add(node, DCTERMS.publisher, self.publisher)
        self.add(node, DCAT.contactPoint, self.contact)
        for theme in THEMES:
            self.add(node, DCAT.theme, theme)
            self.add(theme, RDF.type, SKOS.Concept)
        self.add(node, DCTERMS.license, self.licence)

    def _service(self):
        s = self.service
        self.add(s, RDF.type, DCAT.DataService)
        self.text(s, DCTERMS.title, "SPARQL endpoint", "Endpoint SPARQL")
        self.text(s, DCTERMS.description,
                  "SPARQL 1.1 query endpoint over the whole graph (the default graph is the union of all graphs).",
                  "Endpoint SPARQL 1.1 su tutto il grafo (il grafo predefinito è l'unione di tutti i grafi).")
        endpoint = self.public_ref("/sparql")
        self.add(s, DCAT.endpointURL, endpoint)
        self.add(s, DCAT.endpointDescription, endpoint)
        self.add(s, DCAT.servesDataset, self.whole)
        self.add(s, DCTERMS.conformsTo, SPARQL11)
        self.add(SPARQL11, RDF.type, DCTERMS.Standard)
        for keyword in ("SPARQL", "Linked Open Data"):
            self.add(s, DCAT.keyword, Literal(keyword, lang="en"))
        self._common(s)

    def _whole_dataset(self, facts):
        d = self.whole
        self.add(d, RDF.type, DCAT.Dataset)
        self.text(d, DCTERMS.title, "Social Economy Knowledge Graph (all graphs)",
                  "Knowledge Graph dell'economia sociale (tutti i grafi)")
        self.text(d, DCTERMS.description,
                  "Every named graph of the knowledge graph: ontology, vocabularies, sourced facts and contributed data.",
                  "Tutti i grafi nominati del knowledge graph: ontologia, vocabolari, fatti con fonte e dati conferiti.")
        self.add(d, DCTERMS.identifier, Literal(f"{self.settings.SEKG_PUBLISHER_ID}:sekg"))
        self.add(d, DCTERMS.modified, Literal(self.modified.date().isoformat(), datatype=XSD.date))
        self.add(d, DCTERMS.accrualPeriodicity, FREQUENCY)
        self.add(FREQUENCY, RDF.type, DCTERMS.Frequency)
        for keyword in ("social economy", "economia sociale", "social procurement", "CPV"):
            self.add(d, DCAT.keyword, Literal(keyword))
        self._common(d)
        countries = set().union(*(f.countries for f in facts.values())) if facts else set()
        self._coverage(d, countries, [f.start for f in facts.values() if f.start],
                       [f.end for f in facts.values() if f.end])
        if self.manifest:
            for name, info in self.manifest["files"].items():
                self._dump_distribution(d, name, info)
        distribution = URIRef(self.base + "id/distribution/sparql")
        self.add(d, DCAT.distribution, distribution)
        self.add(distribution, RDF.type, DCAT.Distribution)
        self.text(distribution, DCTERMS.title, "SPARQL endpoint", "Endpoint SPARQL")
        self.text(distribution, DCTERMS.description, "Query the graph with SPARQL 1.1.",
                  "Interrogare il grafo con SPARQL 1.1.")
        self.add(distribution, DCAT.accessURL, self.public_ref("/sparql"))
        self.add(distribution, DCAT.accessService, self.service)
        self._distribution_common(distribution, "SPARQLQ", "application/sparql-query")

    def _distribution_common(self, distribution, file_type: str, media_type: str):
        fmt = AUTHORITY["file-type/" + file_type]
        self.add(distribution, DCTERMS.format, fmt)
        self.add(fmt, RDF.type, DCTERMS.MediaTypeOrExtent)
        media = URIRef("https://www.iana.org/assignments/media-types/" + media_type)
        self.add(distribution, DCAT.mediaType, media)
        self.add(media, RDF.type, DCTERMS.MediaType)
        self.add(distribution, DCTERMS.license, self.licence)
        self.add(distribution, DCATAP.availability, AVAILABILITY)
        self.add(AVAILABILITY, RDF.type, SKOS.Concept)

    def _dump_distribution(self, dataset, name: str, info: dict):
        distribution = URIRef(self.base + "id/distribution/dump/" + name)
        url = self.public_ref("/dumps/" + name)
        self.add(dataset, DCAT.distribution, distribution)
        self.add(distribution, RDF.type, DCAT.Distribution)
        self.text(distribution, DCTERMS.title, f"Dump {name}", f"Dump {name}")
        count = info.get("quads") or info.get("triples")
        unit_en = "quads, with their named graphs" if "quads" in info else "triples, all graphs merged"
        unit_it = "quadruple, con i grafi nominati" if "quads" in info else "triple, grafi uniti"
        self.text(distribution, DCTERMS.description, f"The whole graph: {count} {unit_en}.",
                  f"L'intero grafo: {count} {unit_it}.")
        self.add(distribution, DCAT.accessURL, url)
        self.add(distribution, DCAT.downloadURL, url)
        self.add(distribution, DCAT.byteSize, Literal(info["bytes"], datatype=XSD.nonNegativeInteger))
        checksum = BNode()
        self.add(distribution, SPDX.checksum, checksum)
        self.add(checksum, RDF.type, SPDX.Checksum)
        self.add(checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256)
        self.add(checksum, SPDX.checksumValue, Literal(info["sha256"], datatype=XSD.hexBinary))
        self.add(distribution, DCTERMS.modified, Literal(self.modified.date().isoformat(), datatype=XSD.date))
        if info.get("compressed"):
            gzip_type = URIRef("https://www.iana.org/assignments/media-types/application/gzip")
            self.add(distribution, DCAT.compressFormat, gzip_type)
            self.add(gzip_type, RDF.type, DCTERMS.MediaType)
        self._distribution_common(distribution, info["file_type"], info["media_type"])

    def _coverage(self, node, countries, starts, ends):
        for country in sorted(countries):
            self.add(node, DCTERMS.spatial, country)
            self.add(country, RDF.type, DCTERMS.Location)
        if starts or ends:
            period = BNode()
            self.add(node, DCTERMS.temporal, period)
            self.add(period, RDF.type, DCTERMS.PeriodOfTime)
            if starts:
                self.add(period, DCAT.startDate, _date(min(starts)))
            if ends:
                self.add(period, DCAT.endDate, _date(max(ends)))

    def _graph_dataset(self, facts: GraphFacts):
        path = facts.iri[len(self.base + "graph/"):] if facts.iri.startswith(self.base + "graph/") else \
            quote(facts.iri, safe="")
        d = URIRef(self.base + "id/dataset/" + path)
        self.add(self.catalog, DCAT.dataset, d)
        self.add(d, RDF.type, DCAT.Dataset)
        self.add(d, DCTERMS.isPartOf, self.whole)
        labels = [o for o in (facts.provenance.get(RDFS.label, []) + facts.provenance.get(SKOS.prefLabel, []))
                  if isinstance(o, Literal)]
        if labels:
            for label in labels:
                self.add(d, DCTERMS.title, label)
        else:
            self.text(d, DCTERMS.title, f"Named graph {path}", f"Grafo nominato {path}")
        sources = facts.provenance.get(PROV.wasDerivedFrom, [])
        origin_en = ("Statements taken from " + ", ".join(str(s) for s in sources)) if sources else \
            "Statements of the named graph " + facts.iri
        origin_it = ("Affermazioni tratte da " + ", ".join(str(s) for s in sources)) if sources else \
            "Affermazioni del grafo nominato " + facts.iri
        self.text(d, DCTERMS.description, f"{origin_en} ({facts.triples} triples).", f"{origin_it} ({facts.triples} triple).")
        self.add(d, DCTERMS.identifier, Literal(f"{self.settings.SEKG_PUBLISHER_ID}:{path}"))
        self.add(d, DCTERMS.modified, Literal(self.modified.date().isoformat(), datatype=XSD.date))
        self.add(d, DCTERMS.accrualPeriodicity, FREQUENCY)
        self.add(FREQUENCY, RDF.type, DCTERMS.Frequency)
        self.add(d, DCAT.keyword, Literal("social economy", lang="en"))
        self.add(d, DCAT.keyword, Literal("economia sociale", lang="it"))
        for source in sources:
            self.add(d, PROV.wasDerivedFrom, source)
        for confidence in facts.provenance.get(SEKG.confidence, []):
            self.add(d, SEKG.confidence, confidence)
        # An imported graph's validation report and quality figures (rows accepted, rejected, ...).
        for predicate in (URIRef("http://www.w3.org/ns/dqv#hasQualityMeasurement"), SEKG.validationReport,
                          RDFS.seeAlso):
            for value in facts.provenance.get(predicate, []):
                self.add(d, predicate, value)
        self._common(d)
        self._coverage(d, facts.countries, [facts.start] if facts.start else [], [facts.end] if facts.end else [])
        distribution = URIRef(self.base + "id/distribution/graph/" + path)
        self.add(d, DCAT.distribution, distribution)
        self.add(distribution, RDF.type, DCAT.Distribution)
        self.text(distribution, DCTERMS.title, "Graph Store download (Turtle)", "Scaricamento dal Graph Store (Turtle)")
        self.text(distribution, DCTERMS.description, "The named graph, from the SPARQL 1.1 Graph Store endpoint.",
                  "Il grafo nominato, dall'endpoint SPARQL 1.1 Graph Store.")
        url = self.public_ref("/store?graph=" + quote(facts.iri, safe=""))
        self.add(distribution, DCAT.accessURL, url)
        self.add(distribution, DCAT.downloadURL, url)
        self.add(distribution, DCTERMS.modified, Literal(self.modified.date().isoformat(), datatype=XSD.date))
        self._distribution_common(distribution, "RDF_TURTLE", "text/turtle")

    def _paging(self, page: int, pages: int, total: int):
        view = self.public_ref(f"/catalog?page={page}")
        self.add(self.catalog, HYDRA.view, view)
        self.add(view, RDF.type, HYDRA.PartialCollectionView)
        self.add(view, HYDRA.first, self.public_ref("/catalog?page=1"))
        self.add(view, HYDRA.last, self.public_ref(f"/catalog?page={pages}"))
        if page > 1:
            self.add(view, HYDRA.previous, self.public_ref(f"/catalog?page={page - 1}"))
        if page < pages:
            self.add(view, HYDRA.next, self.public_ref(f"/catalog?page={page + 1}"))
        self.add(self.catalog, HYDRA.totalItems, Literal(total, datatype=XSD.integer))


def _full_date(literal: Literal, *, end: bool) -> Literal:
    """Widen a year or month to the first (or last) day, as DCAT-AP_IT periods take xsd:date only."""
    text = str(literal)
    if literal.datatype == XSD.gYear:
        text = f"{text}-12-31" if end else f"{text}-01-01"
    elif literal.datatype == XSD.gYearMonth:
        import calendar

        year, month = map(int, text.split("-"))
        text = f"{text}-{calendar.monthrange(year, month)[1]:02d}" if end else f"{text}-01"
    return Literal(text[:10], datatype=XSD.date)


def to_dcatapit(graph: Graph) -> Graph:
    """Return the DCAT-AP_IT view: the same catalogue with the dcatapit: classes and fields added."""
    view = bind_prefixes(Graph())
    for triple in graph:
        view.add(triple)
    mapping = {DCAT.Catalog: DCATAPIT.Catalog, DCAT.Dataset: DCATAPIT.Dataset, DCAT.Distribution: DCATAPIT.Distribution,
               FOAF.Agent: DCATAPIT.Agent, DCTERMS.LicenseDocument: DCATAPIT.LicenseDocument,
               VCARD.Organization: DCATAPIT.Organization, DCTERMS.PeriodOfTime: DCTERMS.PeriodOfTime,
               DCTERMS.Standard: DCATAPIT.Standard}
    for dcat_class, it_class in mapping.items():
        for node in list(graph.subjects(RDF.type, dcat_class)):
            view.add((node, RDF.type, it_class))
    for dataset in list(graph.subjects(RDF.type, DCAT.Dataset)):
        for publisher in list(graph.objects(dataset, DCTERMS.publisher)):
            view.add((dataset, DCTERMS.rightsHolder, publisher))
    for period in list(graph.subjects(RDF.type, DCTERMS.PeriodOfTime)):
        for source, target, end in ((DCAT.startDate, DCATAPIT.startDate, False), (DCAT.endDate, DCATAPIT.endDate, True)):
            for value in list(graph.objects(period, source)):
                view.add((period, target, _full_date(value, end=end)))
    for standard in list(graph.subjects(RDF.type, DCTERMS.Standard)):
        view.add((standard, DCTERMS.identifier, Literal(str(standard))))
    return view
