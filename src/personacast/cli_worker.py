"""``personacast worker`` and ``personacast reconcile``: the service's job processes
(extra "service"). Registered on the main app by cli.py."""

from __future__ import annotations

import logging
import os
import signal
import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Optional

import typer

from .cli import _fail, _quiet_native_logs, app, console
from .errors import BackendError, ConfigError, PersonacastError
from .settings import Settings

if TYPE_CHECKING:
    from .service.store import JobStore


def _open_store(settings: Settings) -> JobStore:
    """The job store, tried once, so that a database that is down or not migrated gives
    one line at start-up rather than a traceback per job."""
    from sqlalchemy.exc import SQLAlchemyError

    from .service.store import JobStore

    store = JobStore.from_settings(settings)
    try:
        store.stale_jobs(queued_older_than=timedelta(0), limit=1)
    except SQLAlchemyError as exc:
        store.close()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise BackendError(
            f"the job store cannot be used: {reason}", hint="check PERSONACAST_DATABASE_URL; then: personacast db upgrade"
        ) from None
    return store


@app.command()
def worker(
    queues: str = typer.Option("cpu", help="queues to take renders from: cpu, gpu or cpu,gpu"),
    concurrency: Optional[int] = typer.Option(None, min=1, help="renders at once [default: one per two cores]"),
    beat: bool = typer.Option(
        False, "--beat", help="also run the reconciler on Celery beat's schedule (in one process of a deployment only)"
    ),
    loglevel: str = typer.Option("INFO", help="DEBUG, INFO, WARNING or ERROR"),
) -> None:
    """Run a render worker: takes job ids from the Redis broker and renders them."""
    _quiet_native_logs()
    try:
        from .service.worker.app import celery_app
        from .service.worker.queues import QUEUES

        names = [name.strip() for name in queues.split(",") if name.strip()]
        unknown = sorted(set(names) - set(QUEUES))
        if unknown or not names:
            raise ConfigError(f"unknown queue(s) {', '.join(unknown) or queues!r}", hint=f"choose from {', '.join(QUEUES)}")
        settings = Settings()
        celery = celery_app(settings)
        _open_store(settings).close()
    except PersonacastError as error:
        _fail(error)
    # A render keeps about two cores busy (speech on all cores, then frames beside x264):
    # on 2 cores, two at once gave 7% more renders an hour than one, each taking 1.7x longer.
    processes = concurrency or max(1, (os.cpu_count() or 2) // 2)
    # Celery's gossip and mingle share worker state between nodes; the job store keeps
    # all the state there is, so they would only slow start-up and add broker traffic.
    argv = ["worker", f"--queues={','.join(names)}", f"--concurrency={processes}", f"--loglevel={loglevel}",
            f"--hostname=personacast-{os.getpid()}@%h", "--without-gossip", "--without-mingle"]
    if beat:
        settings.data_dir.mkdir(parents=True, exist_ok=True)  # beat keeps its schedule's state there
        argv.append("--beat")
    celery.worker_main(argv)


@app.command()
def reconcile(
    once: bool = typer.Option(False, "--once", help="one pass, then exit (from cron, or to look)"),
) -> None:
    """Re-send jobs whose worker died or whose broker message was lost, every
    PERSONACAST_RECONCILE_INTERVAL_S seconds.

    One such process per deployment is enough; a second one only sends some jobs twice,
    which is harmless."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("personacast").setLevel(logging.INFO)
    try:
        from .service.worker.app import celery_app
        from .service.worker.dispatch import CeleryDispatcher
        from .service.worker.reconcile import reconcile as reconcile_once, run_reconciler

        settings = Settings()
        store = _open_store(settings)
        dispatcher = CeleryDispatcher(celery_app(settings), store, settings)
        if once:
            console.print(f"reconciled: {reconcile_once(store, dispatcher, settings)}")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        console.print(f"reconciling every {settings.reconcile_interval_s:g} s; Ctrl-C stops")
        try:
            run_reconciler(store, dispatcher, settings, stop)
        except KeyboardInterrupt:
            pass
    except PersonacastError as error:
        _fail(error)
