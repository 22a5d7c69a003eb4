"""Telling the person running the tests what is going on while a long step runs."""

from __future__ import annotations

import pytest

__all__ = ["say"]


def say(config: pytest.Config, message: str) -> None:
    """Print past pytest's output capturing, so a long build or install is not silent."""
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        print(message)
        return
    with capture.global_and_fixture_disabled():
        print(f"\n{message}", flush=True)
