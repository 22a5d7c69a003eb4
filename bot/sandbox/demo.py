"""The sandbox's demo workspace: its people, its channels and the policy that gives them rights."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ADMIN", "ADMIN_CHANNEL", "CHANNELS", "GENERAL", "PEOPLE", "POLICIES", "SCIENTIST", "STUDENT", "Person"]

# The demo policy (bot/sandbox/policies/): valid for `python -m bot check-policies`.
POLICIES = Path(__file__).resolve().parent / "policies"


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    role: str  # what the policy lets them do, in a few words

    def users_info(self) -> dict[str, Any]:
        """What ``users.info`` says about them, beyond a full member's defaults."""
        return {"name": self.name.split()[0].lower(), "real_name": self.name, "profile": {"real_name": self.name}}


STUDENT = Person("U0STUDENT", "Sam Student", "student: launches at once, one hub at a time")
SCIENTIST = Person("U0SCIENTIST", "Dana Scientist", "data scientist: every launch needs an admin's approval")
ADMIN = Person("U0ADMIN", "Alex Admin", "platform admin: approves, denies and expires hubs")
PEOPLE = (STUDENT, SCIENTIST, ADMIN)

GENERAL = "CGENERAL"
ADMIN_CHANNEL = "C0ADMINS"
# Channel ID -> (name, members).
CHANNELS: dict[str, tuple[str, tuple[str, ...]]] = {
    GENERAL: ("general", tuple(person.id for person in PEOPLE)),
    ADMIN_CHANNEL: ("jupyterhub-admins", (ADMIN.id,)),
}
