"""Reading image pull failures from pod statuses, and when to give up on them."""

from __future__ import annotations

from typing import Any

from bot.core.problems import ImagePullFailed
from bot.helm.image_pulls import PullFailure, PullWatch, pull_failures
from bot.slack.wording import describe


def _pod(name: str, *containers: tuple[str, str, str | None], init: bool = False) -> dict[str, Any]:
    """A pod whose containers are (name, image, waiting reason or None for running)."""
    statuses = [
        {"name": c, "image": image, "state": {"waiting": {"reason": reason}} if reason else {"running": {}}}
        for c, image, reason in containers
    ]
    specs = [{"name": c, "image": image} for c, image, _ in containers]
    kind = "initContainer" if init else "container"
    return {"metadata": {"name": name}, "spec": {f"{kind}s": specs}, "status": {f"{kind}Statuses": statuses}}


def test_only_containers_waiting_on_their_image_count() -> None:
    pods = [
        _pod("hub-1", ("hub", "registry.invalid/hub:1", "ImagePullBackOff")),
        _pod("proxy-1", ("chp", "quay.io/chp:5", None)),
        _pod("other-1", ("app", "quay.io/app:1", "ContainerCreating")),
        _pod("init-1", ("setup", "bad image name", "InvalidImageName"), init=True),
        {"metadata": {"name": "fresh"}},  # no status yet
    ]
    assert list(pull_failures(pods)) == [
        PullFailure(pod="hub-1", container="hub", image="registry.invalid/hub:1", reason="ImagePullBackOff"),
        PullFailure(pod="init-1", container="setup", image="bad image name", reason="InvalidImageName"),
    ]


def test_the_message_names_the_image_and_what_to_check() -> None:
    message = describe(ImagePullFailed(image="registry.invalid/hub:1", reason="ErrImagePull", container="hub"))
    assert "`registry.invalid/hub:1` could not be pulled (ErrImagePull, container `hub`)" in message
    assert "name and tag" in message


def test_a_retried_pull_is_given_up_only_after_the_grace_period() -> None:
    now = [100.0]
    watch = PullWatch(30, clock=lambda: now[0])
    failing = [PullFailure(pod="hub-1", container="hub", image="x.invalid/hub:1", reason="ErrImagePull")]
    assert watch.observe(failing) is None
    now[0] += 29
    assert watch.observe(failing) is None
    now[0] += 1
    assert watch.observe(failing) == failing[0]


def test_a_pull_that_recovers_starts_the_grace_period_again() -> None:
    now = [0.0]
    watch = PullWatch(30, clock=lambda: now[0])
    failing = [PullFailure(pod="hub-1", container="hub", image="x.invalid/hub:1", reason="ImagePullBackOff")]
    assert watch.observe(failing) is None
    now[0] += 20
    assert watch.observe([]) is None  # the kubelet's retry worked for a moment
    now[0] += 20
    assert watch.observe(failing) is None
    now[0] += 30
    assert watch.observe(failing) == failing[0]


def test_a_hopeless_image_is_given_up_at_once() -> None:
    watch = PullWatch(600, clock=lambda: 0.0)
    hopeless = PullFailure(pod="hub-1", container="hub", image="Not A Name", reason="InvalidImageName")
    assert watch.observe([hopeless]) == hopeless
