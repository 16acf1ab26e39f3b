"""Add the operator's commands to `sekg`: backup, restore and the audit log of writes."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from .config import load_settings
from .errors import ConfigError, SekgError

STORE_HELP = "Store folder (default: SEKG_STORE, then ./sekg-store)."


def _settings(store_dir: str | None):
    try:
        settings = load_settings(SEKG_STORE=store_dir)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if settings.remote:
        raise click.ClickException("the store is an external SPARQL engine: back it up and restore it with "
                                   "that engine's own tools")
    return settings


@click.command()
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
@click.option("--store", "store_dir", help=STORE_HELP)
def backup(target: Path, store_dir: str | None) -> None:
    """Copy the store's latest acknowledged state (and tokens, audit log) to TARGET; works while a server runs."""
    from .backup import backup_store

    settings = _settings(store_dir)
    try:
        manifest = backup_store(settings.store_path, settings.state_dir, target)
    except SekgError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"backed up version {manifest['version']} ({manifest['quads']} quads, {manifest['named_graphs']} "
               f"named graphs, taken {manifest['taken']}) to {target}")


@click.command()
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--store", "store_dir", help=STORE_HELP)
@click.option("--replace", is_flag=True, help="Overwrite a store that already holds data.")
def restore(source: Path, store_dir: str | None, replace: bool) -> None:
    """Make a stopped store hold exactly the data of the backup in SOURCE."""
    from .backup import restore_store

    settings = _settings(store_dir)
    try:
        done = restore_store(source, settings.store_path, settings.state_dir, replace=replace)
    except SekgError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"restored version {done['version']} ({done['quads']} quads, taken {done['taken']}) "
               f"into {settings.store_path}")
    if done["kept"]:
        click.echo(f"kept this installation's {', '.join(done['kept'])} (tokens revoked since the backup stay "
                   f"revoked; the audit log keeps its history)")


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD) or an ISO 8601 time") from None


def _change(before: int, after: int) -> str:
    delta = after - before
    return f"{before} → {after} triples ({'+' if delta >= 0 else ''}{delta})"


@click.command()
@click.option("--store", "store_dir", help=STORE_HELP)
@click.option("--graph", help="Only writes to this graph IRI (DEFAULT for the default graph).")
@click.option("--since", help="Only writes at or after this date or ISO 8601 time (UTC when no zone is given).")
@click.option("--limit", default=50, show_default=True, help="At most this many entries, the newest.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of lines.")
def log(store_dir: str | None, graph: str | None, since: str | None, limit: int, as_json: bool) -> None:
    """Show the acknowledged writes (who, when, which graph, triples before and after), oldest first."""
    from .audit import AuditLog

    if limit < 1:
        raise click.BadParameter("--limit must be at least 1")
    moment = _when(since)
    settings = _settings(store_dir)
    path = settings.state_dir / "audit.sqlite"
    entries = AuditLog(path).entries(graph=graph, limit=limit, since=moment) if path.exists() else []
    if as_json:
        click.echo(json.dumps([{"id": e.id, "time": e.time, "who": e.who, "operation": e.operation,
                                "graph": e.graph, "triples_before": e.triples_before,
                                "triples_after": e.triples_after, "detail": json.loads(e.detail or "{}")}
                               for e in entries], ensure_ascii=False, indent=2))
        return
    if not entries:
        click.echo("no writes recorded" + (" for this selection" if graph or since else ""), err=True)
        return
    for entry in entries:
        target = "the default graph" if entry.graph == "DEFAULT" else ("every graph" if entry.graph == "ALL"
                                                                       else f"<{entry.graph}>")
        click.echo(f"{entry.time}  {entry.operation:<7} {target}  {_change(entry.triples_before, entry.triples_after)}"
                   f"  by {entry.who}")


def register(main: click.Group) -> None:
    """Add backup, restore and log to the `sekg` command group."""
    for command in (backup, restore, log):
        main.add_command(command)
