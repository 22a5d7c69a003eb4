"""A throwaway PostgreSQL server for tests, as a pytest plugin.

``start_postgres()`` finds the server binaries (``initdb`` on ``PATH`` or Debian's
``/usr/lib/postgresql/<version>/bin``), installs Debian's ``postgresql`` package when
there are none, ``initdb``s a cluster in a temporary directory and starts it on
127.0.0.1 on a free port, with fsync off. ``PostgresServer.stop()`` stops it and
removes the directory. PostgreSQL refuses to run as root, so as root the server runs
as the ``postgres`` user (which Debian's package creates), else as ``nobody``.

Fixtures (load with ``pytest_plugins = ["tests.support.postgres"]``):

- ``postgres_server``: the session's server;
- ``postgres_url``: a ``postgresql+psycopg://`` URL of a database created once per session;
- ``fresh_postgres_url``: a new empty database for each test.

When the server cannot be installed or started, tests using them are an ERROR if the
``CI`` environment variable is set, and are skipped (loudly, with the reason repeated
in the terminal summary) otherwise.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.reporting import say

_INSTALL_TIMEOUT_S = 20 * 60
_COMMAND_TIMEOUT_S = 120
_START_ATTEMPTS = 3
_SUPERUSER = "bot"
_SESSION_DATABASE = "bot_test"
_CREATE_CLUSTER_CONF = Path("/etc/postgresql-common/createcluster.conf")
_INSTALL_LOCK = Path(tempfile.gettempdir()) / "jupyterhub-bot-postgresql-install.lock"

_skip_reasons: list[str] = []
_database_numbers = itertools.count(1)


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server could not be found, installed or started."""


def find_server_bin() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``, or ``None``."""
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda p: _version_key(p.parent.name), reverse=True)
    for directory in candidates:
        if all(os.access(directory / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name))


def _run(command: list[str], *, timeout: float, env: dict[str, str] | None = None, **kwargs: Any) -> str:
    """Run ``command``; return its output or raise with its last line of output."""
    try:
        proc = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
            env=env,
            **kwargs,
        )
    except subprocess.TimeoutExpired as exc:
        raise PostgresUnavailable(f"`{' '.join(command)}` did not finish within {timeout:.0f}s") from exc
    except OSError as exc:
        raise PostgresUnavailable(f"cannot run `{command[0]}`: {exc}") from exc
    if proc.returncode != 0:
        lines = [line.strip() for line in (proc.stderr + proc.stdout).splitlines() if line.strip()]
        last = lines[-1] if lines else f"exit status {proc.returncode}"
        raise PostgresUnavailable(f"`{' '.join(command[:3])} …` failed: {last}")
    return proc.stdout


def install_server() -> Path:
    """Install Debian's PostgreSQL server packages (as root, without prompts) and find them."""
    if os.geteuid() != 0:
        raise PostgresUnavailable("no PostgreSQL server binaries (initdb) and not root, so cannot apt-get install them")
    if shutil.which("apt-get") is None:
        raise PostgresUnavailable("no PostgreSQL server binaries (initdb) and no apt-get to install them")
    # Two test sessions may get here at once: one installs, the other waits and finds the result.
    with open(_INSTALL_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return find_server_bin() or _apt_install_server()


def _apt_install_server() -> Path:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    wait_for_lock = ["-o", "DPkg::Lock::Timeout=600"]
    keep_config = ["-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"]
    install = ["apt-get", "-q", "-y", *wait_for_lock, *keep_config, "install", "--no-install-recommends"]
    _run(["apt-get", "-q", *wait_for_lock, "update"], timeout=_INSTALL_TIMEOUT_S, env=env)
    # Install postgresql-common first and tell it not to create (and start) a "main"
    # cluster on port 5432 when the server package arrives: the tests make their own.
    _run([*install, "postgresql-common"], timeout=_INSTALL_TIMEOUT_S, env=env)
    if _CREATE_CLUSTER_CONF.is_file():
        text = _CREATE_CLUSTER_CONF.read_text()
        text, changed = re.subn(r"(?m)^#?\s*create_main_cluster\s*=.*$", "create_main_cluster = false", text)
        _CREATE_CLUSTER_CONF.write_text(text if changed else text + "\ncreate_main_cluster = false\n")
    _run([*install, "postgresql"], timeout=_INSTALL_TIMEOUT_S, env=env)
    found = find_server_bin()
    if found is None:
        raise PostgresUnavailable("installed Debian's postgresql package but still found no initdb")
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class _RunAs:
    """Who the server runs as: ourselves, or (as root) an unprivileged user."""

    uid: int | None = None
    gid: int | None = None

    @classmethod
    def pick(cls) -> _RunAs:
        if os.geteuid() != 0:
            return cls()
        for name in ("postgres", "nobody"):
            with contextlib.suppress(KeyError):
                entry = pwd.getpwnam(name)
                return cls(entry.pw_uid, entry.pw_gid)
        raise PostgresUnavailable(
            "running as root and found neither a 'postgres' nor a 'nobody' user to run the server"
        )

    def own(self, path: Path) -> None:
        if self.uid is not None and self.gid is not None:
            os.chown(path, self.uid, self.gid)

    def kwargs(self) -> dict[str, Any]:
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


@dataclass
class PostgresServer:
    bin_dir: Path
    root: Path  # holds data/, server.log; removed by stop()
    port: int
    password: str
    run_as: _RunAs = field(default_factory=_RunAs)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{_SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> Any:
        import psycopg

        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=_SUPERUSER,
            password=self.password,
            dbname=database,
            autocommit=True,
            connect_timeout=10,
        )

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database (a unique name unless given) and return its URL."""
        name = name or f"test_{os.getpid()}_{next(_database_numbers)}"
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting whoever is still connected to it."""
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        with contextlib.suppress(PostgresUnavailable):
            self._pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def _pg_ctl(self, *args: str) -> str:
        command = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-w", "-t", "60", *args]
        return _run(command, timeout=_COMMAND_TIMEOUT_S, env=_server_env(), cwd=self.root, **self.run_as.kwargs())


def _server_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


def start_postgres() -> PostgresServer:
    """Find or install the binaries, then ``initdb`` and start a throwaway server."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise PostgresUnavailable(f"the psycopg driver is missing ({exc}); `pip install -e '.[postgres]'`") from exc
    bin_dir = find_server_bin() or install_server()
    run_as = _RunAs.pick()
    root = Path(tempfile.mkdtemp(prefix="jhbot-pg-"))
    run_as.own(root)
    server = PostgresServer(bin_dir=bin_dir, root=root, port=0, password=secrets.token_hex(16), run_as=run_as)
    try:
        _initdb(server)
        _start(server)
        server.create_database(_SESSION_DATABASE)
    except BaseException:
        server.stop()
        raise
    return server


def _initdb(server: PostgresServer) -> None:
    password_file = server.root / "password"
    password_file.write_text(server.password)
    server.run_as.own(password_file)
    command = [
        str(server.bin_dir / "initdb"),
        "-D",
        str(server.data_dir),
        "-U",
        _SUPERUSER,
        f"--pwfile={password_file}",
        "--auth=scram-sha-256",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
    ]
    try:
        _run(command, timeout=_COMMAND_TIMEOUT_S, env=_server_env(), cwd=server.root, **server.run_as.kwargs())
    finally:
        password_file.unlink()


def _start(server: PostgresServer) -> None:
    conf = server.data_dir / "postgresql.conf"
    original = conf.read_text()
    problem = "not started"
    for _ in range(_START_ATTEMPTS):
        # Another process may take the port between our probe and the server's bind: retry.
        server.port = _free_port()
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(server.port),
            "unix_socket_directories": "''",
            "max_connections": "200",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        conf.write_text(original + "".join(f"\n{key} = {value}" for key, value in settings.items()) + "\n")
        try:
            server._pg_ctl("-l", str(server.log_file), "start")
        except PostgresUnavailable as exc:
            problem = f"{exc}; server log: {_log_tail(server.log_file)}"
            continue
        if _accepts_connections(server):
            return
        problem = f"started but refuses connections; server log: {_log_tail(server.log_file)}"
    raise PostgresUnavailable(problem)


def _accepts_connections(server: PostgresServer, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with server.connect() as conn:
                conn.execute("SELECT 1")
            return True
        except Exception:
            time.sleep(0.1)  # wait-ok: bounded by the deadline
    return False


def _log_tail(path: Path) -> str:
    with contextlib.suppress(OSError):
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
        return " | ".join(lines[-3:]) or "(empty)"
    return "(none)"


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server(pytestconfig: pytest.Config) -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the whole session (stopped and removed at the end)."""
    if find_server_bin() is None:
        say(
            pytestconfig,
            "PostgreSQL: no server binaries found, installing Debian's postgresql package (first run only)",
        )
    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        problem = str(exc)
    else:
        try:
            yield server
        finally:
            server.stop()
        return
    if "CI" in os.environ:
        pytest.fail(f"PostgreSQL test server failed (CI is set, no skip): {problem}", pytrace=False)
    reason = (
        f"POSTGRESQL UNAVAILABLE, PostgreSQL tests skipped: {problem} "
        "-- fix that (as root the tests apt-get install postgresql themselves; in CI this is an error, not a skip)"
    )
    _skip_reasons.append(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """URL of one database shared by the whole session."""
    return postgres_server.url(_SESSION_DATABASE)


@pytest.fixture
def fresh_postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """URL of a new, empty database for this test only (dropped after it)."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url.rsplit("/", 1)[1])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _skip_reasons:
        return
    terminalreporter.section("PostgreSQL", sep="!", red=True, bold=True)
    terminalreporter.write_line(_skip_reasons[0], red=True, bold=True)
