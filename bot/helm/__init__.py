"""The Kubernetes adapter: our chart, Helm (pyhelm3) and the Kubernetes API, per cluster."""
