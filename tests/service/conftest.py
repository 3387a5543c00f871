"""Fixtures for the service's tests: the job store on SQLite and on PostgreSQL, and S3 on
a moto server process.

PostgreSQL must be running (scripts/ensure-services.sh starts it): the tests fail,
never skip, when it is not, so CI cannot pass without having run them.
PERSONACAST_TEST_POSTGRES_URL names a database to connect to for creating the tests'
own (default: the local server's "test" database, user postgres, trust auth).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy
from sqlalchemy.exc import OperationalError

from personacast.service.db import database_url as with_driver

ADMIN_URL = os.environ.get("PERSONACAST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@dataclass
class FakeClock:
    """The store's clock, moved by hand."""

    now: datetime = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class PostgresServer:
    """Creates throwaway databases on the test server and drops them again."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = with_driver(admin_url)
        self.engine = sqlalchemy.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []
        problem = None
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except OperationalError as exc:
            problem = str(exc.orig).strip().splitlines()[0]
        if problem is not None:
            self.engine.dispose()
            pytest.fail(
                f"PostgreSQL is not reachable at {self.admin_url.render_as_string(hide_password=True)}: {problem}. "
                "Start it with: bash scripts/ensure-services.sh (or point PERSONACAST_TEST_POSTGRES_URL at a server)",
                pytrace=False,
            )

    def create_database(self) -> str:
        name = f"personacast_test_{uuid.uuid4().hex[:12]}"
        with self.engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.engine.connect() as connection:
            for name in self.created:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.engine.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer(ADMIN_URL)
    yield server
    server.drop_all()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One migrated database per kind for the whole session."""
    from personacast.service.migrate import upgrade_database
    from personacast.settings import Settings

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('jobstore') / 'store.db'}"
    else:
        url = request.getfixturevalue("postgres").create_database()
    upgrade_database(Settings(database_url=url))
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(database_url: str, clock: FakeClock) -> Iterator:
    """A JobStore on empty tables (emptied before each test, so a failed test leaves
    its rows to look at)."""
    from personacast.service.db import Base, make_engine
    from personacast.service.store import JobStore

    engine = make_engine(database_url)
    with engine.begin() as connection:
        tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"TRUNCATE {', '.join(tables)}")
        else:
            for table in tables:
                connection.exec_driver_sql(f"DELETE FROM {table}")
    job_store = JobStore(engine, lease_s=60, clock=clock)
    yield job_store
    job_store.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto S3 server in its own process on a free port, stopped after the session."""
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the moto server did not start: {log.read_text(errors='replace')[-2000:]}", pytrace=False)
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def aws_credentials(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fake credentials, and none of the machine's own AWS configuration."""
    nowhere = str(tmp_path_factory.mktemp("aws") / "none")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
            "AWS_CONFIG_FILE": nowhere, "AWS_SHARED_CREDENTIALS_FILE": nowhere,
        }.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        yield


@pytest.fixture(scope="session")
def s3_bucket(moto_endpoint: str, aws_credentials: None) -> str:
    """One bucket for the session; each test works under its own prefix in it."""
    from personacast.service.storage.s3 import S3Storage

    S3Storage.make_client("us-east-1", moto_endpoint).create_bucket(Bucket="personacast-test")
    return "personacast-test"


REDIS_URL = os.environ.get("PERSONACAST_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The tests' own Redis database (PERSONACAST_TEST_REDIS_URL; default: database 14 of
    the local server), emptied before and after each test. Like PostgreSQL, a missing
    Redis fails the tests (scripts/ensure-services.sh starts it)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis is not reachable at {REDIS_URL}: {exc}. Start it with: bash scripts/ensure-services.sh", pytrace=False
        )
    yield REDIS_URL
    client.flushdb()
    client.close()
