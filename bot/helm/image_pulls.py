"""Containers that cannot start because their image cannot be pulled, read from pod statuses.

Helm's wait only sees that a Deployment is not Available; it would wait out the whole
deploy timeout for an image that will never arrive. The deployer reads the pods while
Helm waits and gives up early, naming the image, once a pull has failed for longer
than a grace period (a registry can fail once and succeed on the kubelet's retry).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["HOPELESS", "RETRIED", "PullFailure", "PullWatch", "pull_failures"]

# The kubelet retries these with a back-off; they may still succeed.
RETRIED = frozenset({"ErrImagePull", "ImagePullBackOff"})
# No retry can fix these.
HOPELESS = frozenset({"InvalidImageName", "ErrImageNeverPull"})


@dataclass(frozen=True)
class PullFailure:
    pod: str
    container: str
    image: str
    reason: str


def pull_failures(pods: Iterable[Mapping[str, Any]]) -> Iterator[PullFailure]:
    """Every container, init containers included, waiting on an image it cannot pull.

    ``pods`` are Pod objects as the API server sends them (JSON)."""
    for pod in pods:
        name = str((pod.get("metadata") or {}).get("name", ""))
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        spec_images = {c.get("name"): c.get("image") for c in _both(spec, "initContainers", "containers")}
        for container in _both(status, "initContainerStatuses", "containerStatuses"):
            waiting = (container.get("state") or {}).get("waiting") or {}
            reason = waiting.get("reason")
            if reason in RETRIED or reason in HOPELESS:
                container_name = str(container.get("name", ""))
                image = str(spec_images.get(container_name) or container.get("image", ""))
                yield PullFailure(pod=name, container=container_name, image=image, reason=str(reason))


def _both(obj: Mapping[str, Any], first: str, second: str) -> list[Mapping[str, Any]]:
    return [*(obj.get(first) or []), *(obj.get(second) or [])]


class PullWatch:
    """Remembers since when each failing pull has been failing, across successive reads."""

    def __init__(self, grace_seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._grace = grace_seconds
        self._clock = clock
        self._failing_since: dict[tuple[str, str], float] = {}

    def observe(self, failures: Iterable[PullFailure]) -> PullFailure | None:
        """The failure to give up on, if any, given what the pods show now."""
        now = self._clock()
        current = {(f.container, f.image): f for f in failures}
        # A pull that recovered (or a pod that went away) starts from zero next time.
        self._failing_since = {key: since for key, since in self._failing_since.items() if key in current}
        for key, failure in current.items():
            since = self._failing_since.setdefault(key, now)
            if failure.reason in HOPELESS or now - since >= self._grace:
                return failure
        return None
