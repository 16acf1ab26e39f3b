"""Say to an external engine which graphs a query sees, the same on every engine.

The service's dataset is the engine's named graphs minus the engine's own (Virtuoso's system
graphs) and the service's bookkeeping graphs. Its default graph, which Virtuoso cannot hold,
lives in the named graph DEFAULT_GRAPH on every engine. Each query's dataset is written
explicitly (protocol parameters, or FROM clauses for Virtuoso), so that no engine's own idea of the
default graph, union or not, leaks into an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from ...errors import QuerySyntaxError
from .dialects import Dialect

DEFAULT_GRAPH = "urn:x-sekg:default-graph"  # holds the service's default graph on the engine
STATE_GRAPH = "urn:x-sekg:service-state"  # the service's version and modification time
NO_GRAPH = "urn:x-sekg:no-graph"  # never holds anything: names an empty set of graphs
ALL = "all"


@dataclass(frozen=True)
class Catalogue:
    """The engine's graphs, sorted into the dataset's named graphs and the rest."""

    named: tuple[str, ...] = ()  # the service's named graphs, sorted
    system: tuple[str, ...] = ()  # the engine's own graphs
    has_default: bool = False  # the default graph's stand-in exists
    has_state: bool = False

    @classmethod
    def sort(cls, iris, dialect: Dialect) -> "Catalogue":
        iris = set(iris)
        system = {iri for iri in iris if dialect.is_system_graph(iri)}
        named = iris - system - {DEFAULT_GRAPH, STATE_GRAPH, NO_GRAPH}
        return cls(named=tuple(sorted(named)), system=tuple(sorted(system)),
                   has_default=DEFAULT_GRAPH in iris, has_state=STATE_GRAPH in iris)

    @property
    def data(self) -> tuple[str, ...]:
        """Every engine graph that holds the dataset: the named graphs and the default graph's stand-in."""
        return self.named + ((DEFAULT_GRAPH,) if self.has_default else ())


@dataclass(frozen=True)
class DatasetSpec:
    """Which graphs one query sees, in the service's terms."""

    default: tuple[str, ...] | str = ALL  # ALL: the union of every data graph
    named: tuple[str, ...] | str = ALL  # ALL: every named graph but `named_except`
    named_except: frozenset = field(default_factory=frozenset)
    query_owns: bool = False  # the query's own FROM clauses say it
    query_from: bool = False
    query_from_named: bool = False
    replaces_query_dataset: bool = False  # protocol graphs given by the client: they override FROM

    @classmethod
    def union(cls) -> "DatasetSpec":
        """The public default: the default graph is the union of all graphs."""
        return cls()

    @classmethod
    def internal(cls, *, named_except=frozenset(), default=(DEFAULT_GRAPH,)) -> "DatasetSpec":
        """The embedded store's plain dataset: the real default graph, every named graph."""
        return cls(default=tuple(default), named=ALL, named_except=frozenset(named_except))

    @classmethod
    def explicit(cls, default, named, *, replaces_query_dataset=True) -> "DatasetSpec":
        for iri in [*default, *named]:
            check_iri(iri)
        return cls(default=tuple(default), named=tuple(named), replaces_query_dataset=replaces_query_dataset)

    @classmethod
    def from_query(cls, has_from: bool, has_from_named: bool) -> "DatasetSpec":
        return cls(query_owns=True, query_from=has_from, query_from_named=has_from_named)


def check_iri(iri: str) -> str:
    """Refuse a graph name that is not an absolute IRI (it will be written into a request)."""
    try:
        return str(ox.NamedNode(iri))
    except ValueError:
        raise QuerySyntaxError(f"{iri!r} is not an absolute graph IRI") from None


@dataclass
class Rendered:
    """A dataset as one engine takes it: protocol parameters, or pragmas and FROM clauses for the query text."""

    params: list[tuple[str, str]] = field(default_factory=list)
    prelude: str = ""  # written before the query (Virtuoso pragmas)
    clauses: tuple[list[str], list[str]] | None = None  # (FROM graphs, FROM NAMED graphs)
    strip_from: bool = False  # drop the query's own FROM clauses first


def render(spec: DatasetSpec, dialect: Dialect, catalogue: Catalogue, constants=frozenset()) -> Rendered:
    """Write a dataset the way the engine's dialect understands it.

    `constants` are the graph IRIs the query names in GRAPH patterns (used by the Virtuoso rendering).
    """
    if dialect.dataset_in_text:
        return _clauses(spec, dialect, catalogue, constants)
    return _protocol(spec, catalogue)


def _protocol(spec: DatasetSpec, catalogue: Catalogue) -> Rendered:
    if spec.query_owns:
        return Rendered()  # a conformant engine applies the query's FROM clauses itself
    default = list(catalogue.data) if spec.default == ALL else list(spec.default)
    named = [g for g in catalogue.named if g not in spec.named_except] if spec.named == ALL else list(spec.named)
    if not default and not named:
        default = [NO_GRAPH]  # an explicit empty dataset, not "whatever the engine's default is"
    return Rendered(params=[("default-graph-uri", g) for g in default] + [("named-graph-uri", g) for g in named])


def _clauses(spec: DatasetSpec, dialect: Dialect, catalogue: Catalogue, constants) -> Rendered:
    """Write the dataset into the query text (Virtuoso), each part the way Virtuoso evaluates correctly and fast.

    - Protocol parameters would do, but Virtuoso echoes each one as a response header and Python's
      HTTP client refuses more than 100 headers.
    - The union default graph is Virtuoso's own default graph minus its system graphs, by
      `define input:default-graph-exclude` pragmas: a FROM clause per graph is correct too, but
      makes Virtuoso plan a query with a few UNIONs for seconds.
    - Named graphs are FROM NAMED clauses (the `named-graph-exclude` pragma breaks GRAPH <g>
      patterns). A GRAPH <g> whose graph is not among them makes Virtuoso answer COUNT(*) with 1
      and ASK with true, so the query's constant graphs (but the engine's and the service's own)
      are named too: outside the data they are empty anyway.
    """
    if spec.query_owns:
        if spec.query_from and not spec.query_from_named and dialect.from_leaves_named_graphs:
            return Rendered(clauses=([], [NO_GRAPH]))
        return Rendered()
    hidden = set(catalogue.system) | {STATE_GRAPH}
    prelude = ""
    if spec.default == ALL:
        prelude = "\n".join(f"define input:default-graph-exclude {check_iri(g)}" for g in sorted(hidden))
        default = []
    else:
        default = [check_iri(g) and g for g in spec.default] or [NO_GRAPH]
    if spec.named == ALL:
        hidden |= {DEFAULT_GRAPH} | set(spec.named_except)
        named = [g for g in catalogue.named if g not in spec.named_except]
        named += sorted(set(constants) - set(named) - hidden)
    else:
        named = [check_iri(g) and g for g in spec.named]
    return Rendered(prelude=prelude, clauses=(default, named or [NO_GRAPH]),
                    strip_from=spec.replaces_query_dataset and dialect.protocol_dataset_merges)
