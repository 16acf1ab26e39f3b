"""Run the `sekg` command line: serve, validate, load, stats, tokens and the operator's tools."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from .cli_ops import register as register_operator_commands
from .config import load_settings
from .errors import ConfigError, DataSyntaxError, SekgError, ValidationError

console = Console(stderr=True)
out = Console(highlight=False, soft_wrap=True)


def _settings(**overrides):
    try:
        return load_settings(**overrides)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _fail(exc: SekgError) -> None:
    raise click.ClickException(exc.message)


@click.group()
@click.version_option(package_name="sekg")
def main() -> None:
    """Social Economy Knowledge Graph: validate, load and serve the graph."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


# --- validate ---------------------------------------------------------------------------------
def print_report(report, *, language: str = "en") -> None:
    """Print each problem as file, focus node, property, value and message."""
    for result in report.results:
        style = "red" if result.severity == "Violation" else "yellow"
        out.print(f"[{style}]{result.severity}[/{style}] {result.source or '-'}")
        out.print(f"  focus node: {result.focus}")
        if result.path:
            out.print(f"  property:   {result.path}")
        if result.value is not None:
            out.print(f"  value:      {result.value}")
        out.print(f"  message:    {result.message(language)}", markup=False)
    out.print(f"{len(report.violations)} violation(s), {len(report.warnings)} warning(s)")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lang", default="en", type=click.Choice(["en", "it"]), help="Language of the messages.")
def validate(paths: tuple[Path, ...], lang: str) -> None:
    """Validate RDF files against the shapes (default: everything shipped); exit 1 on violations."""
    from .loader import validate_files
    from .shipped import validated_files

    files = list(paths) or [f.path for f in validated_files()]
    try:
        with console.status("validating…"):
            report = validate_files(files)
    except DataSyntaxError as exc:
        out.print(f"[red]Syntax error[/red] {exc.message}", markup=True)
        sys.exit(1)
    print_report(report, language=lang)
    sys.exit(0 if report.conforms else 1)


# --- load -------------------------------------------------------------------------------------
def _open_store(store_dir: str | None, *, workers: int = 0):
    from .store.embedded import EmbeddedStore

    settings = _settings(SEKG_STORE=store_dir)
    if settings.remote:
        from .store import open_store

        return open_store(settings).open()
    return EmbeddedStore(settings, workers=workers).open()


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--graph", "graph", help="Named graph IRI for triple files (Turtle, N-Triples, RDF/XML, JSON-LD).")
@click.option("--shipped", is_flag=True, help="Load everything shipped (ontology, vocabularies, data) into its graphs.")
@click.option("--store", "store_dir", help="Store folder (default: SEKG_STORE, then ./sekg-store).")
def load(paths: tuple[Path, ...], graph: str | None, shipped: bool, store_dir: str | None) -> None:
    """Validate files, then write them to the store in one transaction: all or nothing."""
    from .loader import FileToLoad, load_files, shipped_to_load

    if shipped == bool(paths):
        raise click.UsageError("give either PATHS (with --graph for triple files) or --shipped")
    if shipped:
        files = shipped_to_load()
    else:
        from .rdf_files import syntax_for_path

        files = []
        for path in paths:
            syntax = syntax_for_path(path)
            if not syntax.dataset and not graph:
                raise click.UsageError(f"{path} holds triples: give --graph IRI")
            files.append(FileToLoad(path, None if syntax.dataset else graph))
    try:
        store = _open_store(store_dir)
    except SekgError as exc:
        _fail(exc)
    total = sum(f.path.stat().st_size for f in files)
    done_before: dict = {}
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                      console=console, transient=True) as progress:
            task = progress.add_task("validating", total=None)

            def on_validate(path):
                progress.update(task, description=f"validating {path.name}")

            def on_progress(path, done, size):
                done_before[path] = done
                progress.update(task, description=f"loading {path.name}", total=total,
                                completed=sum(done_before.values()))

            counts = load_files(store, files, validate_first=True, progress=on_progress, on_validate=on_validate)
    except ValidationError as exc:
        print_report(exc.detail)
        console.print(f"[red]{exc.message}[/red]")
        sys.exit(1)
    except SekgError as exc:
        _fail(exc)
    finally:
        store.close()
    out.print(f"loaded {sum(counts.values())} statements from {len(counts)} file(s)")


# --- stats ------------------------------------------------------------------------------------
@main.command()
@click.option("--store", "store_dir", help="Store folder (default: SEKG_STORE, then ./sekg-store).")
def stats(store_dir: str | None) -> None:
    """Print counts of triples, entities per class and graphs."""
    from .queries import load_queries

    queries = load_queries()
    try:
        store = _open_store(store_dir)
    except SekgError as exc:
        _fail(exc)
    try:
        out.print(f"quads: {store.count_quads()}")
        table = Table("class", "entities", title="Entities per class")
        for row in store.select(queries["count_entities_per_class"].text):
            table.add_row(str(row["class"]), str(row["entities"]))
        out.print(table)
        table = Table("graph", "triples", title="Graphs")
        for row in store.select(queries["count_triples_per_graph"].text):
            table.add_row(str(row["graph"]), str(row["triples"]))
        out.print(table)
    finally:
        store.close()


# --- tokens -----------------------------------------------------------------------------------
@main.group()
def token() -> None:
    """Manage the bearer tokens that allow writes."""


def _tokens(store_dir: str | None):
    from .tokens import TokenStore

    settings = _settings(SEKG_STORE=store_dir)
    return TokenStore(settings.state_dir / "tokens.sqlite")


@token.command("create")
@click.option("--graph", "graphs", multiple=True, help="A named graph the token may write (repeatable).")
@click.option("--admin", is_flag=True, help="An operator's token: may write every graph, the default graph included.")
@click.option("--label", default="", help="Who the token is for (shown in listings and the audit log).")
@click.option("--store", "store_dir", help="Store folder (default: SEKG_STORE, then ./sekg-store).")
def token_create(graphs: tuple[str, ...], admin: bool, label: str, store_dir: str | None) -> None:
    """Create a token; it is printed alone on the last line."""
    try:
        value = _tokens(store_dir).create(list(graphs), admin=admin, label=label)
    except SekgError as exc:
        _fail(exc)
    scope = "every graph (admin)" if admin else ", ".join(graphs)
    click.echo(f"token for {scope}; keep it secret, it is not shown again:")
    click.echo(value)


@token.command("list")
@click.option("--store", "store_dir", help="Store folder (default: SEKG_STORE, then ./sekg-store).")
def token_list(store_dir: str | None) -> None:
    """List tokens (their first characters only), one per line, tab-separated."""
    click.echo("id\ttoken\tscope\tlabel\tcreated\trevoked")
    for grant in _tokens(store_dir).list():
        scope = "admin" if grant.admin else " ".join(grant.graphs)
        click.echo(f"{grant.id}\t{grant.shown}…\t{scope}\t{grant.label}\t{grant.created}\t{grant.revoked or ''}")


@token.command("revoke")
@click.argument("token_or_id")
@click.option("--store", "store_dir", help="Store folder (default: SEKG_STORE, then ./sekg-store).")
def token_revoke(token_or_id: str, store_dir: str | None) -> None:
    """Revoke a token, given the token itself or its id."""
    try:
        grant = _tokens(store_dir).revoke(token_or_id)
    except SekgError as exc:
        _fail(exc)
    click.echo(f"revoked token {grant.id}")


# --- dump -------------------------------------------------------------------------------------
@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the dumps (default: dumps/ in the state folder, where the server serves them).")
@click.option("--store", "store_dir", help="Store folder (default: SEKG_STORE, then ./sekg-store).")
def dump(out_dir: Path | None, store_dir: str | None) -> None:
    """Write N-Quads (gzip), N-Triples (gzip), Turtle and JSON-LD dumps from one snapshot."""
    from .dumps import write_dumps

    settings = _settings(SEKG_STORE=store_dir)
    try:
        store = _open_store(store_dir)
    except SekgError as exc:
        _fail(exc)
    try:
        with console.status("writing dumps…"):
            manifest = write_dumps(store, out_dir or settings.state_dir / "dumps")
    finally:
        store.close()
    for name, info in manifest["files"].items():
        count = info.get("quads", info.get("triples"))
        out.print(f"{name}\t{info['bytes']} bytes\t{count} {'quads' if 'quads' in info else 'triples'}\tsha256 {info['sha256']}")


# --- import -----------------------------------------------------------------------------------
@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--federation", required=True, help="The federation's identifier; its graph is graph/federation/ID.")
@click.option("--mapping", "mapping_name", help="RML mapping: a shipped name (template, sample-it) or a file "
                                                "(default: the template's).")
@click.option("--dry-run", is_flag=True, help="Check and report, write nothing.")
@click.option("--skip-invalid", is_flag=True, help="Load the valid rows and report the others (default: all or nothing).")
@click.option("--link-duplicates", is_flag=True, help="Link enterprises found in other graphs (same VAT number or "
                                                      "website) with owl:sameAs.")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write the report there as CSV and HTML (report.csv, report.html).")
@click.option("--lang", default="en", type=click.Choice(["en", "it"]), help="Language of the messages.")
@click.option("--store", "store_dir", help="Store folder (default: SEKG_STORE, then ./sekg-store).")
def import_(file: Path, federation: str, mapping_name: str | None, dry_run: bool, skip_invalid: bool,
            link_duplicates: bool, report_dir: Path | None, lang: str, store_dir: str | None) -> None:
    """Import a spreadsheet (CSV or XLSX) into a federation's graph: all rows or nothing; exit 1 when not written."""
    from .audit import AuditLog
    from .importing import check_federation, resolve_mapping
    from .importing.importer import Importer
    from .importing.report import print_table, to_csv, to_html
    from .queries import load_queries
    from .writes import WriteService

    settings = _settings(SEKG_STORE=store_dir)
    try:
        check_federation(federation)
        mapping = resolve_mapping(mapping_name, allow_paths=True)
        store = _open_store(store_dir)
    except SekgError as exc:
        _fail(exc)
    from .app import prepare_store

    with console.status("opening the store (a fresh one is filled with the shipped data first)…"):
        prepare_store(settings, store)
    writes = WriteService(store, AuditLog(settings.state_dir / "audit.sqlite"), settings)
    importer = Importer(store, load_queries(), writes, engine=settings.SEKG_RML_ENGINE or None,
                        max_rows=settings.SEKG_IMPORT_MAX_ROWS)
    stages = {"reading": "reading the file", "matching": "matching values to the vocabularies",
              "mapping": "mapping rows to RDF (morph-kgc)", "validating": "validating with the shapes",
              "duplicates": "looking for duplicates in other graphs",
              "writing": "writing the graph"}
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} rows"),
                      TimeRemainingColumn(), console=console, transient=True) as progress:
            task = progress.add_task("reading", total=None)

            def on_progress(stage, done=None, total=None):
                progress.update(task, description=stages.get(stage, stage), completed=done or 0, total=total)

            result = importer.run(file, federation, mapping, dry_run=dry_run, skip_invalid=skip_invalid,
                                  link_duplicates=link_duplicates, progress=on_progress)
    except SekgError as exc:
        _fail(exc)
    finally:
        store.close()
    if result.problems:
        print_table(result, out, language=lang)
    for duplicate in result.duplicates:
        out.print(f"possible duplicate: {duplicate['iri']} = {duplicate['same_as']} ({duplicate['because']}, "
                  f"in {duplicate['graph']})", markup=False)
    if report_dir:
        report_dir.mkdir(parents=True, exist_ok=True)
        (report_dir / "report.csv").write_text(to_csv(result), encoding="utf-8")
        (report_dir / "report.html").write_text(to_html(result, lang), encoding="utf-8")
    summary = (f"{result.rows} rows, {result.accepted} accepted, {len(result.rejected_rows)} rejected, "
               f"{len(result.violations)} violation(s), {len(result.problems) - len(result.violations)} warning(s); ")
    if result.written:
        out.print(summary + f"wrote {result.triples} triples to <{result.graph}>", markup=False)
    elif dry_run and not result.violations:
        out.print(summary + f"dry run: {result.triples} triples would be written to <{result.graph}>", markup=False)
    else:
        out.print(summary + "nothing was written", markup=False)
        sys.exit(1)


# --- serve ------------------------------------------------------------------------------------
@main.command()
@click.option("--store", "store_dir", help="Store folder, or `sparql` for an external engine (default: SEKG_STORE).")
@click.option("--host", help="Address to listen on (default: SEKG_HOST, then 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on; 0 picks a free one (default: SEKG_PORT, then 8080).")
def serve(store_dir: str | None, host: str | None, port: int | None) -> None:
    """Serve the graph over HTTP with a production WSGI server."""
    from .server import run_server

    settings = _settings(SEKG_STORE=store_dir, SEKG_HOST=host, SEKG_PORT=port)
    logging.getLogger().setLevel(settings.SEKG_LOG_LEVEL.upper())
    try:
        run_server(settings)
    except SekgError as exc:
        _fail(exc)


# --- backup, restore, log (the operator's commands, in cli_ops) -------------------------------
register_operator_commands(main)


if __name__ == "__main__":
    main()
