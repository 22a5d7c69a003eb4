"""The README documents every setting the bot reads."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_in_the_readme() -> None:
    missing = [name for name, _default, _help in Settings.describe() if f"`{name}`" not in README]
    assert missing == []


def test_readme_names_the_two_commands() -> None:
    assert "make run" in README and "make test" in README
