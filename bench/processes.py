"""Start the pieces of a benchmark as separate processes (shared with the tests: see
:mod:`tests.support.processes`)."""

from __future__ import annotations

from tests.support.processes import REPO, bot_process, emulator_process, free_port, offline_cluster, wait_http

__all__ = ["REPO", "bot_process", "emulator_process", "free_port", "offline_cluster", "wait_http"]
