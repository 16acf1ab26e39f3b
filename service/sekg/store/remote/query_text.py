"""Read and reshape query text for an external engine: dataset clauses, BASE, DESCRIBE targets, update graphs.

Only the request's own tokens are moved or dropped; the only text added is keywords, IRIs written
by pyoxigraph, fresh variable names and the numbers of a page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from ...errors import QuerySyntaxError
from ...sparql_text import Token, lex, read_prologue, tokenize, unescape_codepoints


def check_query(text: str, base_iri: str | None = None) -> None:
    """Parse a query as the embedded store would, so a malformed one gets the same 400 and message.

    The query is evaluated lazily on an empty store: parsing is all that happens for a SELECT,
    CONSTRUCT or DESCRIBE, and an ASK has no data to look at.
    """
    try:
        result = ox.Store().query(text, base_iri=base_iri)
    except SyntaxError as exc:
        raise QuerySyntaxError(str(exc)) from None
    except Exception:  # noqa: BLE001 - evaluation on an empty store may fail (SERVICE, an unknown function)
        return  # that says nothing of the syntax
    del result


def with_prelude(text: str, prelude: str, base_iri: str | None) -> str:
    """Put pragmas and the request's base IRI before the query (a BASE of the query's own still wins)."""
    head = [prelude] if prelude else []
    if base_iri:
        head.append(f"BASE {ox.NamedNode(base_iri)}")
    return "\n".join([*head, text])


def _dataset_tokens(tokens: list[Token]) -> list[tuple[int, bool]]:
    """Return (index of FROM, is FROM NAMED) for each dataset clause."""
    found = []
    for i, token in enumerate(tokens):
        if token.keyword == "FROM":
            found.append((i, i + 1 < len(tokens) and tokens[i + 1].keyword == "NAMED"))
    return found


def dataset_clauses(text: str) -> tuple[list[str], list[str]]:
    """Return the IRIs of a query's FROM and FROM NAMED clauses."""
    tokens = lex(text)
    prologue = read_prologue(tokens)
    default, named = [], []
    for i, is_named in _dataset_tokens(tokens):
        j = i + 2 if is_named else i + 1
        iri = prologue.resolve(tokens[j]) if j < len(tokens) else None
        if iri is None:
            raise QuerySyntaxError("FROM needs a graph IRI")
        (named if is_named else default).append(iri)
    return default, named


def strip_dataset_clauses(text: str) -> str:
    """Drop a query's FROM clauses: the client's protocol graphs replace them (Virtuoso would merge them)."""
    text = unescape_codepoints(text)
    tokens = tokenize(text)
    spans = []
    for i, is_named in _dataset_tokens(tokens):
        last = tokens[i + 2 if is_named else i + 1]
        spans.append((tokens[i].start, last.start + len(last.text)))
    for start, end in reversed(spans):
        text = text[:start] + " " + text[end:]
    return text


def append_page(text: str, limit: int, offset: int) -> str:
    """Read one page of a query that has no LIMIT or OFFSET of its own."""
    return f"{text}\nLIMIT {int(limit)} OFFSET {int(offset)}"


def page_of_select(text: str, variables: list[str], limit: int, offset: int) -> str:
    """Wrap a SELECT so that one page of its solutions, in a stable order, comes back.

    The order is by every projected variable, in a sub-query, and the page is cut outside it:
    Virtuoso refuses ORDER BY with an OFFSET past its MaxSortedTopRows otherwise (its
    documented "scrollable cursor" form).
    """
    tokens = tokenize(text)
    form = next((i for i, t in enumerate(tokens) if t.keyword == "SELECT"), None)
    if form is None:
        raise QuerySyntaxError("only a SELECT query can be read in pages")
    order = " ".join(f"?{name}" for name in variables)
    head, body = text[:tokens[form].start], text[tokens[form].start:]
    # the new lines keep a comment at the end of the query from swallowing the closing braces
    return (f"{head}SELECT * WHERE {{ {{ SELECT * WHERE {{ {{\n{body}\n}} }} ORDER BY {order} }} }}\n"
            f"LIMIT {int(limit)} OFFSET {int(offset)}")


@dataclass
class DescribeParts:
    """A DESCRIBE query taken apart: the IRIs it names and a SELECT for the resources its variables find."""

    iris: list[str] = field(default_factory=list)
    select: str | None = None  # SELECT DISTINCT of the described variables, or None without a WHERE clause
    default: list[str] = field(default_factory=list)  # its FROM graphs
    named: list[str] = field(default_factory=list)  # its FROM NAMED graphs


def describe_parts(text: str, base_iri: str | None = None) -> DescribeParts:
    """Split a DESCRIBE query into named IRIs and a SELECT that finds the described resources."""
    text = unescape_codepoints(text)
    tokens = tokenize(text)
    prologue = read_prologue(tokens)
    if prologue.base is None:
        prologue.base = base_iri
    start = next(i for i, t in enumerate(tokens) if t.keyword == "DESCRIBE")
    parts = DescribeParts()
    variables, star = [], False
    i = start + 1
    while i < len(tokens):
        token = tokens[i]
        if token.kind == "var":
            variables.append("?" + token.text[1:])
        elif token.kind in {"iri", "pname"}:
            parts.iris.append(prologue.resolve(token))
        elif token.text == "*":
            star = True
        else:
            break
        i += 1
    rest = text[tokens[i].start:] if i < len(tokens) else ""
    parts.default, parts.named = dataset_clauses(text)
    if any(t.text == "{" for t in tokens[i:]):
        projection = "*" if star or not variables else " ".join(dict.fromkeys(variables))
        parts.select = text[:tokens[start].start] + f"SELECT DISTINCT {projection} " + rest
    return parts


def graphs_mentioned(text: str, base_iri: str | None) -> tuple[set[str], bool]:
    """Return every IRI an update names (graphs among them), and whether it names a graph by a variable."""
    tokens = lex(text)
    prologue = read_prologue(tokens)
    if prologue.base is None:
        prologue.base = base_iri
    iris, variable = set(), False
    for i, token in enumerate(tokens):
        if token.kind in {"iri", "pname"}:
            try:
                iris.add(prologue.resolve(token))
            except QuerySyntaxError:
                continue
        elif token.keyword == "GRAPH" and i + 1 < len(tokens) and tokens[i + 1].kind == "var":
            variable = True
    return iris, variable


def fill_empty_graph_patterns(text: str) -> str:
    """Rewrite `GRAPH ?g { }` and `GRAPH <g> { }` into patterns that match a graph by its triples.

    Virtuoso answers an empty graph pattern with one unbound row, whatever graphs exist. The
    rewrite asks for the graphs that hold a triple instead (Virtuoso has no empty graphs), each once.
    """
    tokens = tokenize(text)
    edits = []
    for i in range(len(tokens) - 3):
        graph, name, opening, closing = tokens[i:i + 4]
        if graph.keyword != "GRAPH" or opening.text != "{" or closing.text != "}":
            continue
        n = len(edits)
        triple = f"?sekg_s{n} ?sekg_p{n} ?sekg_o{n}"
        if name.kind == "var":
            replacement = f"{{ SELECT {name.text} WHERE {{ GRAPH {name.text} {{ {triple} }} }} GROUP BY {name.text} }}"
        elif name.kind in {"iri", "pname"}:
            # FILTER EXISTS would be the natural rewrite, but Virtuoso holds it true in an otherwise empty
            # group; the sub-query's unbound variable shows up, empty, in a SELECT * header
            replacement = f"{{ SELECT ?sekg_graph{n} WHERE {{ GRAPH {name.text} {{ {triple} }} }} LIMIT 1 }}"
        else:
            continue
        edits.append((graph.start, closing.start + 1, replacement))
    for start, end, replacement in reversed(edits):
        text = text[:start] + replacement + text[end:]
    return text


def graph_constants(text: str) -> set[str]:
    """Return the graph IRIs a query names in GRAPH patterns."""
    tokens = lex(text)
    prologue = read_prologue(tokens)
    found = set()
    for i, token in enumerate(tokens[:-1]):
        if token.keyword == "GRAPH" and tokens[i + 1].kind in {"iri", "pname"}:
            try:
                found.add(prologue.resolve(tokens[i + 1]))
            except QuerySyntaxError:
                continue
    return found


def insert_dataset_clauses(text: str, default: list[str], named: list[str]) -> str:
    """Write FROM and FROM NAMED clauses where a query's dataset goes: just before its WHERE clause."""
    clauses = " ".join([f"FROM {ox.NamedNode(g)}" for g in default] + [f"FROM NAMED {ox.NamedNode(g)}" for g in named])
    tokens = tokenize(text)
    form = next((i for i, t in enumerate(tokens) if t.keyword in {"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"}), None)
    if form is None:
        raise QuerySyntaxError("the query has no SELECT, CONSTRUCT, DESCRIBE or ASK")
    i, parens = form + 1, 0
    if tokens[form].keyword == "CONSTRUCT" and i < len(tokens) and tokens[i].text == "{":
        depth = 0
        while i < len(tokens):  # skip the template
            depth += {"{": 1, "}": -1}.get(tokens[i].text, 0)
            i += 1
            if depth == 0:
                break
    while i < len(tokens):
        token = tokens[i]
        parens += {"(": 1, ")": -1}.get(token.text, 0)
        if parens == 0 and (token.keyword == "WHERE" or token.text == "{"):
            return text[:token.start] + clauses + " " + text[token.start:]
        i += 1
    return text + " " + clauses
