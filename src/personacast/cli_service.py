"""``personacast serve``, ``personacast keys ...`` and ``personacast db upgrade``: the
service's API and its administration (extra "service"). Registered on the main app
by cli.py."""

from __future__ import annotations

import logging

import typer
from rich.console import Console
from rich.table import Table

from .cli import _fail, _quiet_native_logs, app, console
from .errors import NotFoundError, PersonacastError
from .settings import Settings

keys_app = typer.Typer(help="Create, list and revoke the service's API keys.", no_args_is_help=True)
db_app = typer.Typer(help="The service's database.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8000, "--port", "-p", min=1, max=65535, help="Port to listen on."),
    embedded: bool = typer.Option(
        False, "--embedded", help="Run renders in this process (no Redis, no separate workers): one machine, SQLite, local files."
    ),
    workers: int = typer.Option(2, "--workers", "-w", min=1, max=64, help="Render threads in embedded mode."),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning or error"),
) -> None:
    """Run the HTTP API (OpenAPI docs at /docs); migrates the database first."""
    _quiet_native_logs()
    settings = Settings()
    try:
        import uvicorn

        from .service.api import create_app
        from .service.migrate import upgrade_database

        upgrade_database(settings)
        api = create_app(settings, embedded=embedded, worker_threads=workers)
    except ImportError as exc:
        from .errors import MissingDependencyError

        _fail(MissingDependencyError("serve", "service", exc.name or "uvicorn"))
    except PersonacastError as error:
        _fail(error)
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    mode = f"embedded, {workers} render thread(s)" if embedded else "renders go to Celery workers"
    console.print(f"personacast API on http://{host}:{port} ({mode}); docs at /docs")
    uvicorn.run(api, host=host, port=port, log_level=log_level, proxy_headers=True)


@keys_app.command("create")
def keys_create(
    tenant: str = typer.Option(..., "--tenant", "-t", help="Tenant name; created if it does not exist."),
    name: str = typer.Option("default", "--name", "-n", help="A label to tell this key from the tenant's others."),
) -> None:
    """Make an API key. It is shown once, on the last line, and stored only hashed."""
    store = _store()
    try:
        record = store.find_tenant(tenant) or store.create_tenant(tenant)
        new = store.create_api_key(record.id, name)
    except PersonacastError as error:
        _fail(error)
    finally:
        store.close()
    console.print(f"tenant {record.name} ({record.id}): key {new.record.id} '{name}' (prefix {new.record.prefix})")
    console.print("[yellow]keep the key now: it cannot be shown again[/]")
    typer.echo(new.plaintext)


@keys_app.command("list")
def keys_list(tenant: str = typer.Option(..., "--tenant", "-t", help="Tenant name.")) -> None:
    """A tenant's keys (their prefixes, never the keys)."""
    store = _store()
    try:
        keys = store.list_api_keys(_tenant_id(store, tenant))
    except PersonacastError as error:
        _fail(error)
    finally:
        store.close()
    table = Table("id", "prefix", "name", "created", "revoked")
    for key in keys:
        table.add_row(str(key.id), key.prefix, key.name, f"{key.created_at:%Y-%m-%d %H:%M}",
                      f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "")
    Console().print(table)


@keys_app.command("revoke")
def keys_revoke(
    key: str = typer.Argument(..., help="The key's id or prefix (see keys list)."),
    tenant: str = typer.Option(..., "--tenant", "-t", help="Tenant name."),
) -> None:
    """Revoke a key: requests with it answer 401 from now on."""
    store = _store()
    try:
        tenant_id = _tenant_id(store, tenant)
        match = [k for k in store.list_api_keys(tenant_id) if key in (str(k.id), k.prefix)]
        if not match:
            raise NotFoundError(f"tenant {tenant} has no key {key}", hint="see personacast keys list --tenant NAME")
        revoked = store.revoke_api_key(tenant_id, match[0].id)
    except PersonacastError as error:
        _fail(error)
    finally:
        store.close()
    console.print(f"revoked key {revoked.id} (prefix {revoked.prefix})")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the database's tables, or bring them up to this version's schema."""
    try:
        from .service.migrate import upgrade_database

        upgrade_database(Settings())
    except PersonacastError as error:
        _fail(error)
    console.print("[green]✓[/] the database is up to date")


def _store():  # -> JobStore, imported lazily with the extra
    try:
        from .service.migrate import upgrade_database
        from .service.store import JobStore

        settings = Settings()
        upgrade_database(settings)
        return JobStore.from_settings(settings)
    except PersonacastError as error:
        _fail(error)


def _tenant_id(store, name: str):
    record = store.find_tenant(name)
    if record is None:
        raise NotFoundError(f"no tenant named '{name}'", hint="personacast keys create --tenant NAME makes one")
    return record.id
