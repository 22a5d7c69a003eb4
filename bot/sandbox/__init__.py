"""A local Slack workspace: the emulator the tests use and the sandbox serves, speaking Slack's wire protocol."""
