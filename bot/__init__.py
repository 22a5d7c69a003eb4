"""jupyterhub-bot: private JupyterHub environments on Kubernetes, from one Slack command."""

__version__ = "0.1.0"
