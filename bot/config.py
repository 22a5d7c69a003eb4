"""Settings from environment variables, declared once with help text and checked at start-up."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

__all__ = [
    "DEFAULT_CHART",
    "SECRET_VARIABLES",
    "ConfigError",
    "Mode",
    "Settings",
    "forget_secret_environment",
    "load_settings",
]

DEFAULT_CHART = Path(__file__).resolve().parent.parent / "charts" / "jupyterhub"

Mode = Literal["serve", "socket", "check"]


def _database_url(url: str) -> str:
    """The URL SQLAlchemy needs: PostgreSQL with our driver, SQLite with an absolute path."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"'{url}' is not a database URL; use sqlite:///file.db or postgres://user:pass@host/db")
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    if scheme.startswith("postgresql+"):
        return url
    if scheme == "sqlite":
        path, query_sep, query = rest.removeprefix("/").partition("?")
        if path and path != ":memory:" and not path.startswith("/"):
            path = str(Path.cwd() / path)
        return f"sqlite:///{path}{query_sep}{query}" if path.startswith("/") else url
    raise ValueError(f"'{scheme}' databases are not supported; use sqlite:///file.db or postgres://…")


def _log_level(value: object) -> object:
    if isinstance(value, str):
        level = value.strip().upper()
        return {"WARN": "WARNING"}.get(level, level)
    return value


class ConfigError(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class Settings(BaseModel):
    """Every setting is an environment variable (the field's alias)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    slack_bot_token: str = Field("", alias="SLACK_BOT_TOKEN", description="Bot token (xoxb-…) for the Slack Web API.")
    slack_signing_secret: str = Field(
        "", alias="SLACK_SIGNING_SECRET", description="Signing secret; verifies HTTP requests from Slack."
    )
    slack_app_token: str = Field("", alias="SLACK_APP_TOKEN", description="App-level token (xapp-…); Socket Mode only.")
    slack_api_url: str = Field(
        "https://slack.com/api/", alias="SLACK_API_URL", description="Base URL of the Slack Web API."
    )
    admin_channel_id: str = Field(
        "", alias="ADMIN_CHANNEL_ID", description="Channel ID for approval requests and admin alerts."
    )
    database_url: Annotated[str, AfterValidator(_database_url)] = Field(
        "sqlite:///jupyterhub-bot.db",
        alias="DATABASE_URL",
        validate_default=True,
        description="sqlite:///file.db (a relative path is taken from the folder the bot starts in, and the "
        "bot says where at start-up) or postgres://user:pass@host/db (also postgresql:// or "
        "postgresql+psycopg://, as Heroku-style platforms set it).",
    )
    policies_dir: Path = Field(Path("policies"), alias="POLICIES_DIR", description="Folder of policy YAML files.")
    kubeconfig: str = Field(
        "", alias="KUBECONFIG", description="Kubeconfig file; empty means in-cluster configuration."
    )
    chart_ref: str = Field(
        str(DEFAULT_CHART),
        alias="CHART_REF",
        description="Chart to deploy: local path, repo/chart or oci:// reference.",
    )
    chart_version: str = Field("", alias="CHART_VERSION", description="Chart version, for repository and OCI charts.")
    helm_binary: str = Field("helm", alias="HELM_BINARY", description="The helm executable.")
    environment_cluster_role: str = Field(
        "",
        alias="ENVIRONMENT_CLUSTER_ROLE",
        description="ClusterRole the bot binds its ServiceAccount to inside each environment namespace it creates.",
    )
    bot_service_account: str = Field(
        "",
        alias="BOT_SERVICE_ACCOUNT",
        pattern=r"^([a-z0-9-]+/[a-z0-9-]+)?$",
        description="The bot's own ServiceAccount as namespace/name, for that binding.",
    )
    installation_id: str = Field(
        "jupyterhub-bot",
        alias="INSTALLATION_ID",
        pattern=r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$",
        description="Names this installation on every namespace it creates, so installs sharing a cluster "
        "never touch each other's environments (the bot's chart sets it).",
    )
    deploy_timeout_seconds: int = Field(
        600, alias="DEPLOY_TIMEOUT_SECONDS", gt=0, description="How long a deploy may take before it fails."
    )
    image_pull_grace_seconds: int = Field(
        60,
        alias="IMAGE_PULL_GRACE_SECONDS",
        ge=0,
        description="A deploy whose image pull has failed for this long is stopped and reported, "
        "without waiting out DEPLOY_TIMEOUT_SECONDS.",
    )
    max_concurrent_deploys: int = Field(
        4, alias="MAX_CONCURRENT_DEPLOYS", gt=0, description="Deploys and teardowns running at once."
    )
    sweep_interval_seconds: int = Field(
        60, alias="SWEEP_INTERVAL_SECONDS", gt=0, description="How often expiry, warning and idle checks run."
    )
    pool_interval_seconds: int = Field(
        15,
        alias="POOL_INTERVAL_SECONDS",
        gt=0,
        description="How often warm pools are brought to size (hubs taken replaced, schedules followed).",
    )
    reconcile_interval_seconds: int = Field(
        600,
        alias="RECONCILE_INTERVAL_SECONDS",
        gt=0,
        description="How often the clusters are compared with the database.",
    )
    lease_seconds: int = Field(
        30,
        alias="LEASE_SECONDS",
        ge=3,
        description="How long a replica's hold on the scheduled jobs lasts unless renewed.",
    )
    credentials_delivery: Literal["ephemeral", "dm"] = Field(
        "ephemeral",
        alias="CREDENTIALS_DELIVERY",
        description="How a hub's login reaches its owner: ephemeral (in the conversation of the request, kept in "
        "no history; by direct message when that is no longer possible) or dm (always by direct message, "
        "rewritten when the hub is removed).",
    )
    port: int = Field(3000, alias="PORT", gt=0, lt=65536, description="HTTP port for Slack requests (serve mode).")
    log_format: Literal["json", "text"] = Field(
        "json", alias="LOG_FORMAT", description="json (one object per line) or text, for a terminal."
    )
    log_level: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR"], BeforeValidator(_log_level)] = Field(
        "INFO", alias="LOG_LEVEL", description="Log level: DEBUG, INFO, WARNING (or WARN) or ERROR, in any case."
    )

    @classmethod
    def describe(cls) -> list[tuple[str, str, str]]:
        """(variable, default, help) for each setting, for the README and ``--help``."""
        return [(str(f.alias), str(f.default), str(f.description)) for f in cls.model_fields.values()]


# Settings that are credentials: read once, then removed from the process's environment so
# no child process (helm) inherits them.
SECRET_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "DATABASE_URL")


def forget_secret_environment() -> None:
    """Drop the credentials from ``os.environ`` once the settings hold them."""
    for name in SECRET_VARIABLES:
        os.environ.pop(name, None)


_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{6,}")
_TOKEN_KINDS = {"xapp-": "an app-level token", "xoxp-": "a user token", "xoxe": "a refresh token"}


def _slack_problems(settings: Settings) -> list[str]:
    """Slack settings that can never work, said the way the operator can fix them."""
    problems: list[str] = []
    token = settings.slack_bot_token
    if not token:
        problems.append("SLACK_BOT_TOKEN: required (the bot token, xoxb-…)")
    elif not token.startswith("xoxb-"):
        kind = next((name for prefix, name in _TOKEN_KINDS.items() if token.startswith(prefix)), "not a bot token")
        problems.append(
            f"SLACK_BOT_TOKEN: this is {kind}; use the Bot User OAuth Token (xoxb-…, OAuth & Permissions page)"
        )
    channel = settings.admin_channel_id
    if not channel:
        problems.append("ADMIN_CHANNEL_ID: required (channel ID for approvals and alerts, C…)")
    elif not _CHANNEL_ID.fullmatch(channel):
        problems.append(
            f"ADMIN_CHANNEL_ID: '{channel}' is not a channel ID; use the ID (like C0123ABCD, from the channel's "
            "details), not its name"
        )
    return problems


def load_settings(mode: Mode, environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings for ``mode``; raise :class:`ConfigError` with one line per problem."""
    env = os.environ if environ is None else environ
    aliases = {str(f.alias) for f in Settings.model_fields.values()}
    given = {key: value for key, value in env.items() if key in aliases and value != ""}
    try:
        settings = Settings.model_validate(given)
    except ValidationError as exc:
        raise ConfigError([f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]) from None

    problems: list[str] = []
    if mode in ("serve", "socket"):
        problems += _slack_problems(settings)
    if mode == "serve" and not settings.slack_signing_secret:
        problems.append("SLACK_SIGNING_SECRET: required in HTTP mode (app settings, Basic Information)")
    if mode == "socket" and not settings.slack_app_token.startswith("xapp-"):
        problems.append("SLACK_APP_TOKEN: required for Socket Mode (an app-level token, xapp-…)")
    if bool(settings.environment_cluster_role) != bool(settings.bot_service_account):
        problems.append("ENVIRONMENT_CLUSTER_ROLE and BOT_SERVICE_ACCOUNT: set both or neither")
    if not settings.policies_dir.is_dir():
        problems.append(f"POLICIES_DIR: '{settings.policies_dir}' is not a directory")
    if settings.kubeconfig and not Path(settings.kubeconfig.split(os.pathsep)[0]).is_file():
        problems.append(f"KUBECONFIG: '{settings.kubeconfig}' does not exist")
    if problems:
        raise ConfigError(problems)
    return settings
