"""Database schema migrations (Alembic): ``python -m bot migrate``, and at every start-up.

The revisions live in ``bot/migrations/versions/`` and ship with the package; no
``alembic.ini`` is involved. :func:`upgrade` brings a database to the newest revision:

- It is idempotent, and safe when several processes run it at once (replicas starting
  together, a migrate job beside a starting bot). Everything happens in one
  transaction that first takes a lock: a transaction-scoped advisory lock on
  PostgreSQL, ``BEGIN IMMEDIATE`` (the database's write lock) on SQLite. Both
  databases have transactional DDL, so a failed upgrade leaves no half-made schema,
  and whoever waited for the lock finds nothing left to do.
- A database made before migrations existed (tables created by ``create_all``, no
  ``alembic_version`` table) is *stamped* at the newest revision whose tables have
  exactly its columns, then upgraded from there. If its tables match no revision,
  nothing is changed and :class:`MigrationError` says what differs. A database with
  none of the bot's tables is migrated from scratch; other tables in it are ignored.

A new revision, after changing the models in :mod:`bot.store` (the database must be at
head; review the file it writes)::

    python -c 'from bot.migrate import autogenerate; autogenerate("what changed", "sqlite:///dev.db")'
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

__all__ = ["MIGRATIONS", "MigrationError", "autogenerate", "current", "head", "upgrade"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_VERSION_TABLE = "alembic_version"
# Any constant shared by every bot process: the key of PostgreSQL's advisory lock.
_PG_LOCK_KEY = 0x6A687562_626F74  # "jhubbot"
_CONNECT_TIMEOUT_S = 10
_SQLITE_BUSY_TIMEOUT_S = 60

Schema = dict[str, frozenset[str]]  # table name -> column names


class MigrationError(RuntimeError):
    """The database could not be reached or migrated; the message is one line."""


def upgrade(database_url: str) -> None:
    """Bring the database to the newest revision (see the module's documentation)."""
    with _transaction(database_url) as connection:
        config = _config(connection)
        if not inspect(connection).has_table(_VERSION_TABLE):
            stamp_at = _revision_of_unversioned(connection)
            if stamp_at is not None:
                command.stamp(config, stamp_at)
        command.upgrade(config, "head")


def current(database_url: str) -> str | None:
    """The database's revision; ``None`` when it has never been migrated."""
    with _transaction(database_url, lock=False) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head() -> str:
    """The newest revision shipped with this version of the bot."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None, f"no revisions in {MIGRATIONS}"
    return revision


def autogenerate(message: str, database_url: str) -> Path:
    """Write the next revision from the difference between the models and a database at head."""
    with _transaction(database_url, lock=False) as connection:
        previous = MigrationContext.configure(connection).get_current_revision()
        if previous != head():
            raise MigrationError(f"the database is at {previous}, not at head {head()}: upgrade it first")
        script = command.revision(_config(connection), message, autogenerate=True, rev_id=f"{int(head()) + 1:04d}")
    assert script is not None and not isinstance(script, list)
    return Path(script.path)


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@contextmanager
def _transaction(database_url: str, *, lock: bool = True) -> Iterator[Connection]:
    """One connection in one transaction, holding the migration lock if ``lock``;
    every failure to reach or change the database becomes a :class:`MigrationError`."""
    try:
        url = make_url(database_url)
    except (SQLAlchemyError, ValueError) as exc:
        raise MigrationError(f"not a database URL: {_first_line(exc)}") from None
    shown = url.render_as_string(hide_password=True)
    engine: Engine | None = None
    try:
        engine = _engine(url, lock=lock)
        with engine.begin() as connection:
            if lock and connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            yield connection
    except MigrationError as exc:
        raise MigrationError(f"{shown}: {exc}") from exc.__cause__
    except (SQLAlchemyError, CommandError, ImportError, OSError) as exc:
        raise MigrationError(f"{shown}: {_first_line(exc)}") from exc
    finally:
        if engine is not None:
            engine.dispose()


def _engine(url: URL, *, lock: bool) -> Engine:
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:") or url.query.get("mode") == "memory":
            raise MigrationError("an in-memory SQLite database cannot be migrated by URL")
        engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_S})
        if lock:
            _sqlite_locking_transactions(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if url.get_driver_name() in ("psycopg", "psycopg2") and "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = _CONNECT_TIMEOUT_S
    return create_engine(url, poolclass=NullPool, connect_args=connect_args)


def _sqlite_locking_transactions(engine: Engine) -> None:
    # Python's sqlite3 module begins transactions itself, only before DML, so DDL would
    # run outside any transaction. Take that over: begin every transaction ourselves,
    # with the write lock, so DDL is atomic and concurrent upgrades queue up.
    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _revision_of_unversioned(connection: Connection) -> str | None:
    """The revision to stamp a database without a version table at; ``None`` if it has none of our tables."""
    schemas = _revision_schemas()
    ours = set().union(*schemas.values())
    inspector = inspect(connection)
    found: Schema = {
        table: frozenset(column["name"] for column in inspector.get_columns(table))
        for table in set(inspector.get_table_names()) & ours
    }
    if not found:
        return None
    for revision, schema in reversed(schemas.items()):
        if found == schema:
            return revision
    latest = schemas[head()]
    differences = [f"no table {table}" for table in sorted(latest.keys() - found.keys())]
    differences += [f"table {table} is not ours" for table in sorted(found.keys() - latest.keys())]
    for table in sorted(found.keys() & latest.keys()):
        differences += [f"no column {table}.{column}" for column in sorted(latest[table] - found[table])]
        differences += [f"extra column {table}.{column}" for column in sorted(found[table] - latest[table])]
    raise MigrationError(
        f"the bot's tables exist without an {_VERSION_TABLE} table and match no revision "
        f"(compared with {head()}: {', '.join(differences)}); migrate or stamp it by hand"
    )


def _revision_schemas() -> dict[str, Schema]:
    """Tables and columns after each revision, oldest first, from a scratch in-memory SQLite."""
    revisions = [script.revision for script in ScriptDirectory.from_config(_config()).walk_revisions()]
    schemas: dict[str, Schema] = {}
    scratch = create_engine("sqlite://")
    try:
        with scratch.connect() as connection:
            config = _config(connection)
            for revision in reversed(revisions):
                command.upgrade(config, revision)
                inspector = inspect(connection)
                schemas[revision] = {
                    table: frozenset(column["name"] for column in inspector.get_columns(table))
                    for table in inspector.get_table_names()
                    if table != _VERSION_TABLE
                }
    finally:
        scratch.dispose()
    return schemas


def _first_line(exc: BaseException) -> str:
    # A DBAPIError's own text adds the SQL statement and a link; the driver's first line says it all.
    cause: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return lines[0] if lines else type(cause).__name__
