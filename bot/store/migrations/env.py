"""Alembic environment. :mod:`bot.migrate` runs it and always supplies the connection."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

import bot.store.sql  # noqa: F401  (registers the tables on SQLModel.metadata, for autogenerate)


def _render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Our column types (UTCDateTime, SQLModel's AutoString) are stored as their plain
    # SQLAlchemy type, so revisions never import the bot's code, which will change.
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl_instance!r}"
    return False


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("run migrations with bot.migrate (python -m bot migrate), which supplies the connection")
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        # SQLite alters most things only by copying the table: batch mode does that.
        render_as_batch=True,
        render_item=_render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_run()
