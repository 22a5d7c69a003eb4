"""Logging set-up: JSON lines (or plain text for a terminal), with secrets redacted.

Redaction is a safety net, not the plan: the bot never logs a credential on purpose.
Slack tokens are recognised by shape; generated hub secrets are registered while the
bot holds them in memory, and any log record mentioning one, plainly or base64-encoded
as Kubernetes shows a Secret's data, is rewritten. The libraries that dump whole HTTP
bodies at DEBUG (slack_sdk, the Kubernetes client) never log below INFO."""

from __future__ import annotations

import base64
import logging
import re
import sys
import threading
from typing import TextIO

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse
from pythonjsonlogger.json import JsonFormatter

__all__ = ["REDACTED", "QuietAccessLog", "SecretRedactor", "configure_logging", "log_handler", "redactor"]

REDACTED = "<redacted>"
BODY_LOGGERS = ("slack_sdk", "slack_bolt", "kubernetes.client.rest", "urllib3", "aiohttp.client")
QUIET_LOGGERS = ("alembic", "apscheduler")
_TOKEN_SHAPES = re.compile(r"\b(xox[abprs]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+)")


class SecretRedactor:
    """Secrets are registered under a key (an environment id) and forgotten with it."""

    def __init__(self) -> None:
        self._secrets: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def register(self, key: str, *secrets: str) -> None:
        forms = {form for s in secrets if len(s) >= 8 for form in (s, base64.b64encode(s.encode()).decode())}
        with self._lock:
            self._secrets.setdefault(key, set()).update(forms)

    def forget(self, key: str) -> None:
        with self._lock:
            self._secrets.pop(key, None)

    def scrub(self, text: str) -> str:
        text = _TOKEN_SHAPES.sub(REDACTED, text)
        with self._lock:
            known = [secret for group in self._secrets.values() for secret in group]
        for secret in known:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


redactor = SecretRedactor()


class _RedactingJson(JsonFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return redactor.scrub(super().format(record))


class _RedactingText(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redactor.scrub(super().format(record))


def log_handler(stream: TextIO, *, json_lines: bool = True) -> logging.Handler:
    """Everything, tracebacks included, is scrubbed after formatting, so nothing slips past."""
    handler = logging.StreamHandler(stream)
    if json_lines:
        handler.setFormatter(
            _RedactingJson(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(_RedactingText("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return handler


def configure_logging(level: str, *, json_lines: bool = True) -> None:
    handler = log_handler(sys.stderr, json_lines=json_lines)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # pyhelm3 logs every helm run, and a warning for each expected miss (such as `helm
    # status` of a release not installed yet); the bot reports real failures itself.
    logging.getLogger("pyhelm3").setLevel(logging.ERROR)
    # At DEBUG these log whole request and response bodies: messages with logins, Secrets.
    for chatty in BODY_LOGGERS:
        logging.getLogger(chatty).setLevel(max(logging.INFO, logging.getLevelName(level)))
    # Plugin set-up, per-revision lines, "tentatively" added jobs: the bot says what matters
    # itself, once (the database's revision, the jobs it runs).
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


class QuietAccessLog(AbstractAccessLogger):
    """HTTP access lines at DEBUG (a health probe every few seconds is not news), and
    server errors at WARNING."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        level = logging.WARNING if response.status >= 500 else logging.DEBUG
        if self.logger.isEnabledFor(level):
            self.logger.log(level, "%s %s %s (%.0f ms)", request.method, request.path, response.status, time * 1000)
