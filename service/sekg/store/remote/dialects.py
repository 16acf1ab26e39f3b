"""Describe what differs between external SPARQL engines, so the remote store can behave the same on each.

Every difference the remote store handles is a field here; the code that talks to an engine
asks its dialect instead of testing the engine's name. What was observed on each engine is in
docs/deploy.md ("Engine differences").
"""

from __future__ import annotations

from dataclasses import dataclass

# Graphs a Virtuoso database holds for itself (fresh database; the Conductor package adds the rest).
VIRTUOSO_SYSTEM_GRAPHS = frozenset({
    "http://www.openlinksw.com/schemas/virtrdf#",
    "http://www.w3.org/ns/ldp#",
    "http://localuriqaserver/sparql",
    "http://www.w3.org/2002/07/owl#",
    "urn:activitystreams-owl:map",
    "urn:core:services:sparql",
})
VIRTUOSO_SYSTEM_PREFIXES = ("http://www.openlinksw.com/", "http://localhost:8890/", "http://localuriqaserver/")


@dataclass(frozen=True)
class Dialect:
    """How one kind of engine answers, and which workaround the remote store uses for it."""

    name: str
    auth: str  # "basic" or "digest": how the user and password are sent
    system_graph_prefixes: tuple[str, ...] = ()
    system_graphs: frozenset = frozenset()
    list_graphs_query: str = "remote_list_graphs"  # named query that lists the engine's graphs
    dataset_in_text: bool = False  # write datasets as FROM clauses into the query, not as protocol parameters
    protocol_dataset_merges: bool = False  # protocol graphs add to a query's FROM instead of replacing it
    from_leaves_named_graphs: bool = False  # `FROM <g>` alone still lets GRAPH ?g see every graph
    ask_as_rows: bool = False  # ASK answers come back as a one-column SELECT (one row = true)
    bnode_prefix: bytes = b""  # blank-node labels in XML results start with this (not a valid label)
    row_cap_header: str = ""  # response header naming the row cap the engine applied
    max_rows_param: str = ""  # request parameter that caps one answer's rows
    timeout_param: str = ""  # request parameter (milliseconds) that makes the engine stop a query
    partial_result_header: str = ""  # response header present when the engine returned partial results
    partial_result_states: tuple[str, ...] = ()
    cancelled_marker: bytes = b""  # text the engine appends to an answer it cancelled mid-stream
    timeout_messages: tuple[str, ...] = ()  # engine error texts that mean "took too long"
    native_describe: bool = True  # the engine's DESCRIBE matches the embedded store's (else the service computes it)
    capped_graph_reads: bool = False  # whole-graph reads are cut at the engine's row cap: read them in pages
    atomic_updates: bool = True  # one update request of several operations is applied all or nothing
    bulk_insert_data: bool = True  # large INSERT DATA requests are fast (else writes go through the Graph Store Protocol)
    keeps_empty_graphs: bool = True  # a named graph can exist without triples
    empty_graph_patterns: bool = True  # `GRAPH ?g { }` lists the graphs (Virtuoso: one unbound row)
    built_in_namespaces: tuple[str, ...] = ()  # function IRIs that run engine internals: refused (403)

    def is_system_graph(self, iri: str) -> bool:
        return iri in self.system_graphs or iri.startswith(self.system_graph_prefixes)


GENERIC = Dialect(name="generic", auth="basic")

OXIGRAPH = Dialect(
    name="oxigraph", auth="basic",
    # `oxigraph serve --timeout-s N` ends a long query by appending this text to a 200 answer
    cancelled_marker=b"The SPARQL operation has been cancelled",
)

VIRTUOSO = Dialect(
    name="virtuoso", auth="digest",
    system_graph_prefixes=VIRTUOSO_SYSTEM_PREFIXES,
    system_graphs=VIRTUOSO_SYSTEM_GRAPHS,
    # an empty `GRAPH ?g { }` lists one odd row; grouping reads Virtuoso's graph index (DISTINCT scans every quad)
    list_graphs_query="remote_list_graphs_grouped",
    # Virtuoso echoes every dataset parameter as a response header, and Python's HTTP client refuses
    # answers with more than 100 headers (see datasets.py)
    dataset_in_text=True,
    protocol_dataset_merges=True,
    from_leaves_named_graphs=True,
    ask_as_rows=True,
    bnode_prefix=b"nodeID://",
    row_cap_header="X-SPARQL-MaxRows",
    max_rows_param="maxrows",
    timeout_param="timeout",
    partial_result_header="X-SQL-State",
    partial_result_states=("S1TAT",),
    timeout_messages=("SR171", "Transaction timed out", "exceeds the limit", "S1T00"),
    native_describe=False,
    capped_graph_reads=True,
    # a multi-operation update is not guaranteed atomic over HTTP, and INSERT DATA compiles slowly
    # (seconds for 1000 triples, "memory exhausted" past ~20000): its Turtle loader is fast
    atomic_updates=False,
    bulk_insert_data=False,
    keeps_empty_graphs=False,
    empty_graph_patterns=False,
    # bif: and sql: functions call Virtuoso's SQL built-ins and stored procedures (files, users, ...)
    built_in_namespaces=("bif:", "sql:", "http://www.openlinksw.com/schemas/bif#",
                         "http://www.openlinksw.com/schemas/sql#"),
)

DIALECTS = {d.name: d for d in (GENERIC, OXIGRAPH, VIRTUOSO)}


def dialect_named(name: str) -> Dialect:
    """Return the dialect of a SEKG_REMOTE_DIALECT value (checked at start-up)."""
    return DIALECTS[name]
