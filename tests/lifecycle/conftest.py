"""Lifecycle tests run the bot against real JupyterHub processes; they share the chart tests' helm."""

from tests.chart.conftest import helm

__all__ = ["helm"]
