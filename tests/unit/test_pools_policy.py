"""Warm pools in the policy: sizes by schedule, and checks that keep them from eating a cluster."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from bot.core.policy import load_policy
from bot.core.policy.load import PolicyLoadError
from bot.core.policy.model import Pool

COURSE = {
    "profile": "small",
    "cluster": "dev",
    "size": 2,
    "timezone": "Europe/Berlin",
    "schedule": [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:45", "to": "10:00", "size": 30},
        {"from": "22:00", "to": "06:00", "size": 0},
    ],
}


@pytest.mark.parametrize(
    ("when", "size"),
    [
        (datetime(2026, 11, 30, 7, 50, tzinfo=UTC), 30),  # Monday 08:50 in Berlin: class starts
        (datetime(2026, 11, 30, 7, 40, tzinfo=UTC), 2),  # 08:40: not yet
        (datetime(2026, 11, 30, 9, 0, tzinfo=UTC), 2),  # 10:00: over
        (datetime(2026, 12, 5, 7, 50, tzinfo=UTC), 2),  # Saturday: no class
        (datetime(2026, 11, 30, 22, 30, tzinfo=UTC), 0),  # 23:30: night
        (datetime(2026, 12, 1, 4, 30, tzinfo=UTC), 0),  # Tuesday 05:30: still the night that began Monday
    ],
)
def test_a_pool_keeps_the_size_of_the_first_window_that_covers_now(when: datetime, size: int) -> None:
    assert Pool.model_validate(COURSE).size_at(when) == size


def _write(directory: Path, pools: dict[str, object], pool_limit: int) -> None:
    policy = {
        "roles": {"users": {"members": ["user:U0A"], "allow": ["launch"], "profiles": ["small"], "clusters": ["dev"]}},
        "profiles": {
            "small": {"image": "i:1", "cpu": "1", "memory": "1Gi"},
            "big": {"image": "i:1", "cpu": "4", "memory": "8Gi"},
        },
        "clusters": {"dev": {"pool_limit": pool_limit}},
        "pools": pools,
    }
    (directory / "pools.yaml").write_text(yaml.safe_dump(policy))


def test_pools_within_the_clusters_limit_load(tmp_path: Path) -> None:
    _write(tmp_path, {"course": COURSE}, pool_limit=30)
    assert load_policy(tmp_path).pools["course"].largest == 30


def test_pools_that_could_eat_the_cluster_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, {"course": COURSE, "lab": {"profile": "big", "cluster": "dev", "size": 12}}, pool_limit=40)
    with pytest.raises(PolicyLoadError) as refused:
        load_policy(tmp_path)
    [problem] = [str(p) for p in refused.value.problems]
    assert "clusters.dev.pool_limit: its pools may keep 42 hubs ready at once (course: 30, lab: 12)" in problem


def test_two_pools_of_one_profile_on_one_cluster_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, {"course": COURSE, "extra": {"profile": "small", "cluster": "dev", "size": 1}}, pool_limit=40)
    with pytest.raises(PolicyLoadError) as refused:
        load_policy(tmp_path)
    [problem] = [str(p) for p in refused.value.problems]
    assert "pools.extra: pool 'course' already keeps hubs of profile 'small' on 'dev'" in problem


@pytest.mark.parametrize(
    ("pool", "said"),
    [
        ({**COURSE, "profile": "huge"}, "pools.course.profile: unknown profile 'huge'"),
        ({**COURSE, "timezone": "Mars/Olympus"}, "is not a time zone"),
        ({**COURSE, "schedule": [{"from": "8:45", "to": "10:00", "size": 3}]}, "is not a time of day"),
        ({**COURSE, "schedule": [{"days": ["someday"], "from": "08:45", "to": "10:00", "size": 3}]}, "'mon', 'tue'"),
    ],
)
def test_pool_mistakes_are_named(tmp_path: Path, pool: dict[str, object], said: str) -> None:
    _write(tmp_path, {"course": pool}, pool_limit=100)
    with pytest.raises(PolicyLoadError) as refused:
        load_policy(tmp_path)
    assert any(said in str(p) for p in refused.value.problems), refused.value.problems


def test_a_cluster_allows_no_pool_unless_it_says_how_many(tmp_path: Path) -> None:
    _write(tmp_path, {"course": COURSE}, pool_limit=0)
    with pytest.raises(PolicyLoadError) as refused:
        load_policy(tmp_path)
    assert "more than its pool_limit of 0" in str(refused.value.problems[0])
