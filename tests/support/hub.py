"""A real JupyterHub, started from the hub configuration our chart renders.

``running_hub`` renders ``charts/jupyterhub`` with ``helm template``, takes
``jupyterhub_config.py`` and ``settings.json`` out of the hub ConfigMap,
replaces only the marked Kubernetes block (KubeSpawner, in-cluster addresses)
with a local one, and runs the ``jupyterhub`` package from this environment on
127.0.0.1, with configurable-http-proxy from ``node_modules`` (``npm ci``).
Everything else (authentication, the bot's service and role, the idle culler)
runs exactly as rendered. Secrets reach the hub as the environment variables
the chart's Deployment sets.

``HubSession`` and ``api_request`` talk to it the way a browser and the bot do.
"""

from __future__ import annotations

import base64
import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.helm.chart import HubSecrets as BotHubSecrets
from tests.support.processes import free_port

__all__ = [
    "CHART_DIR",
    "CHP_BINARY",
    "LOCAL_SPAWNER",
    "HelmError",
    "HttpResponse",
    "HubError",
    "HubSecrets",
    "HubSession",
    "RunningHub",
    "api_request",
    "decode_secret",
    "deep_merge",
    "find_helm",
    "helm_template",
    "hub_config_files",
    "local_kubernetes_block",
    "running_hub",
    "swap_kubernetes_block",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_ROOT / "charts" / "jupyterhub"
CHP_BINARY = REPO_ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
HELM_CACHE = Path.home() / ".cache" / "jupyterhub-bot" / "bin"

KUBERNETES_BLOCK_START = "# >>> kubernetes >>>"
KUBERNETES_BLOCK_END = "# <<< kubernetes <<<"
LOCAL_SPAWNER = "jupyterhub.spawner.SimpleLocalProcessSpawner"

# Environment variables the chart's hub Deployment fills from the Secret.
ADMIN_PASSWORD_ENV = "JUPYTERHUB_ADMIN_PASSWORD"
BOT_API_TOKEN_ENV = "JUPYTERHUB_BOT_API_TOKEN"
PROXY_TOKEN_ENV = "CONFIGPROXY_AUTH_TOKEN"


class HelmError(Exception):
    """helm failed; the message carries its stderr (for schema errors, the schema's words)."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        super().__init__(f"helm exited with {returncode}: {stderr.strip()}")
        self.args_used = list(args)
        self.returncode = returncode
        self.stderr = stderr


class HubError(Exception):
    """The hub did not start or answer; the message ends with its log."""


# --- helm -----------------------------------------------------------------


def find_helm() -> Path | None:
    """The helm binary: $HELM, else the newest one cached by the project, else PATH."""
    explicit = os.environ.get("HELM")
    if explicit:
        return Path(explicit)
    cached = sorted(HELM_CACHE.glob("helm-v*/helm"))
    if cached:
        return cached[-1]
    found = shutil.which("helm")
    return Path(found) if found else None


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict: override's keys win; nested mappings merge."""
    merged: dict[str, Any] = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def run_helm(helm: Path, args: Sequence[str], *, timeout: float = 120) -> str:
    """Run helm, return stdout; raise HelmError with stderr on failure."""
    command = [str(helm), *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise HelmError(command, result.returncode, result.stderr)
    return result.stdout


def helm_template(
    helm: Path,
    values: Mapping[str, Any],
    *,
    release: str = "env",
    namespace: str = "env-ns",
    chart: Path = CHART_DIR,
    extra_args: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Render the chart with these values; return the objects in order."""
    with tempfile.TemporaryDirectory(prefix="chart-values-") as directory:
        values_file = Path(directory) / "values.yaml"
        # The values hold secrets: only this user may read the file.
        values_file.touch(mode=0o600)
        values_file.write_text(yaml.safe_dump(dict(values)))
        output = run_helm(
            helm,
            [
                "template",
                release,
                str(chart),
                "--namespace",
                namespace,
                "--values",
                str(values_file),
                *extra_args,
            ],
        )
    return [obj for obj in yaml.safe_load_all(output) if obj]


def hub_config_files(objects: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The files of the hub's ConfigMap (the one holding jupyterhub_config.py)."""
    for obj in objects:
        data = obj.get("data") or {}
        if obj.get("kind") == "ConfigMap" and "jupyterhub_config.py" in data:
            return {str(name): str(text) for name, text in data.items()}
    raise LookupError("no ConfigMap with jupyterhub_config.py in the rendered chart")


# --- the hub configuration ---------------------------------------------------


def swap_kubernetes_block(config: str, replacement: str) -> str:
    """The config with its marked Kubernetes block replaced (markers kept)."""
    start = config.find(KUBERNETES_BLOCK_START)
    end = config.find(KUBERNETES_BLOCK_END)
    if start < 0 or end < start or config.count(KUBERNETES_BLOCK_START) != 1:
        raise ValueError("jupyterhub_config.py must contain exactly one marked kubernetes block")
    body_start = start + len(KUBERNETES_BLOCK_START)
    return f"{config[:body_start]}\n{replacement.rstrip()}\n{config[end:]}"


def local_kubernetes_block(
    *,
    spawner_class: str,
    public_port: int,
    hub_port: int,
    proxy_api_port: int,
    data_dir: Path,
    proxy_command: Path = CHP_BINARY,
) -> str:
    """What stands in for the Kubernetes block on this machine."""
    settings = {
        "JupyterHub.spawner_class": spawner_class,
        "JupyterHub.bind_url": f"http://127.0.0.1:{public_port}",
        "JupyterHub.hub_bind_url": f"http://127.0.0.1:{hub_port}",
        "JupyterHub.db_url": f"sqlite:///{data_dir / 'jupyterhub.sqlite'}",
        "JupyterHub.cookie_secret_file": str(data_dir / "jupyterhub_cookie_secret"),
        "ConfigurableHTTPProxy.api_url": f"http://127.0.0.1:{proxy_api_port}",
        "ConfigurableHTTPProxy.command": [str(proxy_command)],
        "ConfigurableHTTPProxy.pid_file": str(data_dir / "jupyterhub-proxy.pid"),
    }
    lines = ["# Local stand-in written by tests/support/hub.py."]
    lines += [f"c.{name} = {value!r}" for name, value in settings.items()]
    return "\n".join(lines)


# --- the running hub ----------------------------------------------------------


@dataclass(frozen=True, repr=False)
class HubSecrets(BotHubSecrets):
    """The bot's generated secrets, with the two forms the tests hand them to a hub in."""

    def values(self) -> dict[str, Any]:
        """The chart values that carry these secrets."""
        return {
            "hub": {"adminPassword": self.admin_password, "botApiToken": self.bot_api_token},
            "proxy": {"secretToken": self.proxy_token},
        }

    def environment(self) -> dict[str, str]:
        """The environment variables the hub Deployment sets from the Secret."""
        return {
            ADMIN_PASSWORD_ENV: self.admin_password,
            BOT_API_TOKEN_ENV: self.bot_api_token,
            PROXY_TOKEN_ENV: self.proxy_token,
        }


@dataclass(frozen=True)
class RunningHub:
    """A hub answering on base_url (through its proxy)."""

    base_url: str
    admin_user: str
    admin_password: str
    bot_api_token: str
    workdir: Path
    log_path: Path
    config_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    @property
    def api_url(self) -> str:
        return f"{self.base_url}hub/api"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def running_hub(
    helm: Path,
    values: Mapping[str, Any] | None = None,
    *,
    spawner_class: str = LOCAL_SPAWNER,
    workdir: Path | None = None,
    startup_timeout: float = 60,
) -> Iterator[RunningHub]:
    """Render the chart, start a real hub from its configuration, stop it on exit."""
    if not CHP_BINARY.exists():
        raise HubError(f"{CHP_BINARY} is missing: run `npm ci` in {REPO_ROOT}")
    hub_secrets = HubSecrets.generate()
    all_values = deep_merge(values or {}, hub_secrets.values())
    objects = helm_template(helm, all_values)
    files = hub_config_files(objects)
    admin_user = str(json.loads(files["settings.json"])["adminUser"])

    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hub-")))
        config_dir = workdir / "config"
        config_dir.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (config_dir / name).write_text(text)
        public_port, hub_port, proxy_api_port = free_port(), free_port(), free_port()
        config_path = config_dir / "jupyterhub_config.py"
        config_path.write_text(
            swap_kubernetes_block(
                files["jupyterhub_config.py"],
                local_kubernetes_block(
                    spawner_class=spawner_class,
                    public_port=public_port,
                    hub_port=hub_port,
                    proxy_api_port=proxy_api_port,
                    data_dir=workdir,
                ),
            )
        )
        environment = {
            name: value for name, value in os.environ.items() if not name.startswith(("JUPYTERHUB_", "CONFIGPROXY_"))
        }
        environment.update(hub_secrets.environment())
        environment["PYTHONUNBUFFERED"] = "1"
        log_path = workdir / "jupyterhub.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "--config", str(config_path)],
                cwd=workdir,
                env=environment,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                # Its own process group, so the proxy and services it starts go with it.
                start_new_session=True,
            )
        hub = RunningHub(
            base_url=f"http://127.0.0.1:{public_port}/",
            admin_user=admin_user,
            admin_password=hub_secrets.admin_password,
            bot_api_token=hub_secrets.bot_api_token,
            workdir=workdir,
            log_path=log_path,
            config_path=config_path,
            process=process,
        )
        try:
            wait_until_ready(hub, timeout=startup_timeout)
            yield hub
        finally:
            stop(process)


def wait_until_ready(hub: RunningHub, *, timeout: float) -> None:
    """Poll the hub's API through the proxy until it answers 200."""
    deadline = time.monotonic() + timeout
    url = f"{hub.api_url}/"
    while True:
        if hub.process.poll() is not None:
            raise HubError(f"jupyterhub exited with {hub.process.returncode}:\n{hub.log()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our URL)
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise HubError(f"jupyterhub did not answer {url} within {timeout}s:\n{hub.log()}")
        time.sleep(0.1)  # wait-ok: bounded by the deadline above


def stop(process: subprocess.Popen[bytes], *, timeout: float = 20) -> None:
    """SIGTERM the hub (it stops its proxy and services), then clear its process group."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
    # Anything the hub left behind in the group we created for it.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


# --- talking to it ----------------------------------------------------------


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]  # names in lowercase
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        """A header, whatever its case (the proxy lowercases them)."""
        return self.headers.get(name.lower())

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are answers to assert on, not to follow (following /hub/ would spawn)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _send(
    opener: urllib.request.OpenerDirector,
    method: str,
    url: str,
    *,
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10,
) -> HttpResponse:
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))  # noqa: S310
    try:
        with opener.open(request, timeout=timeout) as response:
            headers = {name.lower(): value for name, value in response.headers.items()}
            return HttpResponse(response.status, headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            headers = {name.lower(): value for name, value in error.headers.items()}
            return HttpResponse(error.code, headers, error.read())


def api_request(hub_api_url: str, path: str, token: str, *, method: str = "GET", body: Any = None) -> HttpResponse:
    """One REST call authenticated with an API token, as the bot makes it."""
    opener = urllib.request.build_opener(_NoRedirect())
    data = None if body is None else json.dumps(body).encode()
    return _send(
        opener,
        method,
        f"{hub_api_url.rstrip('/')}/{path.lstrip('/')}",
        data=data,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )


XSRF_FIELD = re.compile(rb'name="_xsrf"\s+value="([^"]+)"')


class HubSession:
    """A browser: cookies, the login form with its _xsrf field, no redirects followed."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url if base_url.endswith("/") else f"{base_url}/"
        self.cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect())

    def request(self, method: str, path: str, *, form: Mapping[str, str] | None = None) -> HttpResponse:
        headers: dict[str, str] = {}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        xsrf = self.cookie("_xsrf")
        if xsrf and method not in ("GET", "HEAD"):
            headers["X-XSRFToken"] = xsrf
        return _send(
            self._opener,
            method,
            urllib.parse.urljoin(self.base_url, path),
            data=data,
            headers=headers,
        )

    def get(self, path: str) -> HttpResponse:
        return self.request("GET", path)

    def api(self, path: str) -> HttpResponse:
        """A GET on the hub API with this session's cookie (and its xsrf token)."""
        headers = {"X-XSRFToken": self.cookie("_xsrf") or ""}
        url = urllib.parse.urljoin(self.base_url, f"hub/api/{path.lstrip('/')}")
        return _send(self._opener, "GET", url, headers=headers)

    def cookie(self, name: str) -> str | None:
        for cookie in self.cookies:
            if cookie.name == name:
                return cookie.value
        return None

    def login(self, username: str, password: str, *, next_path: str = "/hub/home") -> HttpResponse:
        """Fill in and post the login form; success is a redirect to next_path.

        A wrong password is answered 403. Use a fresh session for each login:
        a logged-in session is redirected away from the form.
        """
        page = self.get("hub/login")
        if page.status != 200:
            raise HubError(f"GET /hub/login answered {page.status}; log in with a new HubSession")
        match = XSRF_FIELD.search(page.body)
        if match is None:
            raise HubError("the login form has no _xsrf field")
        form = {"username": username, "password": password, "_xsrf": match.group(1).decode()}
        query = urllib.parse.urlencode({"next": next_path})
        return self.request("POST", f"hub/login?{query}", form=form)


def decode_secret(obj: Mapping[str, Any], key: str) -> str:
    """A value of a rendered Secret's data."""
    return base64.b64decode(obj["data"][key]).decode()
