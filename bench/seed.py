"""Fill a database with ready environments, for the benchmarks that need many of them."""

from __future__ import annotations

from datetime import timedelta

from bot.core.states import State
from bot.store.sql import SqlStore

__all__ = ["seed_ready"]


def seed_ready(store: SqlStore, count: int, url_for: object = None) -> list[str]:
    """``count`` ready environments owned by 100 people; ``url_for(i)`` gives each hub's URL."""
    ids = []
    for i in range(count):
        env = store.create_environment(
            name=f"hub{i}",
            owner_id=f"U{i % 100:06d}",
            profile="small",
            cluster="dev",
            lifetime=timedelta(hours=8),
            max_environments=count,
            namespace_prefix="jh-",
            actor="bench",
        )
        now = store.clock()
        url = url_for(i) if callable(url_for) else f"http://hubs.example.test/{env.namespace}/"
        for expected, target in ((State.REQUESTED, State.APPROVED), (State.APPROVED, State.DEPLOYING)):
            store.transition(env.id, expected, target, actor="bench", action="seed")
        store.transition(
            env.id,
            State.DEPLOYING,
            State.READY,
            actor="bench",
            action="seed",
            ready_at=now,
            expires_at=now + timedelta(hours=8),
            url=url,
        )
        ids.append(env.id)
    return ids
