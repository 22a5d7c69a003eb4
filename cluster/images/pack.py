#!/usr/bin/env python3
"""Pack a root filesystem folder as a one-layer image archive in `docker save` format,
which `ctr images import` reads. No registry and no daemon are involved.

    pack.py ROOTFS NAME:TAG OUT.tar [--entrypoint JSON] [--cmd JSON] [--env K=V]...
            [--workdir DIR] [--user UID[:GID]]

File owners, modes, symlinks and hard links are kept as they are in ROOTFS (build it
as root). The contents of /dev, /proc and /sys are left out: the runtime mounts them.
Timestamps are zeroed so the same folder packs to the same layer.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tarfile
import tempfile
from pathlib import Path

RUNTIME_MOUNTS = ("dev", "proc", "sys")
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rootfs", type=Path)
    parser.add_argument("reference", help="image name with tag, e.g. local.jupyterhub-bot/pause:1")
    parser.add_argument("out", type=Path)
    parser.add_argument("--entrypoint", default="null", help="JSON list, or null")
    parser.add_argument("--cmd", default="null", help="JSON list, or null")
    parser.add_argument("--env", action="append", default=[], help="K=V; PATH has a default")
    parser.add_argument("--workdir", default="/")
    parser.add_argument("--user", default="")
    return parser.parse_args()


def zero_mtime(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mtime = 0
    return info


def write_layer(rootfs: Path, layer: Path) -> str:
    """Writes ROOTFS as an uncompressed tar; returns its sha256 digest."""
    with tarfile.open(layer, "w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(os.listdir(rootfs)):
            path = rootfs / name
            if name in RUNTIME_MOUNTS and path.is_dir() and not path.is_symlink():
                tar.add(path, arcname=name, recursive=False, filter=zero_mtime)
                continue
            tar.add(path, arcname=name, filter=zero_mtime)
    digest = hashlib.sha256()
    with layer.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, fileobj=_Reader(data))


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._offset = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._offset + size
        chunk = self._data[self._offset : end]
        self._offset += len(chunk)
        return chunk


def main() -> None:
    args = parse_args()
    env = list(args.env)
    if not any(item.startswith("PATH=") for item in env):
        env.insert(0, DEFAULT_PATH)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.out.parent) as scratch:
        layer = Path(scratch) / "layer.tar"
        layer_digest = write_layer(args.rootfs, layer)
        config = {
            "architecture": "amd64",
            "os": "linux",
            "created": "1970-01-01T00:00:00Z",
            "config": {
                "Entrypoint": json.loads(args.entrypoint),
                "Cmd": json.loads(args.cmd),
                "Env": env,
                "WorkingDir": args.workdir,
                "User": args.user,
            },
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_digest}"]},
            "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "cluster/images/pack.py"}],
        }
        config_bytes = json.dumps(config, sort_keys=True).encode()
        config_name = f"{hashlib.sha256(config_bytes).hexdigest()}.json"
        layer_name = f"{layer_digest}/layer.tar"
        manifest = [{"Config": config_name, "RepoTags": [args.reference], "Layers": [layer_name]}]
        partial = args.out.with_name(args.out.name + ".partial")
        with tarfile.open(partial, "w") as archive:
            add_bytes(archive, config_name, config_bytes)
            archive.add(layer, arcname=layer_name, filter=zero_mtime)
            add_bytes(archive, "manifest.json", json.dumps(manifest).encode())
        partial.replace(args.out)
    size_mib = args.out.stat().st_size / (1 << 20)
    print(f"packed {args.reference} into {args.out} ({size_mib:.0f} MiB, layer sha256:{layer_digest[:12]})")


if __name__ == "__main__":
    main()
