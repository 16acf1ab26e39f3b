"""Read SPARQL text the way the engine will: tokens, federated SERVICE calls, update targets.

This is a lexer, not a parser: it finds what the service must check before the engine sees a
request (SERVICE endpoints, LOAD, the graphs an update writes). It errs on the side of refusing.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from .errors import ForbiddenFeatureError, QuerySyntaxError, QueryTooComplexError

DEFAULT_GRAPH = "DEFAULT"  # marker for the default graph among update targets
ALL_GRAPHS = "ALL"  # an operation that may touch any graph (CLEAR ALL, GRAPH ?g { } templates, ...)

_UNICODE_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][A-Za-z0-9_\u00B7-\uFFFF]+)
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<bnode>_:[A-Za-z0-9_\u00B7-\uFFFF](?:[A-Za-z0-9_.\-\u00B7-\uFFFF]*[A-Za-z0-9_\-\u00B7-\uFFFF])?)
  | (?P<number>[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))
  | (?P<pname>(?:[A-Za-z\u00C0-\uFFFF](?:[A-Za-z0-9_.\-\u00B7-\uFFFF]*[A-Za-z0-9_\-\u00B7-\uFFFF])?)?:(?:(?:[A-Za-z0-9_:\u00B7-\uFFFF]|%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?\#@%])(?:(?:[A-Za-z0-9_.:\-\u00B7-\uFFFF]|%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?\#@%])*(?:[A-Za-z0-9_:\-\u00B7-\uFFFF]|%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?\#@%]))?)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>\^\^|&&|\|\||!=|<=|>=|[{}()\[\];,.*+\-/!=<>^|a])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int

    @property
    def keyword(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


def unescape_codepoints(text: str) -> str:
    """Apply SPARQL's \\u / \\U codepoint escapes, which the grammar processes before parsing."""

    def replace(match: re.Match) -> str:
        try:
            return chr(int(match.group(1) or match.group(2), 16))
        except (ValueError, OverflowError):
            raise QuerySyntaxError(f"invalid codepoint escape {match.group(0)!r}") from None

    return _UNICODE_ESCAPE.sub(replace, text)


def tokenize(text: str) -> list[Token]:
    """Split SPARQL text into significant tokens (no whitespace or comments)."""
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind in {"ws", "comment"}:
            continue
        tokens.append(Token(kind, match.group(), match.start()))
    return tokens


_LEX_CACHE_MAX_TEXT = 8192


@functools.lru_cache(maxsize=256)
def _lex_cached(text: str) -> tuple[Token, ...]:
    return tuple(tokenize(unescape_codepoints(text)))


def lex(text: str) -> tuple[Token, ...]:
    """Return the tokens of SPARQL text after its codepoint escapes, read once per text.

    A query request is checked several times over (complexity, form, SERVICE, dataset); short
    texts are remembered so that each check does not lex the text again.
    """
    if len(text) <= _LEX_CACHE_MAX_TEXT:
        return _lex_cached(text)
    return tuple(tokenize(unescape_codepoints(text)))


# The engine parses and evaluates recursively: a few thousand nested brackets, or chains of a few
# thousand operators, overflow its stack and kill the process (the whole server for an update).
# These limits sit far below that and far above any query a person or a tool writes.
MAX_NESTING = 128
MAX_OPERATORS = 1000
_OPENERS = {"{": "}", "(": ")", "[": "]"}
_CLOSERS = set(_OPENERS.values())
_CHAIN_WORDS = {"UNION", "OPTIONAL", "MINUS", "FILTER", "BIND", "EXISTS", "GRAPH", "SERVICE"}
_CHAIN_PUNCT = {"/", "|", "^", "||", "&&", "!", "+", "-", "*", "=", "!=", "<", ">", "<=", ">=", "."}


def check_complexity(text: str, what: str = "the query") -> None:
    """Refuse (400) SPARQL nested deeper than MAX_NESTING or with more than MAX_OPERATORS operators.

    Operators inside INSERT DATA, DELETE DATA and VALUES blocks do not count: those are flat lists
    of data that the engine reads without recursion.
    """
    depth = deepest = operators = 0
    data_depth = None  # the depth at which the current data block opened
    expect_data = False
    for token in lex(text):
        symbol = token.text
        chain = token.keyword in _CHAIN_WORDS or (token.kind == "punct" and symbol in _CHAIN_PUNCT)
        if token.keyword in {"DATA", "VALUES"}:
            expect_data = True
        elif symbol in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
            if expect_data and symbol == "{" and data_depth is None:
                data_depth = depth
                expect_data = False
        elif symbol in _CLOSERS:
            if data_depth is not None and depth == data_depth and symbol == "}":
                data_depth = None
            depth -= 1
        elif chain and data_depth is None:
            operators += 1
    if deepest > MAX_NESTING:
        raise QueryTooComplexError(f"{what} nests brackets {deepest} levels deep; the limit is {MAX_NESTING}")
    if operators > MAX_OPERATORS:
        advice = "; send bulk data with INSERT DATA or the Graph Store protocol" if "update" in what else ""
        raise QueryTooComplexError(f"{what} has {operators} operators and pattern elements; the limit is "
                                   f"{MAX_OPERATORS}{advice}")


@dataclass
class Prologue:
    base: str | None = None
    prefixes: dict[str, str] = field(default_factory=dict)

    def resolve(self, token: Token) -> str | None:
        """Return the absolute IRI of an IRI or prefixed-name token, or None when it is not one."""
        if token.kind == "iri":
            iri = token.text[1:-1]
            return urljoin(self.base, iri) if self.base and not re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", iri) else iri
        if token.kind == "pname":
            prefix, _, local = token.text.partition(":")
            if prefix not in self.prefixes:
                raise QuerySyntaxError(f"undefined prefix {prefix!r}")
            return self.prefixes[prefix] + re.sub(r"\\(.)", r"\1", local)
        return None


def read_prologue(tokens: list[Token]) -> Prologue:
    """Collect every BASE and PREFIX declaration (updates may declare them between operations)."""
    prologue = Prologue()
    for i, token in enumerate(tokens):
        if token.keyword == "BASE" and i + 1 < len(tokens) and tokens[i + 1].kind == "iri":
            prologue.base = tokens[i + 1].text[1:-1]
        elif token.keyword == "PREFIX" and i + 2 < len(tokens) and tokens[i + 1].kind == "pname" \
                and tokens[i + 1].text.endswith(":") and tokens[i + 2].kind == "iri":
            prologue.prefixes[tokens[i + 1].text[:-1]] = prologue.resolve(tokens[i + 2])
    return prologue


def prologue_end(tokens) -> int:
    """Return the index of the first token after a query's prologue (its BASE and PREFIX declarations)."""
    i = 0
    while i < len(tokens) and (tokens[i].keyword in {"PREFIX", "BASE"} or tokens[i].kind in {"iri", "pname"}):
        i += 1
    return i


MAX_QUICK_DESCRIBE = 16


def is_quick_describe(text: str) -> bool:
    """Tell whether a query only describes a few named resources: `DESCRIBE <a> <b>`, after a prologue.

    Such a query reads the triples about those resources and nothing else; its cost is bounded
    by their size and the result cap, so it needs no process that could be killed.
    """
    tokens = lex(text)
    i = prologue_end(tokens)
    if i >= len(tokens) or tokens[i].keyword != "DESCRIBE":
        return False
    targets = tokens[i + 1:]
    return 0 < len(targets) <= MAX_QUICK_DESCRIBE and all(t.kind in {"iri", "pname"} for t in targets)


def service_endpoints(text: str) -> list[str | None]:
    """List the endpoints of every SERVICE clause; None stands for a variable endpoint."""
    tokens = lex(text)
    prologue = read_prologue(tokens)
    endpoints = []
    for i, token in enumerate(tokens):
        if token.keyword != "SERVICE":
            continue
        j = i + 1
        if j < len(tokens) and tokens[j].keyword == "SILENT":
            j += 1
        if j >= len(tokens):
            raise QuerySyntaxError("SERVICE without an endpoint")
        endpoints.append(prologue.resolve(tokens[j]))
    return endpoints


def check_federation(text: str, allowlist) -> None:
    """Refuse SERVICE calls to endpoints outside the allow-list, and every variable endpoint."""
    allowed = set(allowlist)
    for endpoint in service_endpoints(text):
        if endpoint is None:
            raise ForbiddenFeatureError("SERVICE with a variable endpoint is not allowed on this server")
        if endpoint not in allowed:
            if not allowed:
                raise ForbiddenFeatureError("federated SERVICE queries are disabled on this server")
            raise ForbiddenFeatureError(f"SERVICE <{endpoint}> is not in this server's allow-list")


@dataclass
class UpdateAnalysis:
    """What an update request writes: the graphs it changes and the operations it uses."""

    targets: set[str] = field(default_factory=set)
    operations: list[str] = field(default_factory=list)
    where_offsets: list[int] = field(default_factory=list)  # where USING clauses would go
    declares_dataset: bool = False  # a WITH or USING clause is present

    @property
    def touches_default_graph(self) -> bool:
        return DEFAULT_GRAPH in self.targets

    @property
    def touches_all_graphs(self) -> bool:
        return ALL_GRAPHS in self.targets


_OPERATIONS = {"LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "INSERT", "DELETE", "WITH"}


def analyse_update(text: str) -> UpdateAnalysis:
    """Find the graphs an update request writes, operation by operation."""
    tokens = lex(text)
    prologue = read_prologue(tokens)
    analysis = UpdateAnalysis()
    i = 0
    n = len(tokens)

    def graph_ref(j: int) -> tuple[str, int]:
        """Read GraphOrDefault / GraphRefAll at j; return (target, next index)."""
        if j >= n:
            raise QuerySyntaxError("update ends where a graph was expected")
        word = tokens[j].keyword
        if word == "DEFAULT":
            return DEFAULT_GRAPH, j + 1
        if word in {"ALL", "NAMED"}:
            return ALL_GRAPHS, j + 1
        if word == "GRAPH":
            j += 1
        iri = prologue.resolve(tokens[j]) if j < n else None
        if iri is None:
            raise QuerySyntaxError("expected a graph IRI in the update")
        return iri, j + 1

    while i < n:
        token = tokens[i]
        word = token.keyword
        if word in {"PREFIX"}:
            i += 3
            continue
        if word == "BASE":
            i += 2
            continue
        if token.text == ";":
            i += 1
            continue
        if word not in _OPERATIONS:
            raise QuerySyntaxError(f"unexpected {token.text!r} where an update operation was expected")
        analysis.operations.append("MODIFY" if word == "WITH" else word)
        i += 1
        if i < n and tokens[i].keyword == "SILENT":
            i += 1
        if word == "LOAD":
            # LOAD makes the engine fetch a URL; the analysis records it and the caller refuses it.
            i += 1
            if i < n and tokens[i].keyword == "INTO":
                target, i = graph_ref(i + 1)
            else:
                target = DEFAULT_GRAPH
            analysis.targets.add(target)
        elif word in {"CLEAR", "DROP", "CREATE"}:
            target, i = graph_ref(i)
            analysis.targets.add(target)
        elif word in {"ADD", "MOVE", "COPY"}:
            source, i = graph_ref(i)
            if i >= n or tokens[i].keyword != "TO":
                raise QuerySyntaxError(f"{word} needs TO")
            target, i = graph_ref(i + 1)
            analysis.targets.add(target)
            if word == "MOVE":
                analysis.targets.add(source)
        else:
            i = _analyse_modify(tokens, i - 1, prologue, analysis)
    return analysis


def _analyse_modify(tokens: list[Token], i: int, prologue: Prologue, analysis: UpdateAnalysis) -> int:
    """Analyse INSERT DATA / DELETE DATA / DELETE WHERE / [WITH] DELETE {..} INSERT {..} WHERE {..}."""
    n = len(tokens)
    with_graph = DEFAULT_GRAPH
    if tokens[i].keyword == "WITH":
        analysis.declares_dataset = True
        with_graph = prologue.resolve(tokens[i + 1]) if i + 1 < n else None
        if with_graph is None:
            raise QuerySyntaxError("WITH needs a graph IRI")
        i += 2
    while i < n and tokens[i].keyword in {"INSERT", "DELETE"}:
        i += 1
        if i < n and tokens[i].keyword in {"DATA", "WHERE"}:
            is_where = tokens[i].keyword == "WHERE"
            i += 1
            i = _template_targets(tokens, i, prologue, analysis, with_graph)
            if is_where:
                return i
            return i
        i = _template_targets(tokens, i, prologue, analysis, with_graph)
    while i < n and tokens[i].keyword == "USING":
        analysis.declares_dataset = True
        i += 2 if i + 1 < n and tokens[i + 1].keyword != "NAMED" else 3
    if i < n and tokens[i].keyword == "WHERE":
        analysis.where_offsets.append(tokens[i].start)
        i += 1
    if i >= n or tokens[i].text != "{":
        raise QuerySyntaxError("expected '{' after the update templates")
    return _skip_group(tokens, i)


def _skip_group(tokens: list[Token], i: int) -> int:
    depth = 0
    while i < len(tokens):
        text = tokens[i].text
        if text == "{":
            depth += 1
        elif text == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise QuerySyntaxError("unbalanced braces in the update")


def _template_targets(tokens, i, prologue, analysis, with_graph) -> int:
    """Read a quad template starting at '{' and record the graphs it names."""
    n = len(tokens)
    if i >= n or tokens[i].text != "{":
        raise QuerySyntaxError("expected '{' to open an update template")
    i += 1
    while i < n and tokens[i].text != "}":
        token = tokens[i]
        if token.keyword == "GRAPH":
            target = prologue.resolve(tokens[i + 1]) if i + 1 < n else None
            analysis.targets.add(target if target is not None else ALL_GRAPHS)
            i = _skip_group(tokens, i + 2)
        elif token.text == "{":
            raise QuerySyntaxError("unexpected '{' in an update template")
        elif token.text == ".":
            i += 1
        else:
            analysis.targets.add(with_graph)
            # skip triples up to the next GRAPH keyword at this level or the closing brace
            depth = 0
            while i < n:
                text = tokens[i].text
                if text in "[(":
                    depth += 1
                elif text in "])":
                    depth -= 1
                elif depth == 0 and (text == "}" or tokens[i].keyword == "GRAPH"):
                    break
                i += 1
    if i >= n:
        raise QuerySyntaxError("unterminated update template")
    return i + 1


def group_openings(tokens: list[Token]) -> list[int]:
    """Return the offsets just inside every group graph pattern `{` of a query.

    Skipped: the `{` of a CONSTRUCT template and of VALUES data blocks, which are not groups, and
    the `{` around a sub-query (the sub-query's own WHERE group gets the block instead).
    """
    openings = []
    i = 0
    n = len(tokens)
    while i < n:
        token = tokens[i]
        if token.keyword == "VALUES" or (token.keyword == "CONSTRUCT" and i + 1 < n and tokens[i + 1].text == "{"):
            while i < n and tokens[i].text != "{":
                i += 1
            while i < n and tokens[i].text != "}":
                i += 1
        elif token.text == "{" and not (i + 1 < n and tokens[i + 1].keyword == "SELECT"):
            openings.append(token.start + 1)  # a `{ SELECT ... }` holds only its sub-query
        i += 1
    return openings


def values_block(bindings: dict) -> str:
    """Build `VALUES (?a ?b) { (...) ... }`; one variable may take a list of terms (one row each)."""
    names = list(bindings)
    lists = [name for name in names if isinstance(bindings[name], (list, tuple, set, frozenset))]
    if len(lists) > 1:
        raise ValueError("only one variable may be bound to several values")
    column = sorted(bindings[lists[0]], key=str) if lists else [None]
    rows = []
    for item in column:
        row = [(item if name in lists else bindings[name]).n3() for name in names]
        rows.append("(" + " ".join(row) + ")")
    return f"VALUES ({' '.join('?' + n for n in names)}) {{ {' '.join(rows)} }}"


def insert_values(query: str, bindings: dict) -> str:
    """Return the query with its variables pre-bound by a VALUES block at the start of every group.

    Every group (sub-queries, UNION branches, OPTIONAL and GRAPH groups included) gets the block,
    so the engine can use the bound value wherever the variable appears, as pre-binding would.
    `bindings` maps variable names to rdflib terms; their N3 form is the only text added, so a
    request value can never change the query's structure.
    """
    if not bindings:
        return query
    for name in bindings:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"invalid variable name {name!r}")
    block = " " + values_block(bindings) + " "
    positions = group_openings(tokenize(query))
    if not positions:
        raise QuerySyntaxError("query has no group pattern to bind values into")
    for position in sorted(positions, reverse=True):
        query = query[:position] + block + query[position:]
    return query


def add_using(text: str, using: list[str], using_named: list[str]) -> str:
    """Apply the protocol's using-graph-uri / using-named-graph-uri to every DELETE/INSERT ... WHERE.

    The IRIs are written as IRI tokens (checked to contain no character that could end one).
    """
    unescaped = unescape_codepoints(text)
    analysis = analyse_update(unescaped)
    if analysis.declares_dataset:
        raise QuerySyntaxError("the update has USING or WITH clauses: do not also give "
                               "using-graph-uri or using-named-graph-uri")
    for iri in [*using, *using_named]:
        if not iri or re.search(r'[<>"{}|^`\\\x00-\x20]', iri):
            raise QuerySyntaxError(f"{iri!r} is not a valid graph IRI")
    clause = "".join(f"USING <{iri}> " for iri in using) + "".join(f"USING NAMED <{iri}> " for iri in using_named)
    for offset in sorted(analysis.where_offsets, reverse=True):
        unescaped = unescaped[:offset] + clause + unescaped[offset:]
    return unescaped


def check_update_syntax(text: str, base_iri: str | None = None) -> None:
    """Parse an update with the engine, on an empty in-memory store, without touching real data.

    Call it only after LOAD and SERVICE were refused: the engine would follow them.
    """
    import pyoxigraph as ox

    try:
        ox.Store().update(text, base_iri=base_iri)
    except SyntaxError as exc:
        raise QuerySyntaxError(str(exc)) from None
    except Exception:  # noqa: BLE001 - evaluating on an empty store can fail; that says nothing of the syntax
        pass
