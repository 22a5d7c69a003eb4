"""The JupyterHub adapter: reading a hub's activity through its REST API."""
