"""The environment state machine, as data."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ACTIVE_STATES", "TERMINAL_STATES", "State", "can_transition"]


class State(StrEnum):
    REQUESTED = "requested"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    DEPLOYING = "deploying"
    READY = "ready"
    EXPIRING = "expiring"
    DELETED = "deleted"
    DENIED = "denied"
    FAILED = "failed"
    # A warm pool's hub handed to a launch, which carries on in its namespace.
    CLAIMED = "claimed"


_NEXT: dict[State, frozenset[State]] = {
    State.REQUESTED: frozenset({State.PENDING_APPROVAL, State.APPROVED, State.DENIED}),
    # An owner may withdraw a request before it is deployed.
    State.PENDING_APPROVAL: frozenset({State.APPROVED, State.DENIED, State.DELETED}),
    State.APPROVED: frozenset({State.DEPLOYING, State.DELETED}),
    State.DEPLOYING: frozenset({State.READY, State.FAILED}),
    State.READY: frozenset({State.EXPIRING, State.CLAIMED}),
    State.EXPIRING: frozenset({State.DELETED}),
    State.DELETED: frozenset(),
    State.DENIED: frozenset(),
    State.FAILED: frozenset(),
    State.CLAIMED: frozenset(),
}

TERMINAL_STATES = frozenset(state for state, nxt in _NEXT.items() if not nxt)
ACTIVE_STATES = frozenset(State) - TERMINAL_STATES


def can_transition(current: State, target: State) -> bool:
    return target in _NEXT[current]
