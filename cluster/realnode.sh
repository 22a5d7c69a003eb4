# The local cluster's real node (sourced by harness.sh).
#
# Beside the kwok nodes, one node whose pods really run on this machine: kubelet and
# kube-proxy built from the control plane's module, Debian's containerd, runc and CNI
# plugins, kube-router's firewall for NetworkPolicy, CoreDNS for cluster DNS, and
# images built here (images.sh). Pods opt in with the node's label and a toleration of
# its taint. Everything stays on this machine: the API server and the node listen on a
# dedicated address, pod and Service ranges stay on the node's bridge, and forwarded
# pod traffic to anything else is dropped.
#
# kubelet, kube-proxy and kube-router own machine-wide state (KUBE-* iptables chains,
# the kubepods cgroups, /var/lib/kubelet), so one cluster at a time has the real node;
# a claim file under /run says which.
# shellcheck shell=bash

REAL_NODE_NAME=real-node
REAL_NODE_LABEL=jupyterhub-bot.io/node=real
REAL_NODE_TAINT_KEY=jupyterhub-bot.io/real-node
REAL_NODE_TAINT_VALUE=true
REAL_NODE_TAINT=$REAL_NODE_TAINT_KEY=$REAL_NODE_TAINT_VALUE:NoSchedule

# Addresses. The node and API server address is dedicated to the cluster (never the
# machine's own interface address); the API server listens there on 6443, like a
# kubeadm cluster, so NetworkPolicies written for real clusters apply unchanged, and
# 127.0.0.1:$API_PORT is forwarded to it for the host's clients.
NODE_IP=10.245.0.1
NODE_API_PORT=6443
POD_CIDR=10.244.0.0/24
POD_GATEWAY=10.244.0.1
SERVICE_CIDR=10.96.0.0/16
KUBERNETES_SERVICE_IP=10.96.0.1
DNS_SERVICE_IP=10.96.0.10
# Pod addresses kwok makes up for its pods (never routed anywhere).
KWOK_POD_RANGE=10.0.0.0/16

# Host-level names carry a tag derived from the cluster name, so two clusters never
# touch each other's interfaces or chains.
HOST_TAG=$(printf '%s' "$CLUSTER_NAME" | sha256sum | cut -c1-6)
ADDRESS_LINK=jhb-$HOST_TAG
POD_BRIDGE=jhbbr-$HOST_TAG
API_CHAIN=JHB-$HOST_TAG-API
GUARD_CHAIN=JHB-$HOST_TAG-GUARD
HOST_COMMENT="jupyterhub-bot cluster $CLUSTER_NAME"

NODE_DIR=$CACHE_DIR/realnode/$CLUSTER_NAME
NODE_LOGS=$NODE_DIR/logs
NODE_PIDS=$NODE_DIR/pids
NODE_STATE=$CACHE_DIR/run/realnode-$CLUSTER_NAME.state
# Why the running cluster has no real node, when it has none.
REAL_NODE_ABSENT=$CACHE_DIR/run/realnode-$CLUSTER_NAME.absent
# Machine-wide; JHB_CLAIM_DIR moves it (the harness tests use their own).
CLAIM_DIR=${JHB_CLAIM_DIR:-/run/jupyterhub-bot}
CLAIM_FILE=$CLAIM_DIR/real-node.claim
CONTAINERD_SOCKET=$NODE_DIR/containerd/containerd.sock
HOSTPATH_DIR=/tmp/hostpath_pv

HOST_PACKAGES=(containerd runc containernetworking-plugins iptables ipset conntrack inotify-tools mmdebstrap)
CNI_BIN_DIR=/usr/lib/cni
NODE_COMPONENTS=(containerd kubelet kube-proxy kube-router volume-permissions)

# --- state ------------------------------------------------------------------------

state_get() {
    [[ -f $NODE_STATE ]] || return 0
    sed -n "s/^$1=//p" "$NODE_STATE" | tail -n 1
}

state_set() {
    local key=$1 value=$2
    mkdir -p "$(dirname "$NODE_STATE")"
    touch "$NODE_STATE"
    grep -v "^$key=" "$NODE_STATE" >"$NODE_STATE.new" || true
    echo "$key=$value" >>"$NODE_STATE.new"
    mv -f "$NODE_STATE.new" "$NODE_STATE"
}

real_node_wanted() {
    [[ ${JHB_REAL_NODE:-auto} != 0 ]]
}

real_node_required() {
    [[ ${JHB_REAL_NODE:-auto} == 1 ]]
}

# --- capability ---------------------------------------------------------------------

claim_holder() {
    [[ -f $CLAIM_FILE ]] && cat "$CLAIM_FILE"
    return 0
}

# "NAME NODE_DIR" of the claim, when it names another cluster than this one.
other_claim() {
    local holder_name holder_dir
    read -r holder_name holder_dir <<<"$(claim_holder)"
    if [[ -n $holder_name ]] && [[ $holder_name != "$CLUSTER_NAME" || $holder_dir != "$NODE_DIR" ]]; then
        echo "$holder_name $holder_dir"
    fi
}

# True if a component of the real node kept in DIR still runs. A claim whose node has
# nothing left running is stale (the machine restarted, or the node was killed).
holder_node_alive() {
    local dir=$1 pidfile pid cmdline
    for pidfile in "$dir"/pids/*.pid; do
        [[ -f $pidfile ]] || continue
        pid=$(<"$pidfile")
        [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || continue
        cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
        [[ $cmdline =~ (containerd|kubelet|kube-proxy|kube-router|volume-permissions) ]] || continue
        process_running "$pid" && return 0
    done
    return 1
}

# The other cluster named by a stale claim, if there is one.
stale_claim_holder() {
    local holder_name holder_dir
    read -r holder_name holder_dir <<<"$(other_claim)"
    if [[ -n $holder_name ]] && ! holder_node_alive "$holder_dir"; then echo "$holder_name"; fi
}

# A stale claim's cluster is torn down (as `up` does with a stopped cluster of its own),
# so that its addresses, bridge and mounts do not collide with the node started here.
take_over_stale_claim() {
    local holder_name
    holder_name=$(stale_claim_holder)
    [[ -n $holder_name ]] || return 0
    note "cluster '$holder_name' claimed the real node but nothing of it runs any more; tearing it down to take the node over"
    JHB_CLUSTER_NAME=$holder_name JHB_HARNESS_LOCKED=1 "$HERE/harness.sh" down 9>&- >>"$HARNESS_LOG" 2>&1 ||
        log "tearing down the stale cluster $holder_name failed"
    rm -f "$CLAIM_FILE"
}

# Prints why this machine cannot run the real node for this cluster; nothing if it can.
real_node_obstacle() {
    local holder_name holder_dir
    real_node_wanted || { echo "JHB_REAL_NODE=0 asks for kwok nodes only" && return; }
    [[ $(id -u) == 0 ]] || { echo "the real node needs root (containerd, kubelet, iptables), and this is uid $(id -u)" && return; }
    [[ $(uname -s) == Linux ]] || { echo "the real node needs Linux" && return; }
    grep -qw overlay /proc/filesystems || { echo "the kernel has no overlay filesystem for containerd" && return; }
    [[ -d /sys/fs/cgroup ]] || { echo "no cgroup filesystem at /sys/fs/cgroup" && return; }
    command -v ip >/dev/null || { echo "no 'ip' command (iproute2)" && return; }
    read -r holder_name holder_dir <<<"$(other_claim)"
    if [[ -n $holder_name ]] && holder_node_alive "$holder_dir"; then
        echo "cluster '$holder_name' already runs this machine's real node (one per machine; JHB_CLUSTER_NAME=$holder_name cluster/harness.sh down frees it)"
        return
    fi
    if ! command -v apt-get >/dev/null; then
        local package
        for package in containerd runc iptables ipset mmdebstrap inotifywait; do
            command -v "$package" >/dev/null || { echo "'$package' is missing and there is no apt-get to install it" && return; }
        done
    fi
}

# --- host packages ------------------------------------------------------------------

missing_host_packages() {
    local package
    for package in "${HOST_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || echo "$package"
    done
}

install_host_packages() {
    local missing start=$SECONDS
    mapfile -t missing < <(missing_host_packages)
    ((${#missing[@]})) || return 0
    note "installing Debian packages for the real node: ${missing[*]} (log: $BUILD_LOGS/apt.log)"
    mkdir -p "$BUILD_LOGS"
    {
        apt-get update -q &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    } >>"$BUILD_LOGS/apt.log" 2>&1 || die "apt-get could not install ${missing[*]}; see $BUILD_LOGS/apt.log"
    # Debian's package enables a system containerd; it must not compete with ours.
    if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
        systemctl disable --now containerd >>"$BUILD_LOGS/apt.log" 2>&1 || true
    fi
    note "installed ${missing[*]} in $((SECONDS - start))s"
}

require_image_tools() {
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        install_host_packages
    fi
    local tool
    for tool in mmdebstrap chroot npm python3; do
        command -v "$tool" >/dev/null || die "building the real node's images needs '$tool'"
    done
}

# --- host network -------------------------------------------------------------------

sysctl_path() {
    echo "/proc/sys/${1//.//}"
}

# Sets a sysctl, remembering the value it had before the first change.
set_sysctl() {
    local name=$1 value=$2 path
    path=$(sysctl_path "$name")
    [[ -w $path ]] || return 0
    [[ -n $(state_get "sysctl.$name") ]] || state_set "sysctl.$name" "$(<"$path")"
    echo "$value" >"$path"
}

restore_sysctls() {
    local line name value
    [[ -f $NODE_STATE ]] || return 0
    while IFS= read -r line; do
        [[ $line == sysctl.* ]] || continue
        name=${line%%=*}
        name=${name#sysctl.}
        value=${line#*=}
        echo "$value" >"$(sysctl_path "$name")" 2>/dev/null || true
    done <"$NODE_STATE"
}

# A link to hold the dedicated address: a dummy link where the kernel has the driver,
# otherwise a bridge without ports, which holds a local address just the same.
add_address_link() {
    ip link show "$ADDRESS_LINK" >/dev/null 2>&1 ||
        ip link add "$ADDRESS_LINK" type dummy 2>/dev/null ||
        ip link add "$ADDRESS_LINK" type bridge
    ip addr replace "$NODE_IP/32" dev "$ADDRESS_LINK"
    ip link set "$ADDRESS_LINK" up
}

iptables_chain() {
    local tool=$1 table=$2 chain=$3
    "$tool" -w -t "$table" -N "$chain" 2>/dev/null || "$tool" -w -t "$table" -F "$chain"
}

# Removes CHAIN and every jump to it from TABLE.
iptables_drop_chain() {
    local tool=$1 table=$2 chain=$3 rule
    command -v "$tool" >/dev/null || return 0
    while IFS= read -r rule; do
        # shellcheck disable=SC2086 # the rule is iptables-save syntax, split on purpose
        eval "$tool -w -t $table -D ${rule#-A }" 2>/dev/null || true
    done < <("$tool" -w -t "$table" -S 2>/dev/null | grep -E "^-A [A-Z]+ .*-j $chain( |$)")
    "$tool" -w -t "$table" -F "$chain" 2>/dev/null || true
    "$tool" -w -t "$table" -X "$chain" 2>/dev/null || true
}

host_network_up() {
    set_sysctl net.ipv4.ip_forward 1
    add_address_link
    # The node's bridge, made before the CNI plugin would, so the Service range can be
    # routed onto it from the start.
    ip link show "$POD_BRIDGE" >/dev/null 2>&1 || ip link add "$POD_BRIDGE" type bridge
    ip addr replace "$POD_GATEWAY/${POD_CIDR#*/}" dev "$POD_BRIDGE"
    ip link set "$POD_BRIDGE" up
    ip route replace "$SERVICE_CIDR" dev "$POD_BRIDGE" src "$POD_GATEWAY"
    ip route replace unreachable "$KWOK_POD_RANGE"
    # kube-proxy's rules must see traffic between pods on the same bridge.
    set_sysctl net.bridge.bridge-nf-call-iptables 1
    set_sysctl net.bridge.bridge-nf-call-ip6tables 1

    # Host clients (kwokctl, kubectl, the tests) keep using 127.0.0.1:$API_PORT.
    iptables_chain iptables nat "$API_CHAIN"
    iptables -w -t nat -A "$API_CHAIN" -d 127.0.0.1/32 -p tcp --dport "$API_PORT" \
        -m comment --comment "$HOST_COMMENT: API server" -j DNAT --to-destination "$NODE_IP:$NODE_API_PORT"
    iptables -w -t nat -C OUTPUT -j "$API_CHAIN" 2>/dev/null || iptables -w -t nat -I OUTPUT 1 -j "$API_CHAIN"

    # Pods talk to pods, Services and this machine only: anything forwarded between the
    # node's bridge and another interface is dropped, in mangle so that no ACCEPT of
    # kube-proxy's or kube-router's in the filter table comes first.
    local tool
    for tool in iptables ip6tables; do
        iptables_chain "$tool" mangle "$GUARD_CHAIN"
        "$tool" -w -t mangle -A "$GUARD_CHAIN" -i "$POD_BRIDGE" ! -o "$POD_BRIDGE" \
            -m comment --comment "$HOST_COMMENT: pod traffic leaving the machine" -j DROP
        "$tool" -w -t mangle -A "$GUARD_CHAIN" -o "$POD_BRIDGE" ! -i "$POD_BRIDGE" \
            -m comment --comment "$HOST_COMMENT: outside traffic to pods" -j DROP
        "$tool" -w -t mangle -C FORWARD -j "$GUARD_CHAIN" 2>/dev/null || "$tool" -w -t mangle -I FORWARD 1 -j "$GUARD_CHAIN"
    done
}

host_network_down() {
    local tool
    iptables_drop_chain iptables nat "$API_CHAIN"
    for tool in iptables ip6tables; do iptables_drop_chain "$tool" mangle "$GUARD_CHAIN"; done
    ip route del unreachable "$KWOK_POD_RANGE" 2>/dev/null || true
    ip link del "$POD_BRIDGE" 2>/dev/null || true
    ip link del "$ADDRESS_LINK" 2>/dev/null || true
    restore_sysctls
}

# --- processes ----------------------------------------------------------------------

node_binary() {
    case $1 in
        containerd) command -v containerd ;;
        kubelet) echo "$NODE_BIN_DIR/kubelet" ;;
        kube-proxy) echo "$NODE_BIN_DIR/kube-proxy" ;;
        kube-router) echo "$KUBE_ROUTER_DIR/kube-router" ;;
        volume-permissions) echo "$HERE/node/volume-permissions.sh" ;;
    esac
}

# True if the pid file of COMPONENT names a live process started from its binary.
node_process_pid() {
    local component=$1 pid cmdline binary
    [[ -f $NODE_PIDS/$component.pid ]] || return 1
    pid=$(<"$NODE_PIDS/$component.pid")
    [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    binary=$(node_binary "$component")
    # The watcher is a script of whichever checkout started the node, which may be another
    # one than this (one real node per machine): know it by its place in any checkout.
    if [[ $component == volume-permissions ]]; then
        [[ $cmdline == *"/cluster/node/volume-permissions.sh "* ]] || return 1
    else
        [[ $cmdline == "$binary "* || $cmdline == *" $binary "* ]] || return 1
    fi
    process_running "$pid" || return 1
    echo "$pid"
}

start_node_process() {
    local component=$1
    shift
    mkdir -p "$NODE_PIDS" "$NODE_LOGS"
    echo "# $(date -u +%FT%TZ) $*" >>"$NODE_LOGS/$component.log"
    # Its own session, so it outlives this script; fd 9 (the harness lock) stays here.
    setsid "$@" >>"$NODE_LOGS/$component.log" 2>&1 </dev/null 9>&- &
    echo $! >"$NODE_PIDS/$component.pid"
}

stop_node_process() {
    local component=$1 pid i
    pid=$(node_process_pid "$component") || {
        rm -f "$NODE_PIDS/$component.pid"
        return 0
    }
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
        process_running "$pid" || break
        ((i == 75)) && { kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; }
        sleep 0.2
    done
    rm -f "$NODE_PIDS/$component.pid"
}

node_kubectl() {
    kubectl_ --request-timeout=10s "$@"
}

# --- certificates and kubeconfigs -----------------------------------------------------

# A client certificate signed by the cluster's CA, and a kubeconfig that uses it to
# reach the API server at the node address: each node component has its own identity
# and only the rights RBAC gives it.
write_component_kubeconfig() {
    local name=$1 subject=$2 pki=$NODE_DIR/pki
    mkdir -p "$pki"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$subject" \
        -keyout "$pki/$name.key" -out "$pki/$name.csr" 2>/dev/null
    openssl x509 -req -in "$pki/$name.csr" -CA "$WORKDIR/pki/ca.crt" -CAkey "$WORKDIR/pki/ca.key" \
        -CAcreateserial -CAserial "$pki/ca.srl" -days 365 -out "$pki/$name.crt" \
        -extfile <(printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n') 2>/dev/null
    chmod 600 "$pki/$name.key"
    cat >"$NODE_DIR/$name.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $CLUSTER_NAME
  cluster:
    server: https://$NODE_IP:$NODE_API_PORT
    certificate-authority: $WORKDIR/pki/ca.crt
users:
- name: $name
  user:
    client-certificate: $pki/$name.crt
    client-key: $pki/$name.key
contexts:
- name: $name
  context: {cluster: $CLUSTER_NAME, user: $name}
current-context: $name
EOF
}

# --- configuration files ------------------------------------------------------------------

write_node_configs() {
    mkdir -p "$NODE_DIR"/{containerd,cni/net.d,cni/ipam,kubelet,kubelet-root,pod-logs}
    cat >"$NODE_DIR/containerd/config.toml" <<EOF
# containerd $(containerd --version 2>/dev/null | awk '{print $3}') for the real node of cluster $CLUSTER_NAME: its own
# root, state and socket, so nothing system-wide is used.
version = 2
root = "$NODE_DIR/containerd/root"
state = "$NODE_DIR/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$CONTAINERD_SOCKET"
[ttrpc]
  address = "$CONTAINERD_SOCKET.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$(image_ref pause)"
  # runc cannot lower oom_score_adj where CAP_SYS_RESOURCE is withheld (this VM):
  # clamp what it asks for to containerd's own score instead of failing every sandbox.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN_DIR"
    conf_dir = "$NODE_DIR/cni/net.d"
EOF
    cat >"$NODE_DIR/cni/net.d/10-$CLUSTER_NAME.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "jupyterhub-bot-$HOST_TAG",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$POD_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$NODE_DIR/cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$POD_GATEWAY"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
    cat >"$NODE_DIR/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$CONTAINERD_SOCKET
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
# The API server calls the kubelet with the cluster's admin certificate; nobody else.
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $WORKDIR/pki/ca.crt}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
# This machine has cgroup v1, which kubelet 1.34 refuses unless told otherwise.
failCgroupV1: false
failSwapOn: false
clusterDomain: cluster.local
clusterDNS: [$DNS_SERVICE_IP]
# Pods get cluster DNS only; nothing from this machine's resolver.
resolvConf: ""
registerNode: true
registerWithTaints:
- {key: $REAL_NODE_TAINT_KEY, value: "$REAL_NODE_TAINT_VALUE", effect: NoSchedule}
maxPods: 110
serializeImagePulls: false
# The images are imported, never pulled: never collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
podLogsDir: $NODE_DIR/pod-logs
EOF
    cat >"$NODE_DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $NODE_DIR/kube-proxy.kubeconfig}
hostnameOverride: $REAL_NODE_NAME
bindAddress: $NODE_IP
clusterCIDR: $POD_CIDR
# NodePorts on the node address only, never on the machine's interfaces or 127.0.0.1.
nodePortAddresses: ["$NODE_IP/32"]
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
iptables: {localhostNodePorts: false}
# Leave the machine's conntrack settings alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
}

write_manifests() {
    local out=$NODE_DIR/manifests.yaml manifest
    for manifest in "$HERE"/node/manifests/*.yaml; do
        echo "---"
        sed -e "s|@COREDNS_IMAGE@|$(image_ref coredns)|g" -e "s|@DNS_SERVICE_IP@|$DNS_SERVICE_IP|g" \
            -e "s|@REAL_NODE_LABEL_KEY@|${REAL_NODE_LABEL%%=*}|g" -e "s|@REAL_NODE_LABEL_VALUE@|${REAL_NODE_LABEL#*=}|g" \
            -e "s|@REAL_NODE_TAINT_KEY@|$REAL_NODE_TAINT_KEY|g" -e "s|@REAL_NODE_TAINT_VALUE@|$REAL_NODE_TAINT_VALUE|g" \
            "$manifest"
    done >"$out"
    echo "$out"
}

# --- start and stop ---------------------------------------------------------------------

containerd_ctr() {
    ctr --address "$CONTAINERD_SOCKET" --namespace k8s.io "$@"
}

# Imports the image archives containerd does not have yet (or has from an older
# archive), all at once: unpacking is CPU-bound and this machine has two cores.
import_images() {
    local name archive i status=0 pids=() names=()
    for name in "${IMAGE_NAMES[@]}"; do
        archive=$(image_archive "$name")
        if [[ $(state_get "imported.$name") == "$(basename "$archive")" ]] &&
            containerd_ctr images ls -q "name==$(image_ref "$name")" 2>/dev/null | grep -q .; then
            continue
        fi
        note "  real node: importing $(image_ref "$name") ($(du -h "$archive" | cut -f1))"
        containerd_ctr images import "$archive" >>"$NODE_LOGS/import-$name.log" 2>&1 &
        pids+=("$!")
        names+=("$name")
    done
    for i in "${!pids[@]}"; do
        if wait "${pids[$i]}"; then
            state_set "imported.${names[$i]}" "$(basename "$(image_archive "${names[$i]}")")"
        else
            status=1
        fi
    done
    return "$status"
}

node_ready() {
    [[ $(node_kubectl get node "$REAL_NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]
}

kube_proxy_synced() {
    iptables -w -t nat -S KUBE-SERVICES 2>/dev/null | grep -q "default/kubernetes:https"
}

kube_router_running() {
    iptables -w -t filter -S KUBE-ROUTER-FORWARD >/dev/null 2>&1
}

node_problem() {
    REAL_NODE_PROBLEM=$1
}

# Starts what is not running of the real node, in order, each once the one before is
# usable. Returns non-zero, with REAL_NODE_PROBLEM set, when a part does not come up.
node_up() {
    local start=$SECONDS node_start
    mkdir -p "$NODE_LOGS" "$NODE_PIDS"
    claim_real_node
    host_network_up
    if [[ ! -f $NODE_DIR/kubelet.kubeconfig ]]; then
        write_component_kubeconfig kubelet "/O=system:nodes/CN=system:node:$REAL_NODE_NAME"
        write_component_kubeconfig kube-proxy "/CN=system:kube-proxy"
        write_component_kubeconfig kube-router "/CN=jupyterhub-bot:kube-router"
    fi
    write_node_configs

    if ! node_process_pid containerd >/dev/null; then
        note "  real node: starting containerd"
        start_node_process containerd "$(node_binary containerd)" --config "$NODE_DIR/containerd/config.toml"
        wait_for containerd 30 containerd_ctr version || { node_problem "containerd did not start; see $NODE_LOGS/containerd.log" && return 1; }
    fi
    import_images || { node_problem "containerd could not import the images; see $NODE_LOGS/import-*.log" && return 1; }

    node_start=$SECONDS
    note_system_folders
    if ! node_process_pid kubelet >/dev/null; then
        note "  real node: starting kubelet"
        start_node_process kubelet "$NODE_BIN_DIR/kubelet" --config="$NODE_DIR/kubelet/config.yaml" \
            --kubeconfig="$NODE_DIR/kubelet.kubeconfig" --root-dir="$NODE_DIR/kubelet-root" \
            --cert-dir="$NODE_DIR/kubelet/pki" --hostname-override="$REAL_NODE_NAME" --node-ip="$NODE_IP" \
            --node-labels="$REAL_NODE_LABEL" --v=1
    fi
    if ! node_process_pid kube-proxy >/dev/null; then
        start_node_process kube-proxy "$NODE_BIN_DIR/kube-proxy" --config="$NODE_DIR/kube-proxy.yaml" --v=1
    fi
    wait_for "real node registered" 60 node_kubectl get node "$REAL_NODE_NAME" ||
        { node_problem "kubelet did not register node $REAL_NODE_NAME; see $NODE_LOGS/kubelet.log" && return 1; }
    wait_for "real node Ready" 120 node_ready ||
        { node_problem "node $REAL_NODE_NAME did not become Ready; see $NODE_LOGS/kubelet.log" && return 1; }
    state_set ready_after_s "$((SECONDS - node_start))"
    note "  real node: $REAL_NODE_NAME Ready $((SECONDS - node_start))s after kubelet started"

    # kube-router exits at once if its Node object does not exist yet.
    if ! node_process_pid kube-router >/dev/null; then
        start_node_process kube-router "$KUBE_ROUTER_DIR/kube-router" --kubeconfig="$NODE_DIR/kube-router.kubeconfig" \
            --hostname-override="$REAL_NODE_NAME" --run-firewall=true --run-router=false --run-service-proxy=false \
            --enable-cni=false --enable-pod-egress=false --service-cluster-ip-range="$SERVICE_CIDR" \
            --health-port=0 --metrics-port=0 --v=1
    fi
    if ! node_process_pid volume-permissions >/dev/null; then
        start_node_process volume-permissions "$HERE/node/volume-permissions.sh" "$HOSTPATH_DIR"
    fi
    node_kubectl apply -f "$(write_manifests)" >>"$HARNESS_LOG" 2>&1 ||
        { node_problem "could not apply the real node's manifests; see $HARNESS_LOG" && return 1; }
    wait_for "kube-proxy rules" 60 kube_proxy_synced ||
        { node_problem "kube-proxy wrote no Service rules; see $NODE_LOGS/kube-proxy.log" && return 1; }
    wait_for "kube-router firewall" 60 kube_router_running ||
        { node_problem "kube-router set up no firewall; see $NODE_LOGS/kube-router.log" && return 1; }
    node_kubectl --namespace kube-system rollout status deployment/coredns --timeout=120s >>"$HARNESS_LOG" 2>&1 ||
        { node_problem "CoreDNS did not become available on the real node; see $HARNESS_LOG and $NODE_LOGS" && return 1; }
    state_set status ready
    state_set reason ""
    log "real node $REAL_NODE_NAME up in $((SECONDS - start))s"
}

node_healthy() {
    local component
    for component in "${NODE_COMPONENTS[@]}"; do
        node_process_pid "$component" >/dev/null || return 1
    done
    node_ready
}

claim_real_node() {
    mkdir -p "$CLAIM_DIR"
    echo "$CLUSTER_NAME $NODE_DIR" >"$CLAIM_FILE"
}

release_real_node() {
    if [[ -z $(other_claim) ]]; then rm -f "$CLAIM_FILE"; fi
    return 0
}

# Unmounts everything mounted under DIR, deepest first.
unmount_under() {
    local dir=$1 mount
    while IFS= read -r mount; do
        umount "$mount" 2>/dev/null || umount -l "$mount" 2>/dev/null || true
    done < <(awk -v d="$dir/" 'index($2, d) == 1 || $2 == substr(d, 1, length(d) - 1) { print $2 }' /proc/self/mounts | sort -r)
}

remove_kube_chains() {
    local tool table rule chain
    for tool in iptables ip6tables; do
        command -v "$tool" >/dev/null || continue
        for table in filter nat mangle raw; do
            while IFS= read -r rule; do
                # shellcheck disable=SC2086 # iptables-save syntax, split on purpose
                eval "$tool -w -t $table -D ${rule#-A }" 2>/dev/null || true
            done < <("$tool" -w -t "$table" -S 2>/dev/null | grep -E '^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j (KUBE-|CNI-)')
            while IFS= read -r chain; do "$tool" -w -t "$table" -F "$chain" 2>/dev/null || true; done \
                < <("$tool" -w -t "$table" -S 2>/dev/null | awk '/^-N (KUBE-|CNI-)/ { print $2 }')
            while IFS= read -r chain; do "$tool" -w -t "$table" -X "$chain" 2>/dev/null || true; done \
                < <("$tool" -w -t "$table" -S 2>/dev/null | awk '/^-N (KUBE-|CNI-)/ { print $2 }')
        done
    done
}

# Stops the real node and removes everything it left on the host. Tolerant: it also
# cleans up after a node that only half started, and one failed step does not stop it.
node_down() {
    [[ -d $NODE_DIR || -f $NODE_STATE ]] || return 0
    (
        set +e
        node_down_steps
    )
}

node_down_steps() {
    local pods netns cg
    log "stopping real node $REAL_NODE_NAME of cluster $CLUSTER_NAME"
    if node_process_pid kubelet >/dev/null && cluster_ready; then
        # Let the kubelet stop its pods properly (volumes unmounted, networks released).
        node_kubectl cordon "$REAL_NODE_NAME" >>"$HARNESS_LOG" 2>&1 || true
        pods=$(node_kubectl get pods --all-namespaces --field-selector "spec.nodeName=$REAL_NODE_NAME" -o name 2>/dev/null | wc -l)
        if ((pods > 0)); then
            node_kubectl delete pods --all-namespaces --field-selector "spec.nodeName=$REAL_NODE_NAME" \
                --grace-period=2 --timeout=60s >>"$HARNESS_LOG" 2>&1 || true
        fi
    fi
    stop_node_process volume-permissions
    # Not kube-router's --cleanup-config: v2.1.0 crashes in it, after deleting every IPVS
    # service of the machine. Its chains and ipsets go with the others below.
    stop_node_process kube-router
    stop_node_process kube-proxy
    if [[ -x $NODE_BIN_DIR/kube-proxy ]]; then "$NODE_BIN_DIR/kube-proxy" --cleanup >>"$HARNESS_LOG" 2>&1; fi
    stop_node_process kubelet
    if node_process_pid containerd >/dev/null; then
        # Whatever the kubelet did not stop.
        while read -r task _; do
            containerd_ctr tasks kill --signal SIGKILL "$task" >/dev/null 2>&1 || true
        done < <(containerd_ctr tasks ls -q 2>/dev/null)
        while read -r container; do
            containerd_ctr tasks delete --force "$container" >/dev/null 2>&1 || true
            containerd_ctr containers delete "$container" >/dev/null 2>&1 || true
        done < <(containerd_ctr containers ls -q 2>/dev/null)
    fi
    stop_node_process containerd
    # Network namespaces of sandboxes the CNI plugin did not get to release.
    for netns in /run/netns/cni-*; do
        [[ -e $netns ]] || continue
        if ! ip netns pids "${netns##*/}" 2>/dev/null | grep -q .; then
            umount "$netns" 2>/dev/null || true
            rm -f "$netns"
        fi
    done
    unmount_under "$NODE_DIR"
    remove_kube_chains
    ipset list -n 2>/dev/null | grep -E '^KUBE-' | xargs -r -n 1 ipset destroy 2>/dev/null || true
    for cg in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
        [[ -d $cg ]] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    # kubelet keeps device-plugin sockets in a fixed folder; remove it if it was ours.
    if [[ $(state_get created.var_lib_kubelet) == yes ]]; then rm -rf /var/lib/kubelet; fi
    if [[ $(state_get created.var_lib_cni) == yes ]]; then rm -rf /var/lib/cni; fi
    if ! awk -v d="$NODE_DIR/" 'index($2, d) == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
        rm -rf "$NODE_DIR"
    else
        note "some mounts under $NODE_DIR could not be removed; left it in place"
    fi
    host_network_down
    release_real_node
    rm -f "$NODE_STATE"
}

# Records which fixed system folders the node is about to create, so down removes only those.
note_system_folders() {
    [[ -n $(state_get created.var_lib_kubelet) ]] || state_set created.var_lib_kubelet "$([[ -e /var/lib/kubelet ]] && echo no || echo yes)"
    [[ -n $(state_get created.var_lib_cni) ]] || state_set created.var_lib_cni "$([[ -e /var/lib/cni ]] && echo no || echo yes)"
}

real_node_status_lines() {
    local status=absent reason images=() name
    if [[ -f $REAL_NODE_ABSENT ]]; then
        reason=$(<"$REAL_NODE_ABSENT")
    elif [[ -f $NODE_STATE ]]; then
        status=$(state_get status)
        reason=$(state_get reason)
    else
        reason="not started (cluster/harness.sh up starts it)"
    fi
    if [[ $status == ready ]] && ! { cluster_ready && node_healthy; }; then
        status=notready
        reason="a component of the real node stopped or the node is not Ready; see $NODE_LOGS"
    fi
    if [[ $status == ready || $status == notready ]] && [[ -S $CONTAINERD_SOCKET ]]; then
        for name in "${IMAGE_NAMES[@]}"; do
            if containerd_ctr images ls -q "name==$(image_ref "$name")" 2>/dev/null | grep -q .; then
                images+=("$(image_ref "$name")")
            fi
        done
    fi
    local joined
    joined=$(
        IFS=,
        echo "${images[*]}"
    )
    cat <<EOF
real_node=${status:-absent}
real_node_reason=${reason:-}
real_node_name=$REAL_NODE_NAME
real_node_ip=$NODE_IP
real_node_label=$REAL_NODE_LABEL
real_node_taint=$REAL_NODE_TAINT
real_node_ready_after_s=$(state_get ready_after_s)
real_node_logs_dir=$NODE_LOGS
real_node_images=$joined
real_node_host_tag=$HOST_TAG
real_node_guard_chain=$GUARD_CHAIN
pod_cidr=$POD_CIDR
service_cidr=$SERVICE_CIDR
dns_service_ip=$DNS_SERVICE_IP
image_hub=$(image_ref hub)
image_proxy=$(image_ref proxy)
image_singleuser=$(image_ref singleuser)
image_pause=$(image_ref pause)
image_coredns=$(image_ref coredns)
EOF
}
