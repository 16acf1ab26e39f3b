"""Read the W3C SPARQL Protocol and Graph Store Protocol manifests and replay them over HTTP."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
from rdflib import Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")

STATUS = {"OK": {200}, "Created": {201}, "NoContent": {204}, "NotFound": {404},
          "StatusCode2xx": set(range(200, 300)), "StatusCode3xx": set(range(300, 400)),
          "StatusCode4xx": set(range(400, 500))}
RDF_TYPES = {"text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "xml",
             "application/ld+json": "json-ld"}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    expected_status: set[int]
    expected_boolean: bool | None = None
    expected_format: str | None = None
    expected_headers: dict[str, str] = field(default_factory=dict)
    expected_body: str | None = None
    expected_location: str | None = None


@dataclass
class ProtocolTest:
    name: str
    iri: str
    requests: list[Request]
    graph_data: list[tuple[Path, str]]


def _list(graph: Graph, head) -> list:
    return list(Collection(graph, head)) if head is not None else []


def _headers(graph: Graph, node) -> dict[str, str]:
    return {str(graph.value(h, HT.fieldName)).lower(): str(graph.value(h, HT.fieldValue))
            for h in _list(graph, graph.value(node, HT.headers))}


def _body(graph: Graph, node) -> tuple[str | None, str]:
    body = graph.value(node, HT.body)
    if body is None:
        return None, "UTF-8"
    return str(graph.value(body, CNT.chars)), str(graph.value(body, CNT.characterEncoding) or "UTF-8")


def read_manifest(path: Path) -> list[ProtocolTest]:
    """Return the tests a manifest lists (following mf:include), in order."""
    graph = Graph()
    graph.parse(path, format="turtle", publicID=path.resolve().as_uri())
    manifest = next(graph.subjects(RDF.type, MF.Manifest))
    tests = []
    for include in _list(graph, graph.value(manifest, MF.include)):
        tests += read_manifest(Path(str(include).replace("file://", "")))
    for entry in _list(graph, graph.value(manifest, MF.entries)):
        action = graph.value(entry, MF.action)
        reqs = []
        for node in _list(graph, graph.value(action, HT.requests)):
            chars, encoding = _body(graph, node)
            resp = graph.value(node, HT.resp)
            statuses = set()
            for status in graph.objects(resp, MF.expectedStatus):
                statuses |= STATUS[str(status).rsplit("#", 1)[1]]
            boolean = graph.value(resp, MF.expectedBoolean)
            fmt = graph.value(resp, MF.expectedFormat)
            location = graph.value(resp, MF.expectedLocation)
            resp_body, _ = _body(graph, resp)
            reqs.append(Request(
                method=str(graph.value(node, HT.methodName)),
                path=str(graph.value(node, HT.absolutePath)),
                headers=_headers(graph, node),
                body=chars.encode(encoding.lower()) if chars is not None else None,
                expected_status=statuses,
                expected_boolean=None if boolean is None else boolean.toPython(),
                expected_format=str(fmt) if fmt else None,
                expected_headers=_headers(graph, resp),
                expected_body=resp_body,
                expected_location=str(location) if location else None,
            ))
        data = []
        for graph_data in graph.objects(entry, UT.graphData):
            file = graph.value(graph_data, UT.graph)
            data.append((Path(str(file).replace("file://", "")), str(graph.value(graph_data, RDFS.label))))
        tests.append(ProtocolTest(str(graph.value(entry, MF.name)), str(entry), reqs, data))
    return tests


def is_update(request: Request) -> bool:
    query = parse_qs(urlsplit(request.path).query)
    content_type = request.headers.get("content-type", "")
    body = (request.body or b"").decode("utf-8", "replace")
    return ("update" in query or "application/sparql-update" in content_type
            or bool(re.match(r"^update=", body)) or "using-graph-uri" in query or "using-named-graph-uri" in query)


def route(request: Request, base: str) -> str:
    """Map the manifest's /sparql/ and /gsp paths to this server's endpoints."""
    path = request.path
    if path.startswith("/sparql/"):
        endpoint = "/update" if is_update(request) else "/sparql"
        return base + endpoint + path[len("/sparql/"):]
    if path.startswith("/gsp"):
        return base + "/store" + path[len("/gsp"):]
    raise ValueError(f"unexpected path {path}")


def check_response(request: Request, response: requests.Response) -> list[str]:
    """Return what differs from the manifest's expectations (an empty list when the test passes)."""
    problems = []
    if response.status_code not in request.expected_status:
        problems.append(f"status {response.status_code} not in {sorted(request.expected_status)}: {response.text[:300]}")
        return problems
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    if request.expected_format == "boolean":
        if media_type not in {"application/sparql-results+json", "application/sparql-results+xml"}:
            problems.append(f"boolean answer in {media_type}")
    elif request.expected_format == "tabular":
        if media_type not in {"application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                              "text/tab-separated-values"}:
            problems.append(f"tabular answer in {media_type}")
    elif request.expected_format == "RDF":
        if media_type not in RDF_TYPES:
            problems.append(f"RDF answer in {media_type}")
        else:
            Graph().parse(data=response.text, format=RDF_TYPES[media_type])
    if request.expected_boolean is not None:
        if media_type.endswith("json"):
            value = json.loads(response.text)["boolean"]
        else:
            value = "<boolean>true</boolean>" in response.text
        if value is not request.expected_boolean:
            problems.append(f"boolean {value}, expected {request.expected_boolean}")
    for name, value in request.expected_headers.items():
        got = response.headers.get(name, "")
        if name == "content-type":
            if got.split(";")[0].strip() != value.split(";")[0].strip():
                problems.append(f"{name}: {got!r}, expected {value!r}")
        elif got != value:
            problems.append(f"{name}: {got!r}, expected {value!r}")
    if request.expected_body is not None and request.method != "HEAD":
        expected = Graph().parse(data=request.expected_body, format="turtle")
        got = Graph().parse(data=response.text, format=RDF_TYPES.get(media_type, "turtle"))
        if not isomorphic(expected, got):
            problems.append(f"body differs:\n{response.text}")
    return problems


def run_test(test: ProtocolTest, base: str, token: str) -> list[str]:
    """Replay one test against a live server; return the problems found."""
    auth = {"Authorization": f"Bearer {token}"}
    for path, graph in test.graph_data:
        put = requests.put(f"{base}/store", params={"graph": graph}, data=path.read_bytes(),
                           headers={**auth, "Content-Type": "application/n-triples"}, timeout=60)
        if put.status_code not in (201, 204):
            return [f"loading {path.name} into <{graph}> failed: {put.status_code} {put.text}"]
    variables: dict[str, str] = {}
    problems = []
    for request in test.requests:
        url = route(request, base)
        body = request.body
        for name, value in variables.items():
            url = url.replace(name, value)
            body = body.replace(name.encode(), value.encode()) if body else body
        headers = {**request.headers, **auth}
        response = requests.request(request.method, url, data=body, headers=headers, timeout=60,
                                    allow_redirects=False)
        found = check_response(request, response)
        if found:
            problems += [f"{request.method} {request.path}: {p}" for p in found]
            break
        if request.expected_location:
            variables[request.expected_location] = response.headers["Location"]
    return problems
