"""Every lifecycle rule, asserted on the notices the core sends and the records it keeps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core import notices as n
from bot.core import problems
from bot.core.errors import Conflict, LifetimeTooLong, NotAllowed, QuotaExceeded
from bot.core.ports import ActivityUnknown
from bot.core.states import State
from tests.core.conftest import ADMIN, NOBODY, OTHER_ADMIN, OWNER, RESEARCHER, Core
from tests.support.stand_ins import ADMINS

# -- launching and approval ------------------------------------------------------------------


async def test_a_launch_without_approval_deploys_and_sends_the_login_to_the_owner_only(core: Core) -> None:
    env = await core.ready("lab")
    assert env.url and env.expires_at == env.ready_at + timedelta(hours=8)  # type: ignore[operator]
    [login] = core.notifier.to(OWNER.user_id, n.Credentials)
    password = core.deployer.releases[env.namespace]["secrets"].admin_password
    assert login.password == password and login.username == "admin"
    assert [who for who, notice in core.notifier.sent if isinstance(notice, n.Credentials)] == [OWNER.user_id]
    steps = [
        p.done
        for p in (notice for _, notice in core.notifier.sent + core.notifier.revised)
        if isinstance(p, n.DeployProgress)
    ]
    assert steps[-1] == n.NEW_HUB_STEPS
    assert core.metrics.launches == ["ready"]


async def test_someone_without_a_role_may_not_launch_and_nothing_is_recorded(core: Core) -> None:
    with pytest.raises(NotAllowed) as refused:
        await core.launch(NOBODY, "mine")
    assert refused.value.problem.action is problems.Action.LAUNCH  # type: ignore[attr-defined]
    assert core.store.list_active() == [] and core.notifier.sent == []


async def test_a_request_that_needs_approval_waits_for_an_admin_and_deploys_once_approved(core: Core) -> None:
    env = await core.launch(RESEARCHER, "thesis")
    assert env.state is State.PENDING_APPROVAL and core.deployer.deploys == []
    [asked] = core.notifier.to(ADMINS, n.ApprovalRequest)
    assert asked.env.id == env.id and env.approval_message is not None

    with pytest.raises(NotAllowed):
        await core.lifecycle.approvals.decide(OWNER, env.id, approve=True)
    await core.lifecycle.approvals.decide(ADMIN, env.id, approve=True)
    await core.lifecycle.drain()
    assert core.get(env.id).state is State.READY
    [(where, decided)] = core.notifier.revised[:1]
    assert where == env.approval_message and isinstance(decided, n.ApprovalDecided) and decided.approved
    [told] = core.notifier.to(RESEARCHER.user_id, n.RequestDecided)
    assert told.approved and told.by == ADMIN.user_id

    with pytest.raises(Conflict) as again:
        await core.lifecycle.approvals.decide(ADMIN, env.id, approve=False)
    assert again.value.problem == problems.AlreadyDecided("thesis", State.READY)
    assert len(core.deployer.deploys) == 1


async def test_a_denied_request_is_never_deployed_and_frees_its_slot(core: Core) -> None:
    env = await core.launch(RESEARCHER, "nope")
    await core.lifecycle.approvals.decide(ADMIN, env.id, approve=False)
    await core.lifecycle.drain()
    denied = core.get(env.id)
    assert denied.state is State.DENIED and denied.quota_slot is None and core.deployer.deploys == []
    [told] = core.notifier.to(RESEARCHER.user_id, n.RequestDecided)
    assert not told.approved


async def test_quota_counts_active_environments(core: Core) -> None:
    await core.ready("one")
    await core.ready("two")
    with pytest.raises(QuotaExceeded) as full:
        await core.launch(OWNER, "three")
    assert full.value.problem == problems.QuotaExceeded(active=2, limit=2)


async def test_a_failed_deploy_is_rolled_back_and_frees_the_quota(core: Core) -> None:
    core.deployer.fail_next = problems.DeployTimedOut(600)
    env = await core.launch(OWNER, "doomed")
    assert env.state is State.FAILED and env.quota_slot is None
    assert env.failure == problems.DeployTimedOut(600)
    assert [t.namespace for t in core.deployer.teardowns] == [env.namespace]
    [failed] = core.notifier.to(OWNER.user_id, n.DeployFailed)
    assert failed.cleaned_up and failed.problem == problems.DeployTimedOut(600)
    assert core.notifier.to(OWNER.user_id, n.Credentials) == []
    assert core.metrics.launches == ["failed"]


async def test_a_rollback_that_cannot_clean_up_tells_the_admins(core: Core) -> None:
    core.deployer.fail_next = problems.ClusterUnreachable()
    core.deployer.fail_teardowns = 1
    env = await core.launch(OWNER, "stranded")
    [failed] = core.notifier.to(OWNER.user_id, n.DeployFailed)
    assert not failed.cleaned_up
    [orphan] = core.notifier.to(ADMINS, n.OrphanFound)
    assert (orphan.cluster, orphan.namespace, orphan.env_id) == ("dev", env.namespace, env.id)


# -- owner actions ---------------------------------------------------------------------------


async def test_extensions_stop_at_the_roles_count_and_maximum_lifetime(core: Core) -> None:
    env = await core.ready()
    extended = await core.lifecycle.owner.extend(OWNER, "lab", timedelta(hours=4))
    assert extended.expires_at == env.expires_at + timedelta(hours=4)  # type: ignore[operator]
    with pytest.raises(LifetimeTooLong) as too_long:
        await core.lifecycle.owner.extend(OWNER, "lab", timedelta(hours=20))
    assert isinstance(too_long.value.problem, problems.PastMaxLifetime)
    await core.lifecycle.owner.extend(OWNER, "lab", timedelta(hours=1))
    with pytest.raises(LifetimeTooLong) as capped:
        await core.lifecycle.owner.extend(OWNER, "lab", timedelta(minutes=5))
    assert capped.value.problem == problems.ExtensionLimitReached("lab", 2, 2)
    # Admins are not bound by the owner's caps.
    await core.lifecycle.owner.extend_environment(ADMIN, env.id, timedelta(days=3))
    assert core.get(env.id).extensions == 3


async def test_only_a_ready_environment_can_be_extended(core: Core) -> None:
    env = await core.launch(RESEARCHER, "waiting")
    with pytest.raises(Conflict) as refused:
        await core.lifecycle.owner.extend(RESEARCHER, "waiting", None)
    assert refused.value.problem == problems.WrongState("waiting", State.PENDING_APPROVAL, problems.Action.EXTEND)
    assert core.get(env.id).extensions == 0


async def test_the_owner_deletes_and_is_told_when_it_is_gone(core: Core) -> None:
    env = await core.ready()
    with pytest.raises(NotAllowed):
        await core.lifecycle.owner.delete(RESEARCHER, env.id)
    await core.lifecycle.owner.delete(OWNER, env.id)
    await core.lifecycle.drain()
    assert core.get(env.id).state is State.DELETED
    [gone] = core.notifier.to(OWNER.user_id, n.Removed)
    assert gone.removal.reason is n.RemovalReason.OWNER_DELETED
    assert env.namespace not in core.deployer.releases and env.id in core.activity.forgotten


async def test_a_pending_request_is_withdrawn_without_a_teardown(core: Core) -> None:
    env = await core.launch(RESEARCHER, "changed-mind")
    await core.lifecycle.owner.delete(RESEARCHER, env.id)
    assert core.get(env.id).state is State.DELETED and core.deployer.teardowns == []


async def test_an_admin_expires_anyones_environment_once(core: Core) -> None:
    env = await core.ready()
    with pytest.raises(NotAllowed):
        await core.lifecycle.admin.expire(OWNER, env.id)
    await core.lifecycle.admin.expire(ADMIN, env.id)
    with pytest.raises(Conflict):
        await core.lifecycle.admin.expire(ADMIN, env.id)
    await core.lifecycle.drain()
    [gone] = core.notifier.to(OWNER.user_id, n.Removed)
    assert gone.removal == n.Removal(n.RemovalReason.ADMIN_EXPIRED, by=ADMIN.user_id)
    assert len(core.deployer.teardowns) == 1


# -- time: expiry, warnings, idleness ---------------------------------------------------------


async def test_expiry_warns_once_per_lead_time_then_removes(core: Core) -> None:
    env = await core.ready()
    assert env.expires_at is not None
    core.clock.now = env.expires_at - timedelta(minutes=59)
    assert await core.lifecycle.watch.warn_expiring() == 1
    assert await core.lifecycle.watch.warn_expiring() == 0
    core.clock.now = env.expires_at - timedelta(minutes=9)
    assert await core.lifecycle.watch.warn_expiring() == 1
    assert [w.left for w in core.notifier.to(OWNER.user_id, n.ExpiryWarning)] == [
        timedelta(minutes=59),
        timedelta(minutes=9),
    ]
    assert await core.lifecycle.teardowns.expire_due() == 0
    core.clock.now = env.expires_at
    assert await core.lifecycle.teardowns.expire_due() == 1
    await core.lifecycle.drain()
    [gone] = core.notifier.to(OWNER.user_id, n.Removed)
    assert gone.removal.reason is n.RemovalReason.LIFETIME_ENDED
    assert core.get(env.id).state is State.DELETED


async def test_an_idle_hub_is_warned_then_removed_after_the_grace_period(core: Core) -> None:
    env = await core.ready()
    core.activity.latest[env.id] = None  # nobody ever logged in
    core.later(timedelta(hours=1))
    assert (await core.lifecycle.watch.sweep_idle()).warned == 0
    core.later(timedelta(hours=1))
    assert (await core.lifecycle.watch.sweep_idle()).warned == 1
    assert (await core.lifecycle.watch.sweep_idle()).warned == 0
    [warning] = core.notifier.to(OWNER.user_id, n.IdleWarning)
    assert warning.idle_for == timedelta(hours=2) and warning.grace == timedelta(minutes=30)
    core.later(timedelta(minutes=30))
    assert (await core.lifecycle.watch.sweep_idle()).removed == 1
    await core.lifecycle.drain()
    [gone] = core.notifier.to(OWNER.user_id, n.Removed)
    assert gone.removal.reason is n.RemovalReason.IDLE and core.get(env.id).state is State.DELETED


async def test_keep_restarts_the_idle_clock(core: Core) -> None:
    env = await core.ready()
    core.activity.latest[env.id] = None
    core.later(timedelta(hours=2))
    await core.lifecycle.watch.sweep_idle()
    kept = await core.lifecycle.owner.keep(OWNER, env.id)
    assert kept.idle_warned_at is None
    core.later(timedelta(minutes=45))
    report = await core.lifecycle.watch.sweep_idle()
    assert report.removed == 0 and report.warned == 0
    assert core.get(env.id).state is State.READY


async def test_use_after_the_warning_cancels_the_removal(core: Core) -> None:
    env = await core.ready()
    core.activity.latest[env.id] = None
    core.later(timedelta(hours=2))
    await core.lifecycle.watch.sweep_idle()
    core.later(timedelta(minutes=10))
    core.activity.latest[env.id] = core.clock.now
    core.later(timedelta(minutes=25))
    assert (await core.lifecycle.watch.sweep_idle()).removed == 0
    assert core.get(env.id).idle_warned_at is None


async def test_a_hub_that_does_not_answer_is_never_idle_and_the_admins_hear_once(core: Core) -> None:
    env = await core.ready()
    core.activity.latest[env.id] = ActivityUnknown("connection refused")
    core.later(timedelta(hours=5))
    for _ in range(4):
        report = await core.lifecycle.watch.sweep_idle()
        assert report.unreachable == 1 and report.warned == 0 and report.removed == 0
    assert len(core.notifier.to(ADMINS, n.HubUnreachable)) == 1
    assert core.get(env.id).state is State.READY


# -- recovery and reconciliation ------------------------------------------------------------------


async def test_a_failed_teardown_stays_expiring_and_is_resumed_once_its_claim_lapses(core: Core) -> None:
    env = await core.ready()
    core.deployer.fail_teardowns = 1
    await core.lifecycle.owner.delete(OWNER, env.id)
    await core.lifecycle.drain()
    assert core.get(env.id).state is State.EXPIRING and core.metrics.teardowns == ["failed"]
    assert await core.lifecycle.resume() == 0  # its claim still holds
    core.later(timedelta(minutes=1))
    assert await core.lifecycle.resume() == 1
    await core.lifecycle.drain()
    assert core.get(env.id).state is State.DELETED
    assert await core.lifecycle.resume() == 0


async def test_reconcile_reports_orphans_and_missing_releases_once_and_deletes_nothing(core: Core) -> None:
    env = await core.ready()
    stray = await core.ready("stray")
    core.store.transition(stray.id, State.READY, State.EXPIRING, actor="test", action="expire")
    core.store.transition(stray.id, State.EXPIRING, State.DELETED, actor="test", action="deleted")
    core.deployer.releases.pop(env.namespace)
    findings = await core.lifecycle.watch.reconcile()
    assert sorted(findings) == sorted([f"orphan:dev/{stray.namespace}", f"missing:{env.id}"])
    assert await core.lifecycle.watch.reconcile() == findings
    assert len(core.notifier.to(ADMINS, n.OrphanFound)) == 1
    assert len(core.notifier.to(ADMINS, n.MissingRelease)) == 1
    assert core.deployer.teardowns == []
    removed = await core.lifecycle.admin.remove_orphan(ADMIN, f"dev/{stray.namespace}")
    assert removed == stray.namespace and stray.namespace not in core.deployer.releases


async def test_an_admin_cannot_approve_their_own_request_but_another_admin_can(core: Core) -> None:
    env = await core.launch(ADMIN, "mine")
    assert env.state is State.PENDING_APPROVAL
    with pytest.raises(NotAllowed) as refused:
        await core.lifecycle.approvals.decide(ADMIN, env.id, approve=True)
    assert refused.value.problem == problems.NotAllowed(problems.Action.APPROVE_OWN)
    assert core.get(env.id).state is State.PENDING_APPROVAL
    await core.lifecycle.approvals.decide(OTHER_ADMIN, env.id, approve=True)
    await core.lifecycle.drain()
    assert core.get(env.id).state is State.READY


async def test_withdrawing_a_request_updates_its_approval_post(core: Core) -> None:
    env = await core.launch(RESEARCHER, "changed-mind-again")
    await core.lifecycle.owner.delete(RESEARCHER, env.id)
    [(where, notice)] = core.notifier.revised
    assert where == env.approval_message and isinstance(notice, n.ApprovalWithdrawn)


async def test_creds_give_the_url_the_hub_answers_at_now(core: Core) -> None:
    env = await core.ready()
    core.deployer.urls[env.namespace] = "http://10.1.2.3:31000/"  # its first node was replaced
    shown, _ = await core.lifecycle.owner.send_credentials(OWNER, "lab")
    assert shown.url == "http://10.1.2.3:31000/" and core.get(env.id).url == "http://10.1.2.3:31000/"
    assert core.notifier.to(OWNER.user_id, n.Credentials)[-1].env.url == "http://10.1.2.3:31000/"
