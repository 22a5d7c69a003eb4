"""The real Helm deployer, wrapped so a benchmark can tell Helm's part of a launch apart."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from bot.core.ports import Deployed, HubRequest, Progress
from bot.helm.deployer import HelmDeployer

__all__ = ["TimedDeployer"]


@dataclass
class TimedDeployer:
    """The real Helm deployer, with the time each deploy spends inside it recorded."""

    inner: HelmDeployer
    inside: dict[str, float] = field(default_factory=dict)

    async def deploy(self, request: HubRequest, progress: Progress) -> Deployed:
        started = time.perf_counter()
        try:
            return await self.inner.deploy(request, progress)
        finally:
            self.inside[request.target.namespace] = time.perf_counter() - started

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
