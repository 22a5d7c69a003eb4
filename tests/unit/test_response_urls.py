"""The bot posts private replies only to Slack's own response URLs for its workspace."""

from __future__ import annotations

import pytest

from bot.slack.identity import SLACK_API, Installation, safe_response_url

OURS = Installation(team_id="T0OURS", app_id="A0APP", bot_user_id="UBOT")


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://hooks.slack.com/commands/T0OURS/123/abc", True),
        ("https://hooks.slack.com/actions/T0OURS/123/abc", True),
        ("https://hooks.slack.com/commands/T0THEIRS/123/abc", False),
        ("http://hooks.slack.com/commands/T0OURS/123/abc", False),
        ("https://attacker.example/commands/T0OURS/123/abc", False),
        ("https://hooks.slack.com.attacker.example/commands/T0OURS/1/a", False),
        ("https://hooks.slack.com/services/T0OURS/123/abc", False),
    ],
)
def test_only_slacks_response_urls_for_this_workspace(url: str, safe: bool) -> None:
    assert safe_response_url(url, OURS, SLACK_API) is safe


def test_with_another_api_only_its_own_host() -> None:
    api = "http://127.0.0.1:4000/api/"
    assert safe_response_url("http://127.0.0.1:4000/response/1", OURS, api)
    assert not safe_response_url("http://127.0.0.1:4001/response/1", OURS, api)
    assert not safe_response_url("https://hooks.slack.com/commands/T0OURS/1/a", OURS, api)
