"""Helm's failures in the requester's words."""

from __future__ import annotations

import pyhelm3.errors as helm_errors
import pytest

from bot.core.errors import InvalidChartValues
from bot.core.problems import ClusterUnreachable
from bot.helm.deployer import _helm_problem
from bot.slack.wording import describe


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
    assert _helm_problem(_error(stderr), 600).problem == ClusterUnreachable()


def test_a_failed_wait_while_the_cluster_is_gone_is_said_plainly() -> None:
    error = _error("Error: resource Deployment/ns/hub-proxy not ready. status: Unknown, message:")
    assert _helm_problem(error, 600, reachable=False).problem == ClusterUnreachable()


def test_timeouts_name_the_real_duration() -> None:
    message = describe(_helm_problem(_error("Error: INSTALLATION FAILED: context deadline exceeded"), 90).problem)
    assert message.startswith("The hub did not become ready within 1m 30s")


def test_schema_refusals_keep_the_schema_words() -> None:
    problem = _helm_problem(_error("Error: values don't meet the specifications of the schema(s)\n- at '/hub': x"), 60)
    assert isinstance(problem, InvalidChartValues) and "at '/hub': x" in describe(problem.problem)


def test_anything_else_keeps_helms_last_line() -> None:
    message = describe(
        _helm_problem(_error("Error: something odd\nError: rendered manifests contain a problem"), 60).problem
    )
    assert message == "Helm could not install the hub: rendered manifests contain a problem"
