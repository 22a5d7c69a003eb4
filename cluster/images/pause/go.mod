// The pod sandbox ("pause") process of the local cluster's real node.
module jupyterhub-bot/cluster/images/pause

go 1.24
