#!/usr/bin/env bash
# Local Kubernetes cluster for the test suite and for running the bot by hand.
#
# Real kube-apiserver, kube-controller-manager, kube-scheduler and etcd, built from Go
# modules and cached outside the repository, run by kwokctl's binary runtime; kwok
# stands in for most nodes and kubelets. Where the machine allows it (root, Linux),
# one real node runs pods on this machine too (realnode.sh), with images built here
# (images.sh). Nothing is downloaded at run time except packages from Debian, PyPI,
# npm and the Go module proxy.
#
#   cluster/harness.sh build [GROUP|images]...  build missing binaries (and images)
#   cluster/harness.sh up          start the cluster (reuses a running one), print kubeconfig path
#   cluster/harness.sh down        stop the cluster and remove everything it created
#   cluster/harness.sh status      print key=value facts; exit 0 if running, 3 if not
#   cluster/harness.sh kubeconfig  print the kubeconfig path of the running cluster
#   cluster/harness.sh bot-image   build the bot's image from this checkout (cached) and
#                                  import it into this cluster's real node, if it has one
#
# Environment: JHB_CACHE_DIR (default ~/.cache/jupyterhub-bot), JHB_CLUSTER_NAME
# (default jupyterhub-bot), JHB_CLUSTER_PORT (kube-apiserver port on 127.0.0.1,
# default 26443), JHB_CLUSTER_NODES (kwok nodes, default 1), JHB_REAL_NODE (auto:
# a real node where the machine allows one, 1: a real node or fail, 0: kwok only).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=cluster/versions.env
source "$HERE/versions.env"

CACHE_DIR=${JHB_CACHE_DIR:-$HOME/.cache/jupyterhub-bot}
CLUSTER_NAME=${JHB_CLUSTER_NAME:-jupyterhub-bot}
API_PORT=${JHB_CLUSTER_PORT:-26443}
NODES=${JHB_CLUSTER_NODES:-1}

BIN_ROOT=$CACHE_DIR/bin
BUILD_LOGS=$CACHE_DIR/logs
HARNESS_LOG=$BUILD_LOGS/harness.log
export KWOK_WORKDIR=$CACHE_DIR/kwok
WORKDIR=$KWOK_WORKDIR/clusters/$CLUSTER_NAME
KUBECONFIG_PATH=$WORKDIR/kubeconfig.yaml
LOGS_DIR=$WORKDIR/logs
SAVED_LOGS=$BUILD_LOGS/last-cluster-$CLUSTER_NAME
CONTEXT=kwok-$CLUSTER_NAME

die() {
    echo "harness: error: $*" >&2
    exit 1
}

note() {
    echo "harness: $*" >&2
}

log() {
    mkdir -p "$BUILD_LOGS"
    printf '%s %s\n' "$(date -u +%FT%TZ)" "$*" >>"$HARNESS_LOG"
}

# Version of a module required by one of our wrapper go.mod files.
module_version() {
    local gomod=$1 module=$2 version
    version=$(awk -v m="$module" '$1 == m { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$gomod")
    [[ -n $version ]] || die "cannot find $module in $gomod"
    echo "$version"
}

KUBE_VERSION=$(module_version "$HERE/kube/go.mod" k8s.io/kubernetes)
ETCD_VERSION=$(module_version "$HERE/etcd/go.mod" go.etcd.io/etcd/server/v3)
COREDNS_VERSION=$(module_version "$HERE/coredns/go.mod" github.com/coredns/coredns)
# The pause binary is our own source; its folder is named after a hash of it.
PAUSE_VERSION=$(cat "$HERE/images/pause/go.mod" "$HERE/images/pause/main.go" | sha256sum | cut -c1-12)

HELM_DIR=$BIN_ROOT/helm-$HELM_VERSION
KUBE_DIR=$BIN_ROOT/kubernetes-$KUBE_VERSION
ETCD_DIR=$BIN_ROOT/etcd-$ETCD_VERSION
KWOK_DIR=$BIN_ROOT/kwok-$KWOK_VERSION
NODE_BIN_DIR=$BIN_ROOT/kubernetes-node-$KUBE_VERSION
KUBE_ROUTER_DIR=$BIN_ROOT/kube-router-$KUBE_ROUTER_VERSION
COREDNS_DIR=$BIN_ROOT/coredns-$COREDNS_VERSION
PAUSE_DIR=$BIN_ROOT/pause-$PAUSE_VERSION

KUBE_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
# The control plane, and what only the real node needs.
GROUPS_ALL=(helm kubernetes etcd kwok)
NODE_GROUPS=(node kube-router coredns pause)

# shellcheck source=cluster/images.sh
source "$HERE/images.sh"
# shellcheck source=cluster/realnode.sh
source "$HERE/realnode.sh"
# shellcheck source=cluster/bot-image.sh
source "$HERE/bot-image.sh"

group_dir() {
    case $1 in
        helm) echo "$HELM_DIR" ;;
        kubernetes) echo "$KUBE_DIR" ;;
        etcd) echo "$ETCD_DIR" ;;
        kwok) echo "$KWOK_DIR" ;;
        node) echo "$NODE_BIN_DIR" ;;
        kube-router) echo "$KUBE_ROUTER_DIR" ;;
        coredns) echo "$COREDNS_DIR" ;;
        pause) echo "$PAUSE_DIR" ;;
        *) die "unknown build group '$1' (expected one of: ${GROUPS_ALL[*]} ${NODE_GROUPS[*]} images)" ;;
    esac
}

group_binaries() {
    case $1 in
        helm) echo helm ;;
        kubernetes) echo "${KUBE_BINARIES[@]}" ;;
        etcd) echo etcd ;;
        kwok) echo kwok kwokctl ;;
        node) echo kubelet kube-proxy ;;
        kube-router) echo kube-router ;;
        coredns) echo coredns ;;
        pause) echo pause ;;
    esac
}

group_version() {
    case $1 in
        helm) echo "$HELM_VERSION" ;;
        kubernetes) echo "$KUBE_VERSION" ;;
        etcd) echo "$ETCD_VERSION" ;;
        kwok) echo "$KWOK_VERSION" ;;
        node) echo "$KUBE_VERSION" ;;
        kube-router) echo "$KUBE_ROUTER_VERSION" ;;
        coredns) echo "$COREDNS_VERSION" ;;
        pause) echo "$PAUSE_VERSION" ;;
    esac
}

group_built() {
    local dir bin
    dir=$(group_dir "$1")
    for bin in $(group_binaries "$1"); do
        [[ -x $dir/$bin ]] || return 1
    done
}

all_built() {
    local group
    for group in "${GROUPS_ALL[@]}"; do
        group_built "$group" || return 1
    done
}

# Serialises build/up/down between concurrent callers (make, pytest, a second shell).
# A harness run started by one that holds the lock (JHB_HARNESS_LOCKED) shares it.
take_lock() {
    [[ -z ${JHB_HARNESS_LOCKED:-} && -z ${LOCK_HELD:-} ]] || return 0
    LOCK_HELD=1
    mkdir -p "$CACHE_DIR"
    exec 9>"$CACHE_DIR/harness.lock"
    if command -v flock >/dev/null; then
        flock -w 3600 9 || die "timed out waiting for $CACHE_DIR/harness.lock held by another harness run"
    fi
}

require_go() {
    command -v go >/dev/null ||
        die "Go is not installed or not on PATH; install Go 1.26 or newer (https://go.dev/dl/) so the cluster binaries can be built, then rerun"
}

kube_ldflags() {
    local minor pkg flags="-s -w"
    minor=$(echo "$KUBE_VERSION" | cut -d. -f2)
    # Without these the binaries report v0.0.0-master and charts with a kubeVersion
    # constraint refuse to install.
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        flags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
        flags+=" -X $pkg.gitTreeState=clean"
    done
    echo "$flags"
}

# Runs one group's build into a scratch folder, then moves the binaries into the
# versioned folder, so an interrupted build never leaves a half-built group behind.
build_group() {
    local group=$1 dir version tmp buildlog start bin pkgs=() status=0
    group_built "$group" && return 0
    require_go
    dir=$(group_dir "$group")
    version=$(group_version "$group")
    tmp=$(mktemp -d "$BIN_ROOT/.build-$group.XXXXXX")
    buildlog=$BUILD_LOGS/build-$group.log
    note "building $group $version (first run only; log: $buildlog)"
    start=$SECONDS
    (
        echo "# $(date -u +%FT%TZ) building $group $version with $(go version)"
        case $group in
            helm)
                cd "$tmp" && GOBIN=$tmp go install -trimpath \
                    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" \
                    "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
                ;;
            kubernetes)
                for bin in "${KUBE_BINARIES[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$bin"); done
                # One invocation so the four binaries share compiled packages.
                cd "$HERE/kube" && go build -trimpath -ldflags "$(kube_ldflags)" -o "$tmp/" "${pkgs[@]}"
                ;;
            etcd)
                cd "$HERE/etcd" && go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" .
                ;;
            kwok)
                cd "$tmp" && GOBIN=$tmp go install -trimpath -ldflags "-s -w" \
                    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
                ;;
            node)
                cd "$HERE/kube" && go build -trimpath -ldflags "$(kube_ldflags)" -o "$tmp/" \
                    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
                ;;
            kube-router)
                cd "$tmp" && GOBIN=$tmp go install -trimpath \
                    -ldflags "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION" \
                    "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$KUBE_ROUTER_VERSION"
                ;;
            coredns)
                # Static: it runs in an image that has nothing but the binary.
                cd "$HERE/coredns" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/coredns" .
                ;;
            pause)
                cd "$HERE/images/pause" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/pause" .
                ;;
        esac
    ) >"$buildlog" 2>&1 || status=$?
    if ((status != 0)); then
        rm -rf "$tmp"
        tail -n 15 "$buildlog" >&2
        die "building $group $version failed (exit $status); full log: $buildlog"
    fi
    mkdir -p "$dir"
    for bin in $(group_binaries "$group"); do
        [[ -x $dir/$bin ]] || mv -f "$tmp/$bin" "$dir/$bin"
    done
    rm -rf "$tmp"
    echo "# built in $((SECONDS - start))s" >>"$buildlog"
    log "built $group $version in $((SECONDS - start))s"
    note "built $group $version in $((SECONDS - start))s"
}

# The groups a plain `build` (and `up`) needs: the real node's only where it may run.
default_groups() {
    echo "${GROUPS_ALL[@]}"
    if real_node_wanted && [[ $(id -u) == 0 ]]; then echo "${NODE_GROUPS[@]}"; fi
}

cmd_build() {
    local groups=("$@") group want_images=no
    ((${#groups[@]})) || mapfile -t groups < <(default_groups | tr ' ' '\n')
    if [[ " ${groups[*]} " == *" images "* ]]; then
        want_images=yes
        mapfile -t groups < <(printf '%s\n' "${groups[@]}" | grep -vx images)
        groups+=(coredns pause)
    fi
    if ((${#groups[@]} == 0)); then return 0; fi
    for group in "${groups[@]}"; do group_dir "$group" >/dev/null; done
    if [[ $want_images == yes ]]; then
        cmd_build "${groups[@]}"
        take_lock
        cmd_build_images
        return 0
    fi
    # Fast path without the lock: everything already there.
    for group in "${groups[@]}"; do
        group_built "$group" || break
        [[ $group == "${groups[-1]}" ]] && return 0
    done
    mkdir -p "$BIN_ROOT" "$BUILD_LOGS"
    take_lock
    for group in "${groups[@]}"; do build_group "$group"; done
}

kubectl_() {
    "$KUBE_DIR/kubectl" --kubeconfig "$KUBECONFIG_PATH" --context "$CONTEXT" "$@"
}

kwokctl_() {
    # kwokctl prefers a kubectl found on PATH; make it ours, not whatever is installed.
    # fd 9 (the lock) is closed so the components kwokctl forks do not hold the lock
    # for as long as the cluster runs.
    PATH=$KUBE_DIR:$PATH "$KWOK_DIR/kwokctl" --name "$CLUSTER_NAME" "$@" </dev/null 9>&-
}

cluster_ready() {
    [[ -f $KUBECONFIG_PATH && -x $KUBE_DIR/kubectl ]] &&
        kubectl_ --request-timeout=5s get --raw /readyz >/dev/null 2>&1
}

require_free_port() {
    if (exec 3<>"/dev/tcp/127.0.0.1/$API_PORT") 2>/dev/null; then
        die "port $API_PORT on 127.0.0.1 is already in use; stop the process listening there or set JHB_CLUSTER_PORT to a free port"
    fi
}

# kwokctl's configuration for MODE kwok (kwok nodes only) or real (also the real node).
write_kwokctl_config() {
    local mode=$2 sans="" apiserver="" kwok_controller=""
    if [[ $mode == real ]]; then
        # The serving certificate also names the node address and the kubernetes Service.
        sans="  kubeApiserverCertSANs: [\"$NODE_IP\", \"$KUBERNETES_SERVICE_IP\"]"
        # The API server listens on the node address (kwokctl's own clients reach it through
        # the 127.0.0.1 forward of host_network_up) and calls kubelets by address with the
        # admin certificate; kwok leaves the real node alone. Later flags override kwokctl's.
        apiserver="- name: kube-apiserver
  extraArgs:
  - key: bind-address
    value: $NODE_IP
  - key: secure-port
    value: \"$NODE_API_PORT\"
  - key: service-cluster-ip-range
    value: $SERVICE_CIDR
  - key: kubelet-preferred-address-types
    value: InternalIP,Hostname
  - key: kubelet-client-certificate
    value: $WORKDIR/pki/admin.crt
  - key: kubelet-client-key
    value: $WORKDIR/pki/admin.key"
        kwok_controller="
  - key: manage-all-nodes
    value: \"false\"
  - key: manage-nodes-with-annotation-selector
    value: kwok.x-k8s.io/node=fake"
    fi
    cat >"$1" <<EOF
# kwok stages: $(sha256sum "$HERE/kwok-stages.yaml" | cut -d' ' -f1)
# mode: $mode
kind: KwokctlConfiguration
apiVersion: config.kwok.x-k8s.io/v1alpha1
options:
  runtime: binary
  bindAddress: 127.0.0.1
  kubeApiserverPort: $API_PORT
$sans
  securePort: true
  kubeAuthorization: true
  kubeAdmission: true
  disableQPSLimits: true
  quietPull: true
  cacheDir: $CACHE_DIR/kwok/cache
  kubeApiserverBinary: $KUBE_DIR/kube-apiserver
  kubeControllerManagerBinary: $KUBE_DIR/kube-controller-manager
  kubeSchedulerBinary: $KUBE_DIR/kube-scheduler
  kubectlBinary: $KUBE_DIR/kubectl
  etcdBinary: $ETCD_DIR/etcd
  kwokControllerBinary: $KWOK_DIR/kwok
componentsPatches:
- name: kube-controller-manager
  extraArgs:
  - key: enable-hostpath-provisioner
    value: "true"
- name: kwok-controller
  extraArgs:
  - key: config
    value: $HERE/kwok-stages.yaml$kwok_controller
$apiserver
EOF
}

# True if PID is a live component of this cluster. kwokctl starts each one through a
# symlink in $WORKDIR/bin, so argv[0] tells ours apart from an unrelated process that
# reused the PID of a stale pid file (after a reboot, say); zombies have no argv.
is_cluster_process() {
    local argv0=""
    [[ $1 =~ ^[0-9]+$ && -r /proc/$1/cmdline ]] || return 1
    IFS= read -r -d '' argv0 <"/proc/$1/cmdline" 2>/dev/null || true
    [[ $argv0 == "$WORKDIR/bin/"* ]]
}

# True while any thread of PID is still alive. An exiting process loses its argv, and
# its main thread turns zombie, before the last thread closes its sockets, so teardown
# waits on this to hand back a free port.
process_running() {
    local task stat
    for task in /proc/"$1"/task/*/stat; do
        stat=$(<"$task") 2>/dev/null || continue
        stat=${stat##*) }
        [[ $stat == [ZX]* ]] || return 0
    done
    return 1
}

cluster_pids() {
    local f pid
    for f in "$WORKDIR"/pids/*.pid; do
        [[ -f $f ]] || continue
        pid=$(<"$f")
        if is_cluster_process "$pid"; then echo "$pid"; fi
    done
    return 0
}

save_logs() {
    [[ -d $LOGS_DIR || -d $NODE_LOGS ]] || return 0
    rm -rf "$SAVED_LOGS"
    mkdir -p "$SAVED_LOGS"
    cp -a "$LOGS_DIR/." "$SAVED_LOGS/" 2>/dev/null || true
    if [[ -d $NODE_LOGS ]]; then
        mkdir -p "$SAVED_LOGS/real-node"
        cp -a "$NODE_LOGS/." "$SAVED_LOGS/real-node/" 2>/dev/null || true
    fi
}

teardown() {
    local pids=() hostpaths=() path pid i
    rm -f "$REAL_NODE_ABSENT"
    if [[ ! -d $WORKDIR ]]; then
        node_down
        return 0
    fi
    if cluster_ready; then
        # Directories the hostPath provisioner made for claims that still exist.
        mapfile -t hostpaths < <(kubectl_ get pv -o jsonpath='{range .items[*]}{.spec.hostPath.path}{"\n"}{end}' 2>/dev/null || true)
    fi
    mapfile -t pids < <(cluster_pids)
    save_logs
    # The real node first, while the API server can still tell its kubelet to stop pods.
    node_down
    log "deleting cluster $CLUSTER_NAME (pids: ${pids[*]:-none})"
    if [[ -x $KWOK_DIR/kwokctl ]]; then
        kwokctl_ delete cluster --kubeconfig "$KUBECONFIG_PATH" >>"$HARNESS_LOG" 2>&1 || log "kwokctl delete cluster failed"
    fi
    # kwokctl stops what it started; anything it missed gets TERM, then KILL.
    for i in $(seq 1 50); do
        mapfile -t pids < <(for pid in "${pids[@]}"; do if process_running "$pid"; then echo "$pid"; fi; done)
        ((${#pids[@]})) || break
        if ((i == 1)); then kill -TERM "${pids[@]}" 2>/dev/null || true; fi
        if ((i == 40)); then kill -KILL "${pids[@]}" 2>/dev/null || true; fi
        sleep 0.2
    done
    ((${#pids[@]} == 0)) || die "cluster processes ${pids[*]} did not stop; kill them by hand"
    for path in "${hostpaths[@]}"; do
        if [[ $path =~ ^/tmp/hostpath_pv/[0-9a-f-]+$ ]]; then rm -rf "$path"; fi
    done
    rm -rf "$WORKDIR"
}

wait_for() {
    local what=$1 timeout=$2
    shift 2
    local deadline=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
    log "$what ready after $((SECONDS - deadline + timeout))s"
}

# Packages and images for the real node, in a harness run of its own so that its
# failure leaves this one free to go on with kwok nodes only.
prepare_real_node() {
    local status=0
    JHB_HARNESS_LOCKED=1 "$HERE/harness.sh" build images 9>&- || status=$?
    ((status == 0)) || node_problem "its packages or images could not be installed or built (exit $status; logs in $BUILD_LOGS)"
    return "$status"
}

# Says loudly why there is no real node, and remembers it for `status`.
no_real_node() {
    local reason=$1
    mkdir -p "$(dirname "$REAL_NODE_ABSENT")"
    echo "$reason" >"$REAL_NODE_ABSENT"
    if real_node_wanted; then note "NO REAL NODE, kwok nodes only: $reason"; fi
}

ensure_real_node() {
    rm -f "$REAL_NODE_ABSENT"
    if [[ $(state_get status) == ready ]] && node_healthy; then
        # Images rebuilt since the node started replace the ones it has.
        import_images && return 0
    fi
    note "starting the real node $REAL_NODE_NAME"
    REAL_NODE_PROBLEM=""
    if node_up; then
        note "real node $REAL_NODE_NAME is Ready (label $REAL_NODE_LABEL, taint $REAL_NODE_TAINT)"
        return 0
    fi
    state_set status failed
    state_set reason "$REAL_NODE_PROBLEM"
    save_logs
    real_node_required && die "the real node did not start: $REAL_NODE_PROBLEM"
    note "WARNING: the real node did not start, kwok nodes only: $REAL_NODE_PROBLEM"
}

cmd_up() {
    local start=$SECONDS config mode=kwok obstacle
    # Fail before a long first build, not after it.
    if [[ ! -d $WORKDIR ]]; then require_free_port; fi
    obstacle=$(real_node_obstacle)
    if [[ -z $obstacle ]]; then
        mode=real
    elif real_node_required; then
        die "JHB_REAL_NODE=1 asks for a real node, but $obstacle"
    fi
    cmd_build
    take_lock
    if [[ $mode == real ]] && ! prepare_real_node; then
        real_node_required && die "JHB_REAL_NODE=1 asks for a real node, but $REAL_NODE_PROBLEM"
        mode=kwok
        obstacle=$REAL_NODE_PROBLEM
    fi
    mkdir -p "$CACHE_DIR/run"
    config=$CACHE_DIR/run/kwokctl-$CLUSTER_NAME.yaml
    write_kwokctl_config "$config.new" "$mode"
    if cmp -s "$config" "$config.new" && cluster_ready; then
        rm -f "$config.new"
        if [[ $mode == real ]]; then ensure_real_node; else no_real_node "$obstacle"; fi
        echo "$KUBECONFIG_PATH"
        return 0
    fi
    if [[ -d $WORKDIR || -f $NODE_STATE ]]; then
        log "found a stopped or broken cluster $CLUSTER_NAME, or one started with another configuration; recreating it"
        teardown
    fi
    require_free_port
    mv -f "$config.new" "$config"
    if [[ $mode == real ]]; then
        # The API server binds the node address, so it must exist first.
        take_over_stale_claim
        claim_real_node
        host_network_up
    fi
    log "creating cluster $CLUSTER_NAME on 127.0.0.1:$API_PORT ($mode)"
    if ! kwokctl_ --config "$config" create cluster --kubeconfig "" --wait 2m >>"$HARNESS_LOG" 2>&1; then
        teardown || true
        die "kwokctl could not start the cluster; see $HARNESS_LOG and the component logs in $SAVED_LOGS"
    fi
    if ! {
        kwokctl_ scale node --replicas "$NODES" >>"$HARNESS_LOG" 2>&1 &&
            kubectl_ apply -f "$HERE/manifests/" >>"$HARNESS_LOG" 2>&1 &&
            kubectl_ wait --for=condition=Ready node --all --timeout=120s >>"$HARNESS_LOG" 2>&1 &&
            wait_for "default service account" 60 kubectl_ get serviceaccount default --namespace default
    }; then
        save_logs
        die "the cluster started but did not become usable; see $HARNESS_LOG and the component logs in $LOGS_DIR"
    fi
    log "control plane of cluster $CLUSTER_NAME up in $((SECONDS - start))s"
    if [[ $mode == real ]]; then ensure_real_node; else no_real_node "$obstacle"; fi
    log "cluster $CLUSTER_NAME up in $((SECONDS - start))s"
    echo "$KUBECONFIG_PATH"
}

cmd_down() {
    take_lock
    teardown
}

cmd_status() {
    local state=absent built=no server="https://127.0.0.1:$API_PORT"
    all_built && built=yes
    if [[ -d $WORKDIR ]]; then
        state=stopped
        if cluster_ready; then
            state=running
            server=$(kubectl_ config view --minify -o jsonpath='{.clusters[0].cluster.server}')
        fi
    fi
    cat <<EOF
state=$state
built=$built
name=$CLUSTER_NAME
kubeconfig=$KUBECONFIG_PATH
context=$CONTEXT
server=$server
helm=$HELM_DIR/helm
bin_dir=$KUBE_DIR
logs_dir=$LOGS_DIR
saved_logs_dir=$SAVED_LOGS
harness_log=$HARNESS_LOG
kubernetes_version=$KUBE_VERSION
etcd_version=$ETCD_VERSION
kwok_version=$KWOK_VERSION
helm_version=$HELM_VERSION
kube_router_version=$KUBE_ROUTER_VERSION
coredns_version=$COREDNS_VERSION
EOF
    if [[ $state == running ]]; then
        real_node_status_lines
    else
        echo "real_node=absent"
        echo "real_node_reason=the cluster is not running"
    fi
    # What would keep `up` from starting the real node now (empty: nothing).
    echo "real_node_obstacle=$(real_node_obstacle)"
    [[ $state == running ]] || return 3
}

cmd_kubeconfig() {
    cluster_ready || die "the cluster is not running; start it with 'make cluster-up' (cluster/harness.sh up)"
    echo "$KUBECONFIG_PATH"
}

usage() {
    echo "usage: $0 build [helm|kubernetes|etcd|kwok|node|kube-router|coredns|pause|images]... | up | down | status | kubeconfig | bot-image" >&2
    exit 2
}

main() {
    (($#)) || usage
    local cmd=$1
    shift
    case $cmd in
        build) cmd_build "$@" ;;
        up) cmd_up ;;
        down) cmd_down ;;
        status) cmd_status ;;
        kubeconfig) cmd_kubeconfig ;;
        bot-image) cmd_bot_image ;;
        -h | --help | help) usage ;;
        *) echo "harness: unknown command '$cmd'" >&2 && usage ;;
    esac
}

# exit on the same line: bash reads scripts lazily, so an edit made while this runs
# must not be executed once main returns.
main "$@"; exit
