#!/usr/bin/env bash
# Makes each volume folder that kube-controller-manager's hostPath provisioner creates
# under DIR writable by any user, as real provisioners' volumes are for the pod's user.
# The provisioner creates them root-owned with mode 0750, and the kubelet applies no
# fsGroup to hostPath volumes, so the hub (uid 1000) and jovyan could not write there.
set -euo pipefail
dir=${1:?usage: volume-permissions.sh DIR}
mkdir -p "$dir"
chmod 0755 "$dir"
# Claims made before this started.
find "$dir" -mindepth 1 -maxdepth 1 -type d -exec chmod 0777 {} +
inotifywait --monitor --quiet --event create --event moved_to --format '%w%f' "$dir" |
    while IFS= read -r path; do
        if [[ -d $path ]]; then chmod 0777 "$path" || true; fi
    done
