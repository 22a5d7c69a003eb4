"""The Slack adapter: a Bolt app whose listeners ack first, then make one service call."""
