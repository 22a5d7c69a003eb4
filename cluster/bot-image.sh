# The bot's own image, built here the way the Dockerfile describes it (sourced by harness.sh).
#
# There is no Docker engine and no registry, so the Dockerfile's steps are followed by
# hand: a Debian 12 (bookworm) root filesystem with its Python 3.11 (the Dockerfile's
# python:3.11-slim is Debian 12 with Python 3.11 too), a virtual environment at
# /opt/venv with the bot installed by pip, the harness's helm build (the Dockerfile builds
# the same version with the same flags), our environment chart and the example policies,
# user 10001, and the Dockerfile's environment and command. images/pack.py packs it as a
# one-layer archive that `ctr images import` reads.
#
# Two cached steps, so that a change to the bot's code does not reinstall its
# dependencies: bot-deps-<hash>/ (Debian, Python and every dependency pyproject.toml
# names, keyed on those) and bot-<hash>.tar (that plus the bot, helm and the chart, keyed
# on everything the Dockerfile copies).
# shellcheck shell=bash

REPO_ROOT=$(cd "$HERE/.." && pwd)
BOT_IMAGE_SUITE=bookworm
BOT_IMAGE_SECURITY_MIRROR="deb http://deb.debian.org/debian-security $BOT_IMAGE_SUITE-security main"
# What the Dockerfile copies from the build context (and .dockerignore lets through).
BOT_IMAGE_CONTEXT=(pyproject.toml README.md bot charts/jupyterhub policies)
BOT_UID=10001
BOT_VENV=/opt/venv
BOT_SHARE=/opt/jupyterhub-bot

bot_image_ref() {
    local version
    version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$REPO_ROOT/pyproject.toml" | head -n 1)
    [[ -n $version ]] || die "cannot find the project's version in $REPO_ROOT/pyproject.toml"
    echo "$IMAGE_REGISTRY/jupyterhub-bot:$version"
}

# The bot's runtime dependencies as pyproject.toml declares them, with the postgres extra
# (the Dockerfile installs '.[postgres]'), one requirement a line.
bot_requirements() {
    python3 - "$REPO_ROOT/pyproject.toml" <<'EOF'
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
for requirement in project["dependencies"] + project["optional-dependencies"]["postgres"]:
    print(requirement)
EOF
}

bot_deps_hash() {
    {
        echo "bot-deps $BOT_IMAGE_SUITE $IMAGE_MIRROR"
        cat "$HERE/bot-image.sh"
        bot_requirements
        # The build backend the project asks for.
        sed -n '/^\[build-system\]/,/^\[/p' "$REPO_ROOT/pyproject.toml"
    } | sha256sum | cut -c1-16
}

# Every file of the build context, by path and content, without Python's caches.
bot_context_digest() {
    (
        cd "$REPO_ROOT"
        find "${BOT_IMAGE_CONTEXT[@]}" -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 |
            LC_ALL=C sort -z | xargs -0 sha256sum
    ) | sha256sum | cut -c1-16
}

bot_image_hash() {
    {
        echo "$(bot_image_ref) $(bot_deps_hash) $(bot_context_digest)"
        cat "$HERE/images/pack.py"
        sha256sum <"$HELM_DIR/helm"
    } | sha256sum | cut -c1-16
}

bot_image_archive() {
    echo "$IMAGES_DIR/bot-$(bot_image_hash).tar"
}

# Debian, Python 3.11 and the bot's dependencies in /opt/venv, and the bot's account.
build_bot_deps() {
    local dir=$1 log=$2 work
    work=$(mktemp -d "$IMAGES_DIR/.build-bot-deps.XXXXXX")
    note "  image bot: Debian $BOT_IMAGE_SUITE root filesystem with Python 3.11 (mmdebstrap)"
    mmdebstrap --mode=root --format=directory --variant=essential \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
        --include=ca-certificates,python3,python3-venv \
        "$BOT_IMAGE_SUITE" "$work/rootfs" "$IMAGE_MIRROR" "$BOT_IMAGE_SECURITY_MIRROR" >>"$log" 2>&1
    note "  image bot: pip install of the bot's dependencies (pyproject.toml, with the postgres extra)"
    bot_requirements >"$work/requirements.txt"
    # The build backend too, so the bot itself installs later without fetching it.
    sed -n '/^\[build-system\]/,/^\[/s/^requires = \[\(.*\)\]$/\1/p' "$REPO_ROOT/pyproject.toml" |
        tr ',' '\n' | tr -d ' "' | grep . >>"$work/requirements.txt"
    python_venv "$work/rootfs" "$BOT_VENV" "$work/requirements.txt" "$log"
    # The Dockerfile's account: system user and group "bot", uid and gid 10001, home /home/bot.
    add_account "$work/rootfs" bot "$BOT_UID" "$BOT_UID" bot /home/bot
    rm -rf "$dir"
    mv "$work/rootfs" "$dir"
    rm -rf "$work"
}

# The image's root filesystem in ROOTFS: the cached dependencies, then what the
# Dockerfile's final stage adds.
build_bot_rootfs() {
    local rootfs=$1 log=$2 deps
    deps=$IMAGES_DIR/bot-deps-$(bot_deps_hash)
    if [[ ! -d $deps ]]; then
        rm -rf "$IMAGES_DIR"/bot-deps-*
        build_bot_deps "$deps" "$log"
    fi
    cp -a "$deps" "$rootfs"
    note "  image bot: pip install of the bot, helm $HELM_VERSION, charts/jupyterhub and policies/"
    mkdir -p "$rootfs/tmp/src"
    (cd "$REPO_ROOT" && tar --exclude=__pycache__ --exclude='*.pyc' -cf - "${BOT_IMAGE_CONTEXT[@]}") |
        tar -xf - -C "$rootfs/tmp/src"
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/tmp/host-ca.pem"
    in_rootfs "$rootfs" "$BOT_VENV/bin/pip" install --no-deps --no-build-isolation /tmp/src >>"$log" 2>&1
    # The bot and its dependencies must agree (a stale dependency folder would not).
    in_rootfs "$rootfs" "$BOT_VENV/bin/pip" check >>"$log" 2>&1
    install -m 0755 "$HELM_DIR/helm" "$rootfs/usr/local/bin/helm"
    mkdir -p "$rootfs$BOT_SHARE/charts"
    cp -a "$rootfs/tmp/src/charts/jupyterhub" "$rootfs$BOT_SHARE/charts/jupyterhub"
    cp -a "$rootfs/tmp/src/policies" "$rootfs$BOT_SHARE/policies"
    chown -R root:root "$rootfs$BOT_SHARE"
    rm -rf "$rootfs/tmp/src" "$rootfs/tmp/host-ca.pem"
}

# The Dockerfile's ENV, USER, WORKDIR and CMD.
pack_bot_image() {
    local rootfs=$1 archive=$2 log=$3
    python3 "$HERE/images/pack.py" "$rootfs" "$(bot_image_ref)" "$archive" \
        --env "PATH=$BOT_VENV/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        --env PYTHONUNBUFFERED=1 --env PYTHONDONTWRITEBYTECODE=1 --env LANG=C.UTF-8 \
        --env HELM_BINARY=/usr/local/bin/helm --env "CHART_REF=$BOT_SHARE/charts/jupyterhub" \
        --env "POLICIES_DIR=$BOT_SHARE/policies" --env PORT=3000 \
        --cmd '["python", "-m", "bot", "serve"]' --workdir /home/bot --user "$BOT_UID:$BOT_UID" >>"$log" 2>&1
}

build_bot_image() {
    local archive work log start status=0
    archive=$(bot_image_archive)
    [[ -f $archive ]] && return 0
    require_image_tools
    mkdir -p "$IMAGES_DIR" "$BUILD_LOGS"
    work=$(mktemp -d "$IMAGES_DIR/.build-bot.XXXXXX")
    log=$BUILD_LOGS/image-bot.log
    start=$SECONDS
    note "building image $(bot_image_ref) from this checkout (log: $log)"
    echo "# $(date -u +%FT%TZ) building $(bot_image_ref) into $archive" >"$log"
    set +e
    (
        set -e
        build_bot_rootfs "$work/rootfs" "$log"
        note "  image bot: packing $(du -sh "$work/rootfs" | cut -f1) into an archive"
        pack_bot_image "$work/rootfs" "$work/image.tar" "$log"
    )
    status=$?
    set -e
    if ((status != 0)); then
        rm -rf "$work"
        tail -n 15 "$log" >&2
        die "building the bot's image failed (exit $status); full log: $log"
    fi
    rm -f "$IMAGES_DIR"/bot-*.tar
    mv "$work/image.tar" "$archive"
    rm -rf "$work"
    log "built image $(bot_image_ref) in $((SECONDS - start))s"
    note "built image $(bot_image_ref) in $((SECONDS - start))s"
}

# Builds the bot's image if its inputs changed, imports it into this cluster's real node
# when that runs here and lacks this build, and prints what it did as key=value lines.
cmd_bot_image() {
    local archive imported=no
    cmd_build helm
    take_lock
    build_bot_image
    archive=$(bot_image_archive)
    if [[ $(claim_holder) == "$CLUSTER_NAME $NODE_DIR" && -S $CONTAINERD_SOCKET ]]; then
        if [[ $(state_get imported.bot) != "$(basename "$archive")" ]] ||
            ! containerd_ctr images ls -q "name==$(bot_image_ref)" 2>/dev/null | grep -q .; then
            note "  real node: importing $(bot_image_ref) ($(du -h "$archive" | cut -f1))"
            containerd_ctr images import "$archive" >>"$NODE_LOGS/import-bot.log" 2>&1 ||
                die "containerd could not import $archive; see $NODE_LOGS/import-bot.log"
            state_set imported.bot "$(basename "$archive")"
        fi
        imported=yes
    fi
    cat <<EOF
bot_image=$(bot_image_ref)
bot_image_archive=$archive
bot_image_on_real_node=$imported
EOF
}
