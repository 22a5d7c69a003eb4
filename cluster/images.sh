# Container images for the local cluster's real node (sourced by harness.sh).
#
# No image registry is reachable, so every image is built here: a Debian root
# filesystem (mmdebstrap) plus packages from PyPI or npm, packed by images/pack.py as a
# one-layer archive that containerd imports. Archives are cached under
# $CACHE_DIR/images, named after a hash of everything that goes into them, and rebuilt
# only when one of those inputs changes.
# shellcheck shell=bash

IMAGE_REGISTRY=local.jupyterhub-bot
IMAGE_SUITE=trixie
IMAGE_MIRROR=http://deb.debian.org/debian
IMAGE_SECURITY_MIRROR="deb http://deb.debian.org/debian-security $IMAGE_SUITE-security main"
IMAGES_DIR=$CACHE_DIR/images
IMAGE_NAMES=(pause coredns hub proxy singleuser)

requirement_version() {
    local file=$1 package=$2 version
    version=$(sed -n "s/^$package==\([^ ]*\).*/\1/p" "$file" | head -n 1)
    [[ -n $version ]] || die "cannot find $package in $file"
    echo "$version"
}

image_ref() {
    case $1 in
        pause) echo "$IMAGE_REGISTRY/pause:1" ;;
        coredns) echo "$IMAGE_REGISTRY/coredns:${COREDNS_VERSION#v}" ;;
        hub) echo "$IMAGE_REGISTRY/k8s-hub:$HUB_IMAGE_TAG" ;;
        proxy)
            echo "$IMAGE_REGISTRY/configurable-http-proxy:$(sed -n 's/.*"configurable-http-proxy": "\(.*\)".*/\1/p' "$HERE/images/proxy/package.json")"
            ;;
        singleuser) echo "$IMAGE_REGISTRY/singleuser:$(requirement_version "$HERE/images/singleuser/requirements.txt" jupyterhub)" ;;
        *) die "unknown image '$1' (expected one of: ${IMAGE_NAMES[*]})" ;;
    esac
}

# Everything an image is made from: this recipe, the packer, its own folder, the
# Debian suite, and the binaries it carries.
image_inputs_hash() {
    local name=$1
    {
        echo "$name $(image_ref "$name") $IMAGE_SUITE $IMAGE_MIRROR"
        cat "$HERE/images.sh" "$HERE/images/pack.py"
        if [[ -d $HERE/images/$name ]]; then
            find "$HERE/images/$name" -type f | LC_ALL=C sort | xargs cat
        fi
        case $name in
            pause) sha256sum <"$PAUSE_DIR/pause" ;;
            coredns) sha256sum <"$COREDNS_DIR/coredns" ;;
        esac
    } | sha256sum | cut -c1-16
}

image_archive() {
    echo "$IMAGES_DIR/$1-$(image_inputs_hash "$1").tar"
}

images_built() {
    local name
    for name in "${IMAGE_NAMES[@]}"; do
        [[ -f $(image_archive "$name") ]] || return 1
    done
}

# mmdebstrap of IMAGE_SUITE into ROOTFS with the given extra arguments; documentation,
# man pages and translations are left out.
debian_rootfs() {
    local rootfs=$1 log=$2
    shift 2
    mmdebstrap --mode=root --format=directory \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
        "$@" "$IMAGE_SUITE" "$rootfs" "$IMAGE_MIRROR" "$IMAGE_SECURITY_MIRROR" >>"$log" 2>&1
}

# Commands run inside a root filesystem under construction, with the host's CA bundle
# (the registries may be reached through a proxy that the image's own bundle does not
# know) and none of the host's environment.
in_rootfs() {
    local rootfs=$1
    shift
    chroot "$rootfs" env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/root LANG=C.UTF-8 \
        PIP_CERT=/tmp/host-ca.pem SSL_CERT_FILE=/tmp/host-ca.pem PIP_NO_CACHE_DIR=1 \
        PIP_DISABLE_PIP_VERSION_CHECK=1 "$@"
}

# An account in /etc/passwd and /etc/group without needing the passwd package.
add_account() {
    local rootfs=$1 user=$2 uid=$3 gid=$4 group=$5 home=$6
    grep -q "^$group:" "$rootfs/etc/group" || echo "$group:x:$gid:" >>"$rootfs/etc/group"
    echo "$user:x:$uid:$gid::$home:/bin/bash" >>"$rootfs/etc/passwd"
    echo "$user:!:0::::::" >>"$rootfs/etc/shadow"
    mkdir -p "$rootfs$home"
    chown "$uid:$gid" "$rootfs$home"
}

# A Python virtual environment at VENV inside ROOTFS with REQUIREMENTS installed.
python_venv() {
    local rootfs=$1 venv=$2 requirements=$3 log=$4
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/tmp/host-ca.pem"
    cp "$requirements" "$rootfs/tmp/requirements.txt"
    in_rootfs "$rootfs" python3 -m venv "$venv" >>"$log" 2>&1
    in_rootfs "$rootfs" "$venv/bin/pip" install --quiet --upgrade pip >>"$log" 2>&1
    in_rootfs "$rootfs" "$venv/bin/pip" install --requirement /tmp/requirements.txt >>"$log" 2>&1
    rm -f "$rootfs/tmp/host-ca.pem" "$rootfs/tmp/requirements.txt"
}

build_image_rootfs() {
    local name=$1 rootfs=$2 log=$3 venv
    case $name in
        pause)
            mkdir -p "$rootfs"/{dev,proc,sys}
            install -m 0755 "$PAUSE_DIR/pause" "$rootfs/pause"
            ;;
        coredns)
            mkdir -p "$rootfs"/{dev,proc,sys,etc,tmp}
            install -m 0755 "$COREDNS_DIR/coredns" "$rootfs/coredns"
            echo "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin" >"$rootfs/etc/passwd"
            echo "nogroup:x:65534:" >"$rootfs/etc/group"
            ;;
        hub)
            # Like the upstream hub image: the pinned packages, tini and sqlite3, libpq and
            # libcurl for psycopg2 and pycurl, which are compiled here and whose compilers
            # are removed again.
            note "  image hub: Debian $IMAGE_SUITE root filesystem with Python and build tools (mmdebstrap)"
            debian_rootfs "$rootfs" "$log" --variant=apt \
                --include=ca-certificates,python3,python3-venv,tini,sqlite3,libpq5,libcurl4t64,libstdc++6 \
                --include=gcc,libc6-dev,python3-dev,libpq-dev,libcurl4-openssl-dev,libssl-dev
            venv=/usr/local/jupyterhub
            note "  image hub: pip install of $(grep -c '==' "$HERE/images/hub/requirements.txt") pinned packages (JupyterHub $(requirement_version "$HERE/images/hub/requirements.txt" jupyterhub), KubeSpawner $(requirement_version "$HERE/images/hub/requirements.txt" jupyterhub-kubespawner))"
            python_venv "$rootfs" "$venv" "$HERE/images/hub/requirements.txt" "$log"
            note "  image hub: removing the compilers"
            in_rootfs "$rootfs" apt-get purge --yes --autoremove \
                gcc libc6-dev python3-dev libpq-dev libcurl4-openssl-dev libssl-dev >>"$log" 2>&1
            rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*
            add_account "$rootfs" jovyan 1000 1000 jovyan /home/jovyan
            mkdir -p "$rootfs/srv/jupyterhub"
            chown 1000:1000 "$rootfs/srv/jupyterhub"
            ;;
        proxy)
            # configurable-http-proxy is plain JavaScript: npm installs it on the host from
            # the pinned lock file; the image only needs Node.js (20 in trixie; 5.x needs 20+).
            note "  image proxy: Debian $IMAGE_SUITE root filesystem with Node.js (mmdebstrap)"
            debian_rootfs "$rootfs" "$log" --variant=essential --include=ca-certificates,nodejs
            note "  image proxy: npm ci of configurable-http-proxy from images/proxy/package-lock.json"
            mkdir -p "$rootfs/srv/configurable-http-proxy"
            cp "$HERE/images/proxy/package.json" "$HERE/images/proxy/package-lock.json" "$rootfs/srv/configurable-http-proxy/"
            (cd "$rootfs/srv/configurable-http-proxy" &&
                npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error) >>"$log" 2>&1
            chown -R root:root "$rootfs/srv/configurable-http-proxy"
            ;;
        singleuser)
            note "  image singleuser: Debian $IMAGE_SUITE root filesystem with Python (mmdebstrap)"
            debian_rootfs "$rootfs" "$log" --variant=essential \
                --include=ca-certificates,python3,python3-venv,tini,less,procps,libstdc++6
            venv=/usr/local/jupyter
            note "  image singleuser: pip install of JupyterHub $(requirement_version "$HERE/images/singleuser/requirements.txt" jupyterhub) and JupyterLab $(requirement_version "$HERE/images/singleuser/requirements.txt" jupyterlab)"
            python_venv "$rootfs" "$venv" "$HERE/images/singleuser/requirements.txt" "$log"
            # jovyan in group users (gid 100), as in the Jupyter Docker Stacks.
            add_account "$rootfs" jovyan 1000 100 users /home/jovyan
            ;;
    esac
}

pack_image() {
    local name=$1 rootfs=$2 archive=$3 log=$4 args=()
    case $name in
        pause) args=(--entrypoint '["/pause"]' --user 65535:65535) ;;
        coredns) args=(--entrypoint '["/coredns"]' --user 65534:65534) ;;
        hub)
            args=(--env "PATH=/usr/local/jupyterhub/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
                --env LANG=C.UTF-8 --entrypoint '["tini", "-g", "--"]' --cmd '["jupyterhub"]'
                --workdir /srv/jupyterhub --user 1000)
            ;;
        proxy)
            args=(--env "PATH=/srv/configurable-http-proxy/node_modules/.bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
                --cmd '["configurable-http-proxy"]' --workdir /srv/configurable-http-proxy --user 65534)
            ;;
        singleuser)
            args=(--env "PATH=/usr/local/jupyter/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
                --env LANG=C.UTF-8 --env SHELL=/bin/bash --entrypoint '["tini", "-g", "--"]'
                --cmd '["jupyterhub-singleuser"]' --workdir /home/jovyan --user 1000:100)
            ;;
    esac
    python3 "$HERE/images/pack.py" "$rootfs" "$(image_ref "$name")" "$archive" "${args[@]}" >>"$log" 2>&1
}

build_image() {
    local name=$1 archive work log start status=0
    archive=$(image_archive "$name")
    [[ -f $archive ]] && return 0
    mkdir -p "$IMAGES_DIR" "$BUILD_LOGS"
    work=$(mktemp -d "$IMAGES_DIR/.build-$name.XXXXXX")
    log=$BUILD_LOGS/image-$name.log
    start=$SECONDS
    note "building image $(image_ref "$name") (log: $log)"
    echo "# $(date -u +%FT%TZ) building $(image_ref "$name") into $archive" >"$log"
    # errexit holds inside the subshell only if its status is not tested where it runs.
    set +e
    (
        set -e
        build_image_rootfs "$name" "$work/rootfs" "$log"
        note "  image $name: packing $(du -sh "$work/rootfs" | cut -f1) into an archive"
        pack_image "$name" "$work/rootfs" "$work/image.tar" "$log"
    )
    status=$?
    set -e
    if ((status != 0)); then
        rm -rf "$work"
        tail -n 15 "$log" >&2
        die "building image $name failed (exit $status); full log: $log"
    fi
    # Older archives of the same image are of no more use.
    rm -f "$IMAGES_DIR/$name"-*.tar
    mv "$work/image.tar" "$archive"
    rm -rf "$work"
    log "built image $(image_ref "$name") in $((SECONDS - start))s"
    note "built image $(image_ref "$name") in $((SECONDS - start))s"
}

cmd_build_images() {
    local name
    images_built && return 0
    require_image_tools
    for name in "${IMAGE_NAMES[@]}"; do build_image "$name"; done
}
