"""Command line: ``python -m bot serve | socket | sandbox | check-policies [DIR|FILE] | migrate``."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from dotenv import load_dotenv

from bot.config import ConfigError, Mode, Settings, forget_secret_environment, load_settings
from bot.core.policy import PolicyLoadError, read_policy
from bot.logs import configure_logging

__all__ = ["main"]

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    settings_help = "\n".join(
        f"  {name:<24} {text} (default: {default or 'empty'})" for name, default, text in Settings.describe()
    )
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="jupyterhub-bot: private JupyterHub environments on Kubernetes from Slack.",
        epilog=f"Settings come from environment variables:\n{settings_help}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    env_file = argparse.ArgumentParser(add_help=False)
    env_file.add_argument(
        "--env-file",
        type=Path,
        help="read settings from this file of KEY=value lines first (quotes and comments as in a shell; "
        "variables already set win)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", parents=[env_file], help="serve Slack's HTTP mode on $PORT at /slack/events")
    sub.add_parser("socket", parents=[env_file], help="connect to Slack in Socket Mode with $SLACK_APP_TOKEN")
    check = sub.add_parser(
        "check-policies",
        help="validate policy files and print every problem and warning (exit 1 on any problem)",
    )
    check.add_argument(
        "directory", nargs="?", type=Path, help="a folder of policy files, or one file; defaults to $POLICIES_DIR"
    )
    check.add_argument(
        "--kubeconfig",
        default=os.environ.get("KUBECONFIG", ""),
        help="check each cluster's context against this kubeconfig (default: $KUBECONFIG; none: not checked)",
    )
    sub.add_parser(
        "migrate", parents=[env_file], help="bring the database at $DATABASE_URL to the newest schema revision"
    )
    sandbox = sub.add_parser(
        "sandbox",
        help="try the bot without Slack: a local workspace in the browser, on 127.0.0.1 only (not for production; "
        "refuses to start when Slack settings are set)",
    )
    sandbox.add_argument("--port", type=int, default=3000, help="port on 127.0.0.1 (default 3000; 0: any free port)")
    sub.add_parser(
        "run",
        parents=[env_file],
        help="what `make run` does: serve Slack (HTTP, or Socket Mode with SLACK_APP_TOKEN) when Slack settings "
        "are set, else the sandbox",
    )
    return parser


def _check_policies(directory: Path | None, kubeconfig: str) -> int:
    if directory is None:
        try:
            directory = load_settings("check").policies_dir
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            return 2
    try:
        loaded = read_policy(directory, kubeconfig=kubeconfig)
    except PolicyLoadError as exc:
        for finding in [*exc.problems, *exc.warnings, *exc.notes]:
            print(finding, file=sys.stderr)
        warned = f", {len(exc.warnings)} warning(s)" if exc.warnings else ""
        print(f"{directory}: {len(exc.problems)} problem(s){warned}", file=sys.stderr)
        return 1
    for finding in [*loaded.warnings, *loaded.notes]:
        print(finding, file=sys.stderr)
    policy = loaded.policy
    warned = f"; {len(loaded.warnings)} warning(s)" if loaded.warnings else ""
    print(
        f"{directory}: OK ({len(policy.roles)} roles, {len(policy.profiles)} profiles, "
        f"{len(policy.clusters)} clusters{warned})"
    )
    return 0


def _migrate() -> int:
    try:
        settings = load_settings("check")
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    from bot.store.migrate import MigrationError, current, upgrade

    try:
        upgrade(settings.database_url)
        revision = current(settings.database_url)
    except MigrationError as exc:
        print(f"migrate: {exc}", file=sys.stderr)
        return 1
    print(f"database at revision {revision} (head)")
    return 0


def _run(mode: Mode) -> int:
    try:
        settings = load_settings(mode)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    configure_logging(settings.log_level, json_lines=settings.log_format == "json")
    forget_secret_environment()
    from bot.runtime import build_runtime, run_http, run_socket_mode

    async def serve() -> None:
        runtime = build_runtime(settings, http_mode=mode == "serve")
        fatal, warnings = runtime.start_up_problems()
        for line in warnings:
            log.warning("%s", line)
        if fatal:
            await runtime.close()
            raise ConfigError(fatal)
        # Everything loaded so far (Kubernetes models, SQLAlchemy, Bolt) lives for the whole
        # process; keeping it out of the cyclic collector's sweeps spares each request the
        # long full collections that otherwise show up as ack latency spikes.
        gc.collect()
        gc.freeze()
        await (run_http(runtime) if mode == "serve" else run_socket_mode(runtime))

    from bot.slack.identity import TokenRefused
    from bot.store.migrate import MigrationError

    try:
        asyncio.run(serve())
    except PolicyLoadError as exc:
        for policy_problem in exc.problems:
            print(policy_problem, file=sys.stderr)
        return 2
    except MigrationError as exc:
        print(f"DATABASE_URL: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 2
    except TokenRefused as exc:
        print(
            f"SLACK_BOT_TOKEN: Slack refuses this token ({exc}); use the app's Bot User OAuth Token (xoxb-…)",
            file=sys.stderr,
        )
        return 2
    return 0


def run_mode(environ: Mapping[str, str]) -> Literal["sandbox", "serve", "socket"]:
    """What ``make run`` starts: the sandbox without Slack settings, else the bot for Slack."""
    from bot.sandbox.run import slack_settings_in

    if not slack_settings_in(environ):
        return "sandbox"
    return "socket" if environ.get("SLACK_APP_TOKEN") else "serve"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    env_file: Path | None = getattr(args, "env_file", None)
    if env_file is not None:
        if not env_file.is_file():
            print(f"--env-file: '{env_file}' is not a file", file=sys.stderr)
            return 2
        load_dotenv(env_file, override=False)
    if args.command == "check-policies":
        return _check_policies(args.directory, args.kubeconfig)
    if args.command == "migrate":
        return _migrate()
    if args.command == "sandbox":
        from bot.sandbox.run import run_sandbox

        return run_sandbox(args.port)
    if args.command == "run":
        mode = run_mode(os.environ)
        if mode == "sandbox":
            from bot.sandbox.run import DEFAULT_PORT, run_sandbox

            return run_sandbox(DEFAULT_PORT)
        return _run(mode)
    return _run("serve" if args.command == "serve" else "socket")


if __name__ == "__main__":
    sys.exit(main())
