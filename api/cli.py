"""The ``wardens`` command: serve, worker, demo, db, station, user and plugins."""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

import click

from core.plugins import StartupError


def _deployment() -> Any:
    from api import config
    from core.db import Database
    from core.plugins import Deployment, DeploymentConfig

    settings = config.load({"SECRET_KEY": "cli"})
    return Deployment(Database(settings["DATABASE_URL"]),
                      DeploymentConfig.load(settings["PLUGINS_TOML"]))


@click.group()
def cli() -> None:
    """Wardens: the backend of a community-safety phone app."""


def main() -> None:
    from core import messages
    from core.errors import WardensError

    try:
        _add_plugin_commands()
        cli(standalone_mode=True)
    except StartupError as exc:
        click.echo(f"wardens: cannot start: {exc}", err=True)
        sys.exit(2)
    except WardensError as exc:
        click.echo(f"wardens: {exc.code}: {messages.render(exc.code, 'en', exc.details)}",
                   err=True)
        sys.exit(1)


def _add_plugin_commands() -> None:
    """Add the commands of the installed plugins (``wardens_register_commands``)."""
    from api import config
    from core.plugins import DeploymentConfig, build_plugin_manager

    try:
        pm = build_plugin_manager(DeploymentConfig.load(
            config.load({"SECRET_KEY": "cli"})["PLUGINS_TOML"]))
    except StartupError:
        return  # the core commands report the broken configuration when they run
    for commands in pm.hook.wardens_register_commands(load_deployment=_deployment):
        for command in commands or []:
            if command.name in cli.commands:
                raise StartupError(f"command {command.name} is defined twice")
            cli.add_command(command)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="Server processes.")
@click.option("--threads", default=4, show_default=True, type=int, help="Threads per process.")
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Run the HTTP API with gunicorn (production server)."""
    _refuse_half_configured(workers)
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        _restart_with_shared_metrics()
    from gunicorn.app.base import BaseApplication

    from api import create_app
    from api.config import shared_limits_warning

    app = create_app()  # fail here, before forking, on a bad configuration
    warning = shared_limits_warning(app.config, workers)
    if warning:
        click.secho(warning, fg="red", bold=True, err=True)

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            # One JSON line per request comes from api.request_log (with its id, route and
            # user): gunicorn's own access line would say the same twice, with the raw path.
            self.cfg.set("accesslog", None)
            if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
                self.cfg.set("child_exit", _forget_worker_metrics)

        def load(self) -> Any:
            return app

    from core import logs

    logs.configure()
    _remove_metrics_folder_at_exit()
    click.echo(f"Wardens API on http://{host}:{port}/api/docs")
    Server().run()


def _refuse_half_configured(processes: int) -> None:
    """Production stops here, one line per missing setting (what ``wardens check`` says too):
    a host that made up its own key or database would fail quietly, not at once."""
    from api import deployment_check

    found = deployment_check.refusals(processes)
    for line in found:
        click.echo(f"wardens: cannot start: {line}", err=True)
    if found:
        sys.exit(2)


def _restart_with_shared_metrics() -> None:
    """Start this command again with PROMETHEUS_MULTIPROC_DIR set to a fresh folder, so /metrics
    adds up every gunicorn worker's counts.

    prometheus-client picks its storage when it is imported, which the app has done by now:
    only a new process can pick the shared one. The folder goes when the server stops.
    """
    import tempfile

    folder = tempfile.mkdtemp(prefix="wardens-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    os.environ["WARDENS_METRICS_DIR_MADE"] = folder
    os.execv(sys.executable, [sys.executable, "-m", "api.cli", *sys.argv[1:]])


def _remove_metrics_folder_at_exit() -> None:
    """The folder ``_restart_with_shared_metrics`` made goes with the server (not with a worker:
    gunicorn's workers are forks that run the same exit handlers)."""
    import atexit
    import shutil

    folder = os.environ.get("WARDENS_METRICS_DIR_MADE")
    if not folder or folder != os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    server = os.getpid()

    def remove() -> None:
        if os.getpid() == server:
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)


def _forget_worker_metrics(_server: Any, worker: Any) -> None:
    """A gunicorn worker that ended: its gauges stop counting (its counters are kept)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


@cli.command()
@click.option("--once", is_flag=True, help="Run what is due now, then exit.")
@click.option("--interval", default=15.0, show_default=True, help="Seconds between rounds.")
@click.option("--metrics-port", type=int, default=None,
              help="Serve this worker's Prometheus metrics on this port (GET /metrics).")
@click.option("--metrics-host", default="127.0.0.1", show_default=True,
              help="The address the metrics port listens on; it has no token: keep it private.")
def worker(once: bool, interval: float, metrics_port: int | None, metrics_host: str) -> None:
    """Run scheduled jobs and deliver notifications (any number on PostgreSQL, one on SQLite)."""
    import signal
    import threading

    from core import logs
    from core.worker import WorkerLocked, run_worker

    _refuse_half_configured(processes=1)  # the worker answers no sign-in: its limits are moot
    logs.configure()
    deployment = _deployment()
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=metrics_host)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):  # finish the round, then exit
        signal.signal(signum, lambda *_: stop.set())
    try:
        run_worker(deployment, name=f"{socket.gethostname()}:{os.getpid()}", once=once,
                   interval=interval, stop=stop)
    except WorkerLocked as exc:
        raise click.ClickException(str(exc)) from None


@cli.command()
@click.option("--workers", default=2, show_default=True, type=int,
              help="Server processes per API host (as given to wardens serve).")
@click.option("--hosts", default=1, show_default=True, type=int,
              help="API hosts sharing this database.")
def check(workers: int, hosts: int) -> None:
    """Check this deployment's settings before it starts: a line per problem, exit 1 on any."""
    from api import deployment_check

    found = deployment_check.problems(workers * hosts)
    for line in found:
        click.echo(line)
    if found:
        click.echo(f"{len(found)} problem(s): fix them before starting wardens", err=True)
        sys.exit(1)
    click.echo("the deployment's settings are ready: database, migrations, secret key, limits")


@cli.command()
@click.option("--write", "path", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Rewrite the catalogue between the markers of this file (docs/clients.md).")
def codes(path: str | None) -> None:
    """Print every error and notification code with its texts (a Markdown table)."""
    from pathlib import Path

    from api import catalogue
    from api.app import create_app

    app = create_app()
    document = app.test_client().get("/api/openapi.json").get_json()
    if path is None:
        click.echo(catalogue.table(document))
        return
    target = Path(path)
    target.write_text(catalogue.replace_in(target.read_text(encoding="utf-8"), document),
                      encoding="utf-8")
    click.echo(f"{path}: code catalogue rewritten")


@cli.command()
def demo() -> None:
    """Seed the demo station (once) and print the demo logins."""
    from api import progress
    from core import demo as demo_data

    deployment = _deployment()
    with (progress.bar("seeding the demo") as shown, deployment.database.writer() as session,
          session.begin()):
        demo_data.seed(session, progress=shown)
    click.echo("Demo station 'demo' is ready. Sign in to the console at"
               " http://127.0.0.1:8000/console (admin, officer, partner), or with"
               " POST /api/v1/auth/token:")
    for who, phone, password in demo_data.logins():
        click.echo(f"  {who:32} phone {phone}  password {password}")


@cli.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.option("--dry-run", is_flag=True, help="Print what would be applied; change nothing.")
def db_upgrade(dry_run: bool) -> None:
    """Upgrade the database to every head (core and all plugins), saying what it applies first.

    Refused (exit 1, nothing changed) when the database is at a revision this code does not know.
    """
    from itertools import groupby

    from core import migrate

    deployment = _deployment()
    where = {"url": deployment.database.url, "extra_folders": deployment.migration_folders(),
             "plugin_names": deployment.plugin_names()}
    try:
        steps = migrate.pending(**where)
    except StartupError as exc:
        raise click.ClickException(str(exc)) from None
    if not steps:
        click.echo("database is up to date: nothing to apply")
        return
    click.echo(f"{len(steps)} revision(s) to apply:")
    for branch, group in groupby(sorted(steps, key=_core_first), key=lambda s: s.branch):
        click.echo(f"  {branch}:")
        for step in group:
            click.echo(f"    {step.revision}  {step.message}")
    if dry_run:
        click.echo("dry run: nothing was applied")
        return
    migrate.upgrade(**where)
    click.echo("database is up to date")


def _core_first(step: Any) -> tuple[bool, str]:
    """The core's revisions first (every plugin's first revision depends on the core)."""
    return step.branch != "core", step.branch


@cli.command()
@click.option("--to", "folder", type=click.Path(file_okay=False), default=None,
              help="Where the archive goes: another host's path or a mounted object store,"
                   " so the copy is off this host. Default: <instance>/backups.")
def backup(folder: str | None) -> None:
    """Back up the database and the uploads into one archive (safe while serving)."""
    from pathlib import Path

    from api import progress
    from core import backups
    from core.db import instance_path

    deployment = _deployment()
    try:
        with progress.bar("backing up") as shown:
            made = backups.backup(deployment,
                                  Path(folder) if folder else instance_path() / "backups",
                                  instance_path() / "uploads", progress=shown)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup written: {made}")


@cli.command()
@click.argument("archive", type=click.Path(dir_okay=False, exists=True))
@click.option("--yes", is_flag=True, help="Do not ask: the database and uploads are replaced.")
def restore(archive: str, yes: bool) -> None:
    """Replace the database and the uploads with a backup's (stop the server and worker first)."""
    from pathlib import Path

    from api import progress
    from core import backups
    from core.db import instance_path

    deployment = _deployment()
    try:
        manifest = backups.read_manifest(Path(archive))
        if not yes:
            click.confirm(f"Replace this deployment's database and uploads with the backup made"
                          f" {manifest.get('made_at')}?", abort=True)
        with progress.bar("restoring") as shown:
            backups.restore(deployment, Path(archive), instance_path() / "uploads",
                            progress=shown)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored the backup made {manifest.get('made_at')}")


@db.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--plugin", default=None, help="Write the revision on this plugin's branch.")
@click.option("--rev-id", default=None, help="A readable revision id, e.g. 0002_patrol_zones.")
def db_revision(message: str, plugin: str | None, rev_id: str | None) -> None:
    """Autogenerate a revision for the core or for one installed plugin."""
    from core import migrate

    deployment = _deployment()
    if plugin is not None and plugin not in deployment.plugins:
        raise click.BadParameter(f"{plugin} is not installed in plugins.toml",
                                 param_hint="--plugin")
    folder = deployment.plugin_migration_folders(plugin)[0] if plugin else None
    script = migrate.revision(deployment.database.url, message, plugin, folder=folder,
                              extra_folders=deployment.migration_folders(),
                              plugin_names=deployment.plugin_names(), rev_id=rev_id)
    click.echo(f"wrote {script.path}" if script is not None else "nothing written")


@cli.group()
def station() -> None:
    """Stations."""


@station.command("create")
@click.option("--code", required=True)
@click.option("--name", required=True)
@click.option("--admin-phone", required=True,
              help="The first admin (pending until the number is proven).")
@click.option("--timezone", default="Asia/Shanghai", show_default=True)
@click.option("--open-join", is_flag=True, help="Let residents join by themselves.")
def station_create(code: str, name: str, admin_phone: str, timezone: str, open_join: bool) -> None:
    """Create a station with its first admin."""
    import sqlalchemy as sa

    from core import stations
    from core.models import User

    deployment = _deployment()
    with deployment.database.writer() as session, session.begin():
        superuser = session.scalar(sa.select(User).where(User.is_superuser.is_(True)).limit(1))
        if superuser is None:
            raise click.ClickException("create a superuser first: wardens user create --superuser")
        created, seat = stations.create_station(session, superuser, code=code, name=name,
                                                timezone=timezone, open_join=open_join,
                                                admin_phone=admin_phone)
    click.echo(f"station {created.code} created")
    if seat.pending_phone:
        click.echo(f"the admin seat waits until {seat.pending_phone} is proven (a sign-in by"
                   " texted code, or phone verification in the app)")


def _station_file(path: str) -> Any:
    """A station file read from disk, with the files it refers to (e.g. a question bank) inlined."""
    from pathlib import Path

    from core.station_file import document

    deployment = _deployment()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"{path}: {exc.strerror}") from None
    data = document.parse(text)
    data = document.inline_files(deployment, data, Path(path).resolve().parent)
    return deployment, document.validate(deployment, data)


def _file_errors(exc: Any) -> None:
    for error in exc.errors:
        click.echo(f"{error['path'] or '(file)'}: {error['message']}", err=True)
    click.echo(f"{len(exc.errors)} mistake(s); nothing was changed", err=True)
    sys.exit(1)


def _acting(session: Any, phone: str | None) -> Any:
    import sqlalchemy as sa

    from core import accounts
    from core.models import User

    if phone:
        found = accounts.find_by_phone(session, phone)
        if found is None:
            raise click.ClickException(f"no person with phone {phone}")
        return found
    found = session.scalar(sa.select(User).where(User.is_superuser.is_(True)).order_by(User.id)
                           .limit(1))
    if found is None:
        raise click.ClickException("create a superuser first: wardens user create --superuser")
    return found


@station.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
def station_validate(file: str) -> None:
    """Check a station file; every mistake with its path, nothing touched."""
    from core.station_file.document import FileErrors

    try:
        _station_file(file)
    except FileErrors as exc:
        _file_errors(exc)
    click.echo(f"{file}: valid")


@station.command("plan")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--as", "as_phone", default=None, help="Plan as this admin (default: the superuser).")
@click.option("--json", "as_json", is_flag=True, help="The plan as JSON, for tools.")
def station_plan(file: str, as_phone: str | None, as_json: bool) -> None:
    """What applying FILE would create, change and archive. Exit 2 when there are changes."""
    import json

    from core.station_file import plan as plans
    from core.station_file import rendering
    from core.station_file.document import FileErrors

    try:
        deployment, loaded = _station_file(file)
        with deployment.database.reader() as session:
            found = plans.make_plan(session, _acting(session, as_phone), loaded)
    except FileErrors as exc:
        _file_errors(exc)
    if as_json:
        click.echo(json.dumps(found.as_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        for line in rendering.lines(found):
            click.echo(line)
    sys.exit(0 if found.empty else 2)


@station.command("apply")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--allow", "allow", multiple=True,
              help="A harm to accept, e.g. cancel_guarded_shifts (repeat for more).")
@click.option("--as", "as_phone", default=None, help="Apply as this admin (default: the superuser).")
def station_apply(file: str, allow: tuple[str, ...], as_phone: str | None) -> None:
    """Bring the station to FILE's state in one transaction (all or nothing)."""
    from api import progress
    from core.errors import Conflict
    from core.station_file import plan as plans
    from core.station_file import rendering
    from core.station_file.document import FileErrors

    counted = {"done": 0, "total": 0}

    def started(found: Any) -> None:
        counted["total"] = len(found.changes)

    def step(_change: Any) -> None:
        counted["done"] += 1
        shown(counted["done"], counted["total"])

    try:
        deployment, loaded = _station_file(file)
        with (progress.bar("applying") as shown, deployment.database.writer() as session,
              session.begin()):
            found = plans.apply(session, _acting(session, as_phone), loaded, allow=set(allow),
                                progress=step, on_plan=started)
    except FileErrors as exc:
        _file_errors(exc)
    except Conflict as exc:
        if exc.code != "station_file_harmful":
            raise
        for path in exc.details["changes"]:
            click.echo(f"{path}: would {exc.details['harms']}", err=True)
        click.echo(f"refused, nothing was changed: apply with --allow for each of "
                   f"{exc.details['harms']} to go on", err=True)
        sys.exit(1)
    click.echo(rendering.summary_line(found, applied=True))


@station.command("export")
@click.argument("code")
@click.option("--as", "as_phone", default=None, help="Export as this admin (default: the superuser).")
@click.option("-o", "--output", default=None, type=click.Path(dir_okay=False),
              help="Write to this file instead of standard output.")
def station_export(code: str, as_phone: str | None, output: str | None) -> None:
    """The station's state as a station file (plan on it reports no change)."""
    from pathlib import Path

    from core.station_file import plan as plans

    deployment = _deployment()
    with deployment.database.reader() as session:
        text = plans.export_text(session, _acting(session, as_phone), code)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)


@station.command("schema")
def station_schema() -> None:
    """The JSON Schema of station files (core and installed plugins), for editors."""
    import json

    from core.station_file import document

    click.echo(json.dumps(document.json_schema(_deployment()), ensure_ascii=False, indent=2))


@cli.group()
def user() -> None:
    """People."""


@user.command("create")
@click.option("--phone", required=True)
@click.option("--password", required=True)
@click.option("--name", default="", help="Display name.")
@click.option("--superuser", is_flag=True, help="May create stations.")
def user_create(phone: str, password: str, name: str, superuser: bool) -> None:
    """Create a person who signs in with a password."""
    from core import accounts

    deployment = _deployment()
    with deployment.database.writer() as session, session.begin():
        created = accounts.create_user(session, phone=phone, password=password,
                                       display_name=name, is_superuser=superuser,
                                       phone_verified=True)
    click.echo(f"user {created.id} created ({created.phone})")


@cli.group()
def plugins() -> None:
    """Plugins."""


@plugins.command("list")
def plugins_list() -> None:
    """The plugins this deployment installs (plugins.toml), and those offered but not installed."""
    deployment = _deployment()
    if not deployment.plugins:
        click.echo("no plugins installed")
    for name, plugin in deployment.plugins.items():
        info = plugin.info
        jobs = [j.name for j in deployment.jobs if j.plugin == name]
        click.echo(f"{name} {info.version}  {info.description}".rstrip())
        click.echo(f"  from: {plugin.source}")
        click.echo(f"  endpoints: /api/v1/stations/<station>/{plugin.url_name}/")
        click.echo(f"  task kinds: {', '.join(k.name for k in info.task_kinds) or '-'}")
        click.echo(f"  jobs: {', '.join(jobs) or '-'}")
        click.echo(f"  settings: {', '.join(sorted(plugin.defaults)) or '-'}")
    from core.plugins import builtin_plugin_names

    offered = sorted({*builtin_plugin_names(), *deployment.entry_points} - set(deployment.plugins))
    if offered:
        click.echo(f"not installed: {', '.join(offered)}")


if __name__ == "__main__":
    main()
