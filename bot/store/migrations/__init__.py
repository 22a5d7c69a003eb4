"""Alembic revisions of the bot's database schema; run them with :mod:`bot.migrate`."""
