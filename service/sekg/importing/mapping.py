"""Read an RML mapping and run it with morph-kgc, the maintained RML engine, in its own environment.

morph-kgc pins library versions that conflict with ours, so it runs as a subprocess from its own
virtual environment (`.venv-rml`, made by .ci/install). The mapping stays standard RML; what we add
around it: the `row` column, function inputs that keep empty cells, and the per-federation graph.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, Literal, Namespace

from ..errors import BadRequestError, SekgError
from ..paths import PROJECT_ROOT

log = logging.getLogger(__name__)

RML = Namespace("http://w3id.org/rml/")
FN = "https://w3id.org/sekg/fn#"
GRAPH_PLACEHOLDER = "https://w3id.org/sekg/graph/federation/FEDERATION"
EMPTY = "\u2205"  # stands for an empty cell in function inputs (morph-kgc skips calls with empty inputs)
UDF_FILE = Path(__file__).resolve().parent / "rml_udfs.py"
RUNNER = Path(__file__).resolve().parent / "morph_runner.py"
DEFAULT_ENGINE = PROJECT_ROOT / ".venv-rml" / "bin" / "python"


class MappingError(BadRequestError):
    """The mapping cannot be used (not RML, or it calls an unknown function), or running it failed."""

    title = "Unusable mapping"


@dataclass(frozen=True)
class FunctionCall:
    node: object
    function: str  # local name in the sekg fn namespace
    inputs: tuple[tuple[str, str, bool], ...]  # (parameter, column or constant, is_constant)

    def columns(self) -> list[str]:
        return [value for _, value, constant in self.inputs if not constant and value != "row"]


@dataclass
class Mapping:
    path: Path
    graph: Graph
    references: set[str] = field(default_factory=set)
    calls: list[FunctionCall] = field(default_factory=list)
    columns_of_predicate: dict[str, set[str]] = field(default_factory=dict)
    subject_columns: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, path: Path) -> "Mapping":
        graph = Graph()
        try:
            graph.parse(path, format="turtle")
        except Exception as exc:  # noqa: BLE001 - any parse failure means an unusable mapping
            raise MappingError(f"{path}: not a readable Turtle RML mapping: {exc}") from None
        if not any(graph.subjects(RML.logicalSource, None)):
            raise MappingError(f"{path}: no rml:TriplesMap with an rml:logicalSource")
        mapping = cls(Path(path), graph)
        mapping._read()
        return mapping

    def _read(self) -> None:
        g = self.graph
        for reference in g.objects(None, RML.reference):
            self.references.add(str(reference))
        for template in g.objects(None, RML.template):
            self.references.update(re.findall(r"\{([^}]+)\}", str(template)))
        for node in set(g.subjects(RML.function, None)):
            function = str(g.value(node, RML.function))
            if not function.startswith(FN):
                raise MappingError(f"the mapping calls {function}, which is not a function of this server "
                                   f"(they are {FN}...)")
            inputs = []
            for item in g.objects(node, RML.input):
                parameter = str(g.value(item, RML.parameter)).rsplit("#", 1)[-1]
                value_map = g.value(item, RML.inputValueMap)
                reference, constant = g.value(value_map, RML.reference), g.value(value_map, RML.constant)
                inputs.append((parameter, str(reference if reference is not None else constant),
                               reference is None))
            self.calls.append(FunctionCall(node, function[len(FN):], tuple(sorted(inputs))))
        # The column that names the enterprise: every link to a part of it reads that column too.
        self.subject_columns = {value for call in self.calls for parameter, value, constant in call.inputs
                                if parameter == "name" and not constant}
        for pom in g.objects(None, RML.predicateObjectMap):
            predicates = [str(p) for p in g.objects(pom, RML.predicate)]
            columns = set()
            for object_map in g.objects(pom, RML.objectMap):
                columns |= self._columns_under(object_map)
            for predicate in predicates:
                self.columns_of_predicate.setdefault(predicate, set()).update(columns)
        self.references.discard("row")

    def _columns_under(self, node) -> set[str]:
        columns = set()
        stack, seen = [node], set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            for predicate, value in self.graph.predicate_objects(current):
                if predicate == RML.reference and str(value) != "row":
                    columns.add(str(value))
                elif predicate == RML.template:
                    columns.update(re.findall(r"\{([^}]+)\}", str(value)))
                elif not isinstance(value, Literal):
                    stack.append(value)
        return columns

    def columns_of(self, predicate: str) -> list[str]:
        """Name the columns a property's values come from, leaving out the columns that name the row's
        subject (every link to a part of an enterprise also reads the enterprise's name)."""
        columns = self.columns_of_predicate.get(predicate, set())
        return sorted(columns - self.subject_columns or columns)

    @property
    def input_columns(self) -> set[str]:
        """The columns read by function calls (their empty cells must still reach the function)."""
        return {column for call in self.calls for column in call.columns()}

    def for_run(self, graph_iri: str) -> str:
        """Return the mapping text to run: function inputs read their copies of the columns, and the
        federation's graph replaces the placeholder."""
        run = Graph()
        for triple in self.graph:
            run.add(triple)
        for call in self.calls:
            for item in list(run.objects(call.node, RML.input)):
                value_map = run.value(item, RML.inputValueMap)
                reference = run.value(value_map, RML.reference)
                if reference is not None and str(reference) != "row":
                    run.set((value_map, RML.reference, Literal(f"{reference}__in")))
        text = run.serialize(format="turtle")
        return text.replace(GRAPH_PLACEHOLDER, graph_iri)


def run_engine(mapping_text: str, csv_path: Path, answers: dict, *, engine: Path | None = None,
               timeout: float = 3600) -> bytes:
    """Run morph-kgc on a prepared CSV; return the N-Quads it made (or raise with its error)."""
    engine = Path(engine or DEFAULT_ENGINE)
    if not engine.exists():
        raise SekgError(f"the RML engine is not installed ({engine}); run bash .ci/install")
    with tempfile.TemporaryDirectory(prefix="sekg-rml-") as work:
        work = Path(work)
        (work / "mapping.ttl").write_text(mapping_text, encoding="utf-8")
        (work / "answers.json").write_text(json.dumps(answers, ensure_ascii=False), encoding="utf-8")

        def escape(path: Path) -> str:
            return str(path).replace("$", "$$")

        (work / "config.ini").write_text(f"""[CONFIGURATION]
output_file={escape(work / 'out.nq')}
output_format=N-QUADS
na_values=,nan
number_of_processes=1
udfs={escape(UDF_FILE)}
logging_level=WARNING
logging_file={escape(work / 'morph.log')}

[FEDERATION]
mappings={escape(work / 'mapping.ttl')}
file_path={escape(Path(csv_path).resolve())}
""", encoding="utf-8")
        env = {**os.environ, "SEKG_RML_ANSWERS": str(work / "answers.json")}
        result = subprocess.run([str(engine), str(RUNNER), str(work / "config.ini")], env=env,
                                capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            log.warning("morph-kgc failed:\n%s", result.stderr[-5000:])
            lines = [line for line in result.stderr.strip().splitlines() if line and not line.startswith(" ")]
            raise MappingError(f"the mapping failed: {lines[-1] if lines else 'morph-kgc exited with an error'}")
        output = work / "out.nq"
        return output.read_bytes() if output.exists() else b""

