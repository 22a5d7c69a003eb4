"""A Bolt app that only acknowledges /jupyterhub: the baseline for the latency benchmark.

Served exactly like the bot (same aiohttp front, same signature checks) on $PORT."""

from __future__ import annotations

import os

from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.web import make_web_app


def build() -> web.Application:
    secret = os.environ["SLACK_SIGNING_SECRET"]
    app = AsyncApp(
        client=AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
        signing_secret=secret,
    )

    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    app.command("/jupyterhub")(only_ack)
    return make_web_app(app, secret)


if __name__ == "__main__":
    web.run_app(build(), host="127.0.0.1", port=int(os.environ["PORT"]), access_log=None, print=None)
