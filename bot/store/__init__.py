"""The database adapter: SQLModel tables, the compare-and-set store, Alembic migrations."""
