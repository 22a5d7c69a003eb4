"""The policy schema. Unknown keys are rejected so a typo never silently grants or denies."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from bot.core.durations import MAX_DURATION, format_duration, parse_duration
from bot.core.names import validate_prefix

__all__ = [
    "MEMBER_FORMS",
    "ClusterSpec",
    "Defaults",
    "Duration",
    "HubRequests",
    "Images",
    "Policy",
    "Pool",
    "PoolWindow",
    "Profile",
    "Role",
    "Scheduling",
    "Tls",
    "Verb",
]

Verb = Literal[
    "launch",
    "list",
    "status",
    "creds",
    "extend",
    "delete",
    "approve",
    "deny",
    "expire",
    "list-all",
]

# Slack user IDs start with U, or with W on Enterprise Grid; user group IDs start with S.
_MEMBER = re.compile(r"user:[UW][A-Z0-9]+|group:S[A-Z0-9]+|\*")
MEMBER_FORMS = "user:U… or user:W… (a person's Slack ID), group:S… (a user group's ID), or '*' (everyone)"
_CPU = re.compile(r"\d+(\.\d+)?|\d+m")
_MEMORY = re.compile(r"\d+(\.\d+)?[KMGT]i?")
_STORAGE = re.compile(r"[1-9]\d*(Mi|Gi|Ti)")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
_SECRET_REF = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9.]*[a-z0-9])?")


def _to_timedelta(value: object) -> object:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, int | float):
        # Pydantic would read a bare number as seconds: `lifetime: 8` would mean 8 seconds.
        raise ValueError(f"'{value}' has no unit; use a number with a unit, like 30m, 8h, 3d or 1d12h")
    return value


def _within_cap(value: timedelta) -> timedelta:
    if value > MAX_DURATION:
        raise ValueError(f"'{format_duration(value)}' is too long; {format_duration(MAX_DURATION)} at most")
    if value <= timedelta(0):
        raise ValueError("a duration must be positive")
    return value


Duration = Annotated[timedelta, BeforeValidator(_to_timedelta), AfterValidator(_within_cap)]


def _number_as_text(value: object) -> object:
    """YAML reads `cpu: 2` as a number; Kubernetes quantities are text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


Quantity = Annotated[str, BeforeValidator(_number_as_text)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Role(_Strict):
    members: list[str] = Field(
        description="Slack IDs: 'user:U…' or 'user:W…' (a person), 'group:S…' (a user group), or '*' for everyone."
    )
    allow: list[Verb] = Field(description="Verbs this role may use.")
    profiles: list[str] = Field(default_factory=list, description="Profiles it may launch.")
    clusters: list[str] = Field(default_factory=list, description="Clusters it may launch on.")
    max_environments: int = Field(default=1, ge=0, description="Active environments per person.")
    max_lifetime: Duration | None = Field(
        default=None,
        description="Longest total lifetime from ready to expiry, extensions included; "
        "without it, defaults.max_lifetime applies.",
    )
    max_extensions: int = Field(default=3, ge=0, description="How often an owner may extend.")
    approval: Literal["none", "required"] = "none"
    guests: bool = Field(
        default=False,
        description="Whether Slack guests (restricted and ultra-restricted accounts) who match get this role.",
    )

    @field_validator("members")
    @classmethod
    def _members_are_ids(cls, members: list[str]) -> list[str]:
        for member in members:
            if not _MEMBER.fullmatch(member):
                raise ValueError(f"'{member}' is not a member; use {MEMBER_FORMS}")
        return members


class Profile(_Strict):
    description: str = ""
    image: str = Field(description="User server image, 'name:tag'.")
    cpu: Quantity = Field(description="CPU limit per user server, e.g. 1, 0.5 or '500m'.")
    memory: Quantity = Field(description="Memory limit per user server, e.g. '2Gi'.")
    storage: Quantity | None = Field(default="10Gi", description="Home volume size; null for none.")
    cpu_guarantee: Quantity | None = None
    memory_guarantee: Quantity | None = None
    max_users: int = Field(default=5, ge=1, description="User servers one environment may run.")

    @field_validator("cpu", "cpu_guarantee")
    @classmethod
    def _cpu(cls, value: str | None) -> str | None:
        if value is not None and not _CPU.fullmatch(value):
            raise ValueError(f"'{value}' is not a CPU amount; use cores like '2' or '0.5', or millicores like '500m'")
        return value

    @field_validator("memory", "memory_guarantee")
    @classmethod
    def _memory(cls, value: str | None) -> str | None:
        if value is not None and not _MEMORY.fullmatch(value):
            raise ValueError(f"'{value}' is not a memory size; use a number with K, M, G or T (or Ki … Ti), like '2Gi'")
        return value

    @field_validator("storage")
    @classmethod
    def _storage(cls, value: str | None) -> str | None:
        if value is not None and not _STORAGE.fullmatch(value):
            raise ValueError(f"'{value}' is not a volume size; use a whole number of Mi, Gi or Ti, like '10Gi'")
        return value

    @field_validator("image")
    @classmethod
    def _pinned(cls, value: str) -> str:
        name, _, tag = value.rpartition(":")
        if not name or not tag or "/" in tag:
            raise ValueError(f"'{value}' needs an explicit tag, like 'quay.io/jupyter/scipy-notebook:2025-06-02'")
        return value


class Tls(_Strict):
    """How a cluster's Ingress serves HTTPS for each hub. An Ingress's certificate Secret is
    looked up in the hub's own namespace, so a wildcard Secret elsewhere is invisible to it."""

    mode: Literal["cert-manager", "controller-default", "copy-secret"] = Field(
        description="cert-manager: each Ingress asks cert-manager for its certificate (`issuer`); "
        "controller-default: the ingress controller's default certificate (a wildcard set on the controller); "
        "copy-secret: the bot copies `secret` into each hub's namespace."
    )
    issuer: str | None = Field(default=None, description="cert-manager: the (Cluster)Issuer's name.")
    issuer_kind: Literal["ClusterIssuer", "Issuer"] = Field(
        default="ClusterIssuer", description="cert-manager: an Issuer must exist in every hub namespace."
    )
    secret: str | None = Field(default=None, description="copy-secret: the TLS Secret to copy, as <namespace>/<name>.")

    @model_validator(mode="after")
    def _complete(self) -> Tls:
        if self.mode == "cert-manager" and not self.issuer:
            raise ValueError("mode cert-manager needs an issuer (the name of a ClusterIssuer or Issuer)")
        if self.mode == "copy-secret" and not (self.secret and _SECRET_REF.fullmatch(self.secret)):
            raise ValueError("mode copy-secret needs secret: <namespace>/<name> of a kubernetes.io/tls Secret")
        return self


class Images(_Strict):
    """Where a cluster pulls the hub's and the proxy's images from (a mirror, say)."""

    hub: str | None = Field(default=None, description="The hub image, 'name:tag'.")
    proxy: str | None = Field(default=None, description="The proxy image, 'name:tag'.")

    @field_validator("hub", "proxy")
    @classmethod
    def _pinned(cls, value: str | None) -> str | None:
        if value is not None:
            name, _, tag = value.rpartition(":")
            if not name or not tag or "/" in tag:
                raise ValueError(f"'{value}' needs an explicit tag, like 'registry.example/k8s-hub:4.4.0'")
        return value


class Scheduling(_Strict):
    """Where a cluster runs hubs and user servers (every pod of an environment)."""

    node_selector: dict[str, str] = Field(default_factory=dict, description="Node labels the pods must match.")
    tolerations: list[dict[str, str | int]] = Field(
        default_factory=list, description="Kubernetes Tolerations, for nodes reserved with taints."
    )


class HubRequests(_Strict):
    """What each environment's hub and proxy reserve on a node (Kubernetes requests, each)."""

    cpu: Quantity = Field(description="CPU each reserves, e.g. '50m'.")
    memory: Quantity = Field(description="Memory each reserves, e.g. '192Mi'.")


class ClusterSpec(_Strict):
    context: str | None = Field(
        default=None, description="Kubeconfig context; omit for the current context or in-cluster."
    )
    base_domain: str | None = Field(
        default=None, description="With a base domain, each hub gets an Ingress at <name>-<id>.<domain>."
    )
    ingress_class: str | None = None
    tls: Tls | None = Field(default=None, description="HTTPS for each hub's Ingress; needs a base_domain.")
    ingress_annotations: dict[str, str] = Field(
        default_factory=dict,
        description="Added to each hub's Ingress (for the nginx class the bot already raises the 1 MB "
        "request-body limit, so notebooks save).",
    )
    service_type: Literal["NodePort", "LoadBalancer", "ClusterIP"] = "NodePort"
    public_address: str | None = Field(
        default=None, description="Host to use in NodePort URLs instead of a node's address."
    )
    storage_class: str | None = Field(default=None, description="StorageClass for hub and user volumes.")
    images: Images = Field(default_factory=Images, description="Hub and proxy images, if not the chart's.")
    scheduling: Scheduling = Field(default_factory=Scheduling, description="Where environments' pods run.")
    hub_requests: HubRequests | None = Field(
        default=None,
        description="What each environment's hub and proxy reserve on a node (the chart's default: 100m and "
        "256Mi each; their limits stay 1 CPU and 1Gi). Lower it to fit more hubs on a node: an idle hub uses "
        "a few millicores and about 205Mi, its proxy about 25Mi, and a warm pool keeps idle hubs.",
    )
    pool_limit: int = Field(
        default=0,
        ge=0,
        le=1000,
        description="Most hubs all pools together may keep ready here, so pools cannot eat the cluster; "
        "0 allows no pool.",
    )

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: object) -> object:
        if isinstance(data, dict) and "tls_secret" in data:
            raise ValueError(
                "tls_secret is replaced by tls: an Ingress finds its Secret only in the hub's own namespace; "
                "write tls: {mode: copy-secret, secret: <namespace>/<name>} to have the bot copy it there, "
                "or use mode cert-manager or controller-default"
            )
        return data

    @field_validator("storage_class")
    @classmethod
    def _storage_class(cls, value: str | None) -> str | None:
        if value is not None and not _DNS_SUBDOMAIN.fullmatch(value):
            raise ValueError(f"'{value}' is not a StorageClass name (lowercase letters, digits, '-' and '.')")
        return value


class Defaults(_Strict):
    lifetime: Duration = Field(default=timedelta(hours=8), description="Lifetime when a request names none.")
    idle_timeout: Duration = Field(
        default=timedelta(hours=2), description="No hub activity for this long earns an idle warning."
    )
    warn_before: Duration = Field(
        default=timedelta(minutes=30), description="Time between the idle warning and the teardown."
    )
    expiry_warnings: list[Duration] = Field(
        default_factory=lambda: [timedelta(hours=1), timedelta(minutes=10)],
        description="Lead times before expiry at which the owner is warned.",
    )
    extend_by: Duration = Field(default=timedelta(hours=4), description="What `extend` adds when no duration is given.")
    max_lifetime: Duration = Field(
        default=timedelta(days=7),
        description="Longest lifetime, extensions included, for a role that sets no max_lifetime of its own.",
    )
    hub_failures_before_alert: int = Field(
        default=3, ge=1, description="Failed activity reads in a row before the admins are alerted."
    )
    profile: str | None = None
    cluster: str | None = None
    namespace_prefix: str = "jh-"
    access_help: str = Field(
        default="Ask a platform admin to add you to a role.",
        max_length=300,
        description="Told to anyone refused a launch: where to ask for access (a channel, a team).",
    )

    @field_validator("namespace_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        problem = validate_prefix(value)
        if problem:
            raise ValueError(problem)
        return value


Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


class PoolWindow(_Strict):
    """A time of the week when a pool keeps another size (for the start of a class, say)."""

    days: list[Day] = Field(
        default_factory=lambda: list(_DAYS), description="Days the window starts on; every day when left out."
    )
    start: str = Field(alias="from", description="Local time the window starts, 'HH:MM'.")
    end: str = Field(alias="to", description="Local time it ends, 'HH:MM'; earlier than from: the next day.")
    size: int = Field(ge=0, le=500, description="Ready hubs to keep during the window.")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.fullmatch(value):
            raise ValueError(f"'{value}' is not a time of day; write it as 'HH:MM' in quotes, like '08:45'")
        return value

    def _minutes(self, value: str) -> int:
        hours, minutes = value.split(":")
        return int(hours) * 60 + int(minutes)

    def covers(self, local: datetime) -> bool:
        """Whether the local time ``local`` falls in this window (an overnight window belongs to
        the day it starts on)."""
        start, end, now = self._minutes(self.start), self._minutes(self.end), local.hour * 60 + local.minute
        today, yesterday = _DAYS[local.weekday()], _DAYS[(local.weekday() - 1) % 7]
        if start < end:
            return today in self.days and start <= now < end
        return (today in self.days and now >= start) or (yesterday in self.days and now < end)


class Pool(_Strict):
    """Hubs of one profile on one cluster, deployed ahead of time and handed out at launch."""

    profile: str = Field(description="The profile of the pool's hubs; launches of it take one.")
    cluster: str = Field(description="The cluster they run on.")
    size: int = Field(default=0, ge=0, le=500, description="Ready hubs to keep outside every window.")
    schedule: list[PoolWindow] = Field(default_factory=list, description="Other sizes at other times; first match.")
    timezone: str = Field(default="UTC", description="The time zone the schedule's times are in (IANA name).")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not a time zone; use an IANA name like 'Europe/Berlin' or 'UTC'") from None
        return value

    def size_at(self, when: datetime) -> int:
        """How many ready hubs the pool keeps at ``when`` (an aware time)."""
        local = when.astimezone(ZoneInfo(self.timezone))
        return next((window.size for window in self.schedule if window.covers(local)), self.size)

    @property
    def largest(self) -> int:
        return max([self.size, *(window.size for window in self.schedule)])


_SECTIONS = ("roles", "profiles", "clusters", "pools", "defaults")


class Policy(_Strict):
    roles: dict[str, Role] = Field(default_factory=dict)
    profiles: dict[str, Profile] = Field(default_factory=dict)
    clusters: dict[str, ClusterSpec] = Field(default_factory=dict)
    pools: dict[str, Pool] = Field(default_factory=dict)
    defaults: Defaults = Field(default_factory=Defaults)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_nothing(cls, data: Any) -> Any:
        """A bare `roles:` is no roles, and a bare `teaching:` cluster takes every cluster default."""
        if not isinstance(data, dict):
            return data
        data = {key: {} if key in _SECTIONS and value is None else value for key, value in data.items()}
        if isinstance(data.get("clusters"), dict):
            data["clusters"] = {name: {} if spec is None else spec for name, spec in data["clusters"].items()}
        return data

    def max_lifetime_of(self, role: Role) -> timedelta:
        """The role's own cap, or the policy-wide one: every role that may launch has a cap."""
        return self.defaults.max_lifetime if role.max_lifetime is None else role.max_lifetime
