"""Helm's failures in the requester's words."""

from __future__ import annotations

import pyhelm3.errors as helm_errors
import pytest

from bot.deployer import UNREACHABLE, _helm_problem
from bot.errors import InvalidChartValues


def _error(stderr: str) -> helm_errors.Error:
    return helm_errors.Error(1, b"", stderr.encode())


@pytest.mark.parametrize(
    "stderr",
    [
        'Error: kubernetes cluster unreachable: Get "https://10.0.0.1:6443/version": connection refused',
        'Error: INSTALLATION FAILED: Patch "https://10.0.0.1:6443/apis/apps/v1/...": read: connection reset by peer',
        "Error: INSTALLATION FAILED: net/http: TLS handshake timeout",
    ],
)
def test_a_lost_api_server_is_said_plainly_without_addresses(stderr: str) -> None:
    message = _helm_problem(_error(stderr), 600).user_message
    assert message == UNREACHABLE


def test_a_failed_wait_while_the_cluster_is_gone_is_said_plainly() -> None:
    error = _error("Error: resource Deployment/ns/hub-proxy not ready. status: Unknown, message:")
    assert _helm_problem(error, 600, reachable=False).user_message == UNREACHABLE


def test_timeouts_name_the_real_duration() -> None:
    message = _helm_problem(_error("Error: INSTALLATION FAILED: context deadline exceeded"), 90).user_message
    assert message.startswith("The hub did not become ready within 1m 30s")


def test_schema_refusals_keep_the_schema_words() -> None:
    problem = _helm_problem(_error("Error: values don't meet the specifications of the schema(s)\n- at '/hub': x"), 60)
    assert isinstance(problem, InvalidChartValues) and "at '/hub': x" in problem.user_message


def test_anything_else_keeps_helms_last_line() -> None:
    message = _helm_problem(
        _error("Error: something odd\nError: rendered manifests contain a problem"), 60
    ).user_message
    assert message == "Helm could not install the hub: rendered manifests contain a problem"
