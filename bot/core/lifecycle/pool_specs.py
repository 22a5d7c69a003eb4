"""Which warm pool serves a launch, and what its hubs must be made from."""

from __future__ import annotations

import hashlib
import json

from bot.core.lifecycle.context import Context
from bot.core.policy import Policy
from bot.core.policy.model import Pool

__all__ = ["PoolSpecs", "spec_hash"]


def spec_hash(policy: Policy, pool: Pool, chart_version: str) -> str:
    """What a pool's hubs are made from, as a short digest: when the chart, the profile, the
    cluster's settings for hubs or the hubs' idle timeout change, so does this, and the
    pool's hubs made from the old one are replaced."""
    material = {
        "chart": chart_version,
        "profile": policy.profiles[pool.profile].model_dump(mode="json", exclude={"description"}),
        "cluster": policy.clusters[pool.cluster].model_dump(mode="json", exclude={"pool_limit"}),
        "idle_timeout": int(policy.defaults.idle_timeout.total_seconds()),
        "namespace_prefix": policy.defaults.namespace_prefix,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:32]


class PoolSpecs:
    """Which pool serves a launch, and what its hubs must be made from now."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def serving(self, profile: str, cluster: str) -> str | None:
        """The pool whose hubs a launch of ``profile`` on ``cluster`` takes (at most one:
        the policy checks refuse two pools of the same profile and cluster)."""
        return next(
            (
                name
                for name, pool in self.ctx.policy.pools.items()
                if pool.profile == profile and pool.cluster == cluster
            ),
            None,
        )

    async def spec(self, name: str) -> str:
        pool = self.ctx.policy.pools[name]
        return spec_hash(self.ctx.policy, pool, await self.ctx.deployer.chart_version(pool.cluster))
