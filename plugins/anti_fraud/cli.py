"""``wardens anti-fraud``: import, export and the starter bank from the command line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

from core.errors import Invalid
from core.messages import LOCALES
from core.models import Station
from plugins.anti_fraud import bank


def commands(load_deployment: Callable[[], Any]) -> click.Group:
    """The ``anti-fraud`` command group, building the deployment only when a command runs."""

    @click.group("anti-fraud")
    def group() -> None:
        """Anti-fraud question bank."""

    @group.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--station", "code", required=True, help="The station's code.")
    @click.option("--format", "fmt", type=click.Choice(["csv", "json"]),
                  help="Default: from the file name.")
    @click.option("--locale", type=click.Choice(LOCALES), default="zh-CN", show_default=True,
                  help="Language of rows that name none.")
    @click.option("--dry-run", is_flag=True, help="Check the file, store nothing.")
    def import_command(file: Path, code: str, fmt: str | None, locale: str, dry_run: bool) -> None:
        """Import questions from a CSV or JSON FILE, all or nothing."""
        fmt = fmt or file.suffix.lower().lstrip(".")
        if fmt not in ("csv", "json"):
            raise click.BadParameter("name the format: --format csv|json", param_hint="--format")
        deployment = load_deployment()
        with deployment.database.writer() as session, session.begin():
            station = _station(session, code)
            try:
                result = bank.import_questions(session, station.id, file.read_bytes(), fmt,
                                               by=None, role="cli", locale="en",
                                               default_locale=locale, dry_run=dry_run)
            except Invalid as exc:
                if exc.code != "import_invalid":
                    raise
                for error in exc.details["errors"]:
                    where = f"line {error['line']}" + (f", {error['field']}" if error["field"] else "")
                    click.echo(f"{file}: {where}: {error['message']}", err=True)
                if exc.details["count"] > len(exc.details["errors"]):
                    click.echo(f"... {exc.details['count']} problems in all", err=True)
                raise click.ClickException("nothing was imported") from None
        verb = "would import" if dry_run else "imported"
        click.echo(f"{verb} {result.total} questions into {code}: {result.created} new, "
                   f"{result.updated} updated, {result.unchanged} unchanged")

    @group.command("export")
    @click.option("--station", "code", required=True, help="The station's code.")
    @click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="json",
                  show_default=True)
    @click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
                  help="Default: standard output.")
    def export_command(code: str, fmt: str, output: Path | None) -> None:
        """Export the station's live questions as CSV or JSON."""
        deployment = load_deployment()
        with deployment.database.reader() as session, session.begin():
            rows = bank.export_rows(session, _station(session, code).id)
            text = bank.to_csv(rows) if fmt == "csv" else bank.to_json(rows)
        if output is None:
            click.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8")
            click.echo(f"exported {len(rows)} questions to {output}", err=True)

    @group.command("starter-bank")
    @click.option("--station", "code", required=True, help="The station's code.")
    @click.option("--locale", "locales", type=click.Choice(LOCALES), multiple=True,
                  help="Repeat for several; default: all.")
    def starter_bank_command(code: str, locales: tuple[str, ...]) -> None:
        """Add the starter questions the station lacks."""
        deployment = load_deployment()
        with deployment.database.writer() as session, session.begin():
            result = bank.load_starter_bank(session, _station(session, code).id,
                                            locales or LOCALES, role="cli")
        click.echo(f"starter bank: {result.created} questions added to {code}, "
                   f"{result.unchanged} already there")

    return group


def _station(session: Any, code: str) -> Station:
    station = session.scalar(sa.select(Station).where(Station.code == code))
    if station is None:
        raise click.ClickException(f"no station with code {code}")
    return station
