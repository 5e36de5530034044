"""Real tracing backends on 127.0.0.1 for end-to-end tests (standard library only).

    with Jaeger() as jaeger:
        ...export spans to jaeger.otlp_grpc_endpoint or jaeger.otlp_http_endpoint...
        doc = jaeger.find_traces("my-service")
        spans = flatten_spans(doc)

Each backend is a context manager that picks free loopback ports, starts the binary that
``scripts/backends/install.sh`` cached under ``.cache/`` (running the script first, which builds
or installs it when missing), waits until it answers, and on exit stops the process it started
(SIGTERM, then SIGKILL).  Logs go to ``.cache/logs/<name>-<ports>.log``; a start that fails or
times out raises :class:`BackendError` with the last log lines.

Endpoints follow the OTLP exporters' conventions: ``otlp_grpc_endpoint`` and
``otlp_http_endpoint`` are base URLs ("http://127.0.0.1:PORT"); the HTTP exporter of the Python
SDK needs the signal path when given ``endpoint=`` explicitly, so ``otlp_http_traces_endpoint``
adds "/v1/traces".

Environment overrides: ``RAGTEL_CACHE_DIR`` (default ``<repo>/.cache``), ``RAGTEL_JAEGER_BIN``,
``RAGTEL_OTELCOL_BIN``, ``RAGTEL_PHOENIX_BIN`` (use that binary, skip install.sh),
``RAGTEL_JAEGER_UI`` (the jaeger-ui build Jaeger serves; see :func:`jaeger_ui_assets`).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import datetime as _dt
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("RAGTEL_CACHE_DIR") or ROOT / ".cache")
LOG_DIR = CACHE / "logs"
INSTALL_SH = ROOT / "scripts" / "backends" / "install.sh"
EXAMPLES = ROOT / "examples" / "backends"
LOOPBACK = "127.0.0.1"

__all__ = [
    "BackendError",
    "Collector",
    "Jaeger",
    "Phoenix",
    "flatten_phoenix_spans",
    "flatten_spans",
    "free_port",
    "install",
    "otlp_value",
    "parse_array_attr",
]


class BackendError(RuntimeError):
    """A backend could not be installed, started or queried."""


# --------------------------------------------------------------------------------------------
# ports, installation, HTTP


_ports_lock = threading.Lock()
_ports_given: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now and not handed out before by this process."""
    with _ports_lock:
        for _ in range(100):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind((LOOPBACK, 0))
                port = s.getsockname()[1]
            if port not in _ports_given:
                _ports_given.add(port)
                return port
    raise BackendError("no free loopback port found")


def port_open(port: int, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


_installed: dict[str, Path] = {}
_install_lock = threading.Lock()
_ENV_BIN = {
    "jaeger": "RAGTEL_JAEGER_BIN",
    "collector": "RAGTEL_OTELCOL_BIN",
    "phoenix": "RAGTEL_PHOENIX_BIN",
}


def install(name: str, timeout: float = 3600) -> Path:
    """Path of the cached binary of backend ``name`` ("jaeger", "collector", "phoenix").

    Runs ``scripts/backends/install.sh NAME`` (seconds when cached, minutes for a first build)
    unless ``RAGTEL_<NAME>_BIN`` names a binary.
    """
    override = os.environ.get(_ENV_BIN[name])
    if override:
        return Path(override)
    with _install_lock:
        if name in _installed:
            return _installed[name]
        try:
            res = subprocess.run(
                ["bash", str(INSTALL_SH), name],
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=ROOT,
            )
        except subprocess.TimeoutExpired as e:
            raise BackendError(f"install.sh {name} timed out after {timeout} s") from e
        if res.returncode != 0:
            tail = "\n".join(res.stderr.strip().splitlines()[-30:])
            raise BackendError(f"install.sh {name} failed (exit {res.returncode}):\n{tail}")
        for line in res.stdout.splitlines():
            key, _, value = line.partition("=")
            if key == name and value:
                _installed[name] = Path(value)
                return _installed[name]
        raise BackendError(f"install.sh {name} printed no '{name}=PATH' line:\n{res.stdout}")


def http_request(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, bytes]:
    """(status, body) of a request; HTTP error statuses are returned, not raised."""
    if not url.startswith(f"http://{LOOPBACK}:"):
        raise BackendError(f"refusing to send a request off the loopback address: {url}")
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def http_json(url: str, timeout: float = 10) -> tuple[int, Any]:
    status, raw = http_request(url, timeout=timeout, headers={"Accept": "application/json"})
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def rfc3339_nano(t: float | _dt.datetime) -> str:
    """RFC 3339 timestamp with nanoseconds in UTC, e.g. 2026-01-02T03:04:05.123456000Z."""
    if isinstance(t, _dt.datetime):
        t = t.timestamp()
    whole = int(t)
    nanos = round((t - whole) * 1e9)
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, nanos - 1_000_000_000
    base = _dt.datetime.fromtimestamp(whole, tz=_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{nanos:09d}Z"


def poll(
    fn: Callable[[], Any], timeout: float, interval: float = 0.25, what: str = "condition"
) -> Any:
    """Call ``fn`` until it returns something truthy; raise TimeoutError with the last value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not met within {timeout} s; last result: {str(last)[:500]}")
        time.sleep(interval)


# --------------------------------------------------------------------------------------------
# process management


# Backends started and not stopped yet: stopped at interpreter exit as a last resort.
_running: set[_Backend] = set()


@atexit.register
def _stop_all() -> None:
    for backend in list(_running):
        backend.stop(timeout=5)


class _Backend:
    """Start a process, wait until it is ready, stop it on exit."""

    name = "backend"
    startup_timeout = 60.0

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None
        self._log_file: Any = None
        self.started_in: float | None = None

    # subclasses fill these
    def _command(self) -> list[str]:
        raise NotImplementedError

    def _env(self) -> dict[str, str]:
        return {}

    def _ready(self) -> bool:
        raise NotImplementedError

    def _log_suffix(self) -> str:
        return str(os.getpid())

    # -----------------------------------------------------------------------------------
    def start(self) -> _Backend:
        if self.proc is not None:
            return self
        cmd = self._command()
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{self.name}-{self._log_suffix()}.log"
        self._log_file = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, **self._env()}
        # The backends must not export their own telemetry anywhere.
        for var in [v for v in env if v.startswith("OTEL_")]:
            del env[var]
        t0 = time.monotonic()
        try:
            self.proc = subprocess.Popen(
                cmd,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=ROOT,
                start_new_session=True,  # its own process group: stop() reaches its children
            )
        except OSError as e:
            self.stop()
            raise BackendError(f"cannot run {cmd[0]}: {e}") from e
        _running.add(self)
        try:
            self._wait_ready(t0)
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - t0
        return self

    def _wait_ready(self, t0: float) -> None:
        deadline = t0 + self.startup_timeout
        while True:
            assert self.proc is not None
            code = self.proc.poll()
            if code is not None:
                raise BackendError(
                    f"{self.name} exited with code {code} while starting "
                    f"({' '.join(self.proc.args)}); "
                    f"last log lines of {self.log_path}:\n{self.log_tail()}"
                )
            try:
                if self._ready():
                    return
            except (OSError, ValueError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                raise BackendError(
                    f"{self.name} not ready after {self.startup_timeout:.0f} s; "
                    f"last log lines of {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(0.2)

    def stop(self, timeout: float = 15) -> None:
        _running.discard(self)
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        if self._log_file is not None:
            self._log_file.flush()
        return self.log_path.read_text("utf-8", "replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<{type(self).__name__} {state} log={self.log_path}>"


# --------------------------------------------------------------------------------------------
# Jaeger

JAEGER_UI_VERSION = "v1.76.0"  # the jaeger-ui release Jaeger v1.76.0 / v2.13.0 pins


def jaeger_ui_assets() -> Path | None:
    """The folder of the real Jaeger UI build, or None.

    The Go-built Jaeger embeds only a placeholder page. The UI build ships in the project's
    ``shared/tools/jaeger-ui-<version>`` folder, which sits beside the checkout (CI lays it beside
    its clone; a git worktree finds it beside its main checkout). ``RAGTEL_JAEGER_UI`` names
    another folder.
    """
    override = os.environ.get("RAGTEL_JAEGER_UI")
    if override:
        return Path(override) if (Path(override) / "index.html").is_file() else None
    relative = Path("shared") / "tools" / f"jaeger-ui-{JAEGER_UI_VERSION}"
    candidates = [ROOT.parent / relative]
    try:
        common = subprocess.run(
            ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
            cwd=ROOT, capture_output=True, text=True, timeout=10,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        common = ""
    if common:
        candidates.append(Path(common).parent.parent / relative)
    found = next((c for c in candidates if (c / "index.html").is_file()), None)
    return found or _unpacked_vendored_ui()


def _unpacked_vendored_ui() -> Path | None:
    """The copy of the UI build kept in tests/e2e/assets, unpacked once into the backend cache.

    A CI machine need not have the shared folder beside its clone; the browser tests must not
    depend on it.
    """
    archive = Path(__file__).resolve().parent / "assets" / f"jaeger-ui-{JAEGER_UI_VERSION}.tar.gz"
    if not archive.is_file():
        return None
    target = CACHE / "jaeger-ui" / JAEGER_UI_VERSION
    if not (target / "index.html").is_file():
        staging = target.with_name(f"{target.name}.tmp.{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        with tarfile.open(archive) as tar:
            tar.extractall(staging, filter="data")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target


class Jaeger(_Backend):
    """Jaeger v2 all-in-one with memory storage (config: examples/backends/jaeger.yaml).

    Attributes: ``otlp_grpc_endpoint``, ``otlp_http_endpoint``, ``otlp_http_traces_endpoint``,
    ``query_url`` (the HTTP query API, and the real UI when :func:`jaeger_ui_assets` finds it:
    ``ui_assets``; otherwise the go-installed binary serves a placeholder page).
    """

    name = "jaeger"
    startup_timeout = 60.0

    def __init__(
        self,
        *,
        config: Path | str | None = None,
        binary: Path | str | None = None,
        log_level: str = "info",
        max_traces: int = 100_000,
    ) -> None:
        super().__init__()
        self.config = Path(config) if config else EXAMPLES / "jaeger.yaml"
        self.binary = Path(binary) if binary else None
        self.log_level = log_level
        self.max_traces = max_traces
        self.otlp_grpc_port = free_port()
        self.otlp_http_port = free_port()
        self.query_http_port = free_port()
        self.query_grpc_port = free_port()
        self.otlp_grpc_endpoint = f"http://{LOOPBACK}:{self.otlp_grpc_port}"
        self.otlp_http_endpoint = f"http://{LOOPBACK}:{self.otlp_http_port}"
        self.otlp_http_traces_endpoint = f"{self.otlp_http_endpoint}/v1/traces"
        self.query_url = f"http://{LOOPBACK}:{self.query_http_port}"
        self.ui_assets = jaeger_ui_assets()

    def _log_suffix(self) -> str:
        return str(self.query_http_port)

    def _command(self) -> list[str]:
        binary = self.binary or install("jaeger")
        return [str(binary), "--config", str(self.config)]

    def _env(self) -> dict[str, str]:
        return {
            "JAEGER_LISTEN_HOST": LOOPBACK,
            "JAEGER_OTLP_GRPC_PORT": str(self.otlp_grpc_port),
            "JAEGER_OTLP_HTTP_PORT": str(self.otlp_http_port),
            "JAEGER_QUERY_HTTP_PORT": str(self.query_http_port),
            "JAEGER_QUERY_GRPC_PORT": str(self.query_grpc_port),
            "JAEGER_MAX_TRACES": str(self.max_traces),
            "JAEGER_LOG_LEVEL": self.log_level,
            "JAEGER_UI_ASSETS": str(self.ui_assets or ""),
            "JAEGER_UI_CONFIG": str(EXAMPLES / "jaeger-ui.json"),
        }

    def _ready(self) -> bool:
        status, _ = http_json(f"{self.query_url}/api/services", timeout=2)
        # Extensions (the query API) start before the pipelines: wait for the receivers too.
        return status == 200 and port_open(self.otlp_grpc_port) and port_open(self.otlp_http_port)

    # ---------------------------------------------------------------------------- queries
    def services(self) -> list[str]:
        """Service names Jaeger has seen (v1 API)."""
        status, body = http_json(f"{self.query_url}/api/services")
        if status != 200:
            raise BackendError(f"GET /api/services -> {status}: {body}")
        return sorted((body or {}).get("data") or [])

    def query_traces(
        self,
        service: str,
        *,
        start: float | None = None,
        end: float | None = None,
        operation: str | None = None,
        num_traces: int = 100,
    ) -> dict[str, Any]:
        """One ``GET /api/v3/traces`` call; returns its JSON,
        ``{"result": {"resourceSpans": [...]}}``, or ``{}`` when nothing matched.

        ``start``/``end`` are epoch seconds (default: the last hour up to one minute from now);
        ``num_traces`` caps the traces returned.
        """
        now = time.time()
        params = {
            "query.service_name": service,
            "query.start_time_min": rfc3339_nano(start if start is not None else now - 3600),
            "query.start_time_max": rfc3339_nano(end if end is not None else now + 60),
        }
        if operation:
            params["query.operation_name"] = operation
        # Required by Jaeger ("search depth"): 0 < num_traces <= max_traces of the storage.
        params["query.num_traces"] = str(num_traces)
        url = f"{self.query_url}/api/v3/traces?{urllib.parse.urlencode(params)}"
        status, body = http_json(url)
        if status == 200 and isinstance(body, dict):
            return body
        if status == 404:  # {"error": {"message": "No traces found"}}
            return {}
        raise BackendError(f"GET {url} -> {status}: {body}")

    def find_traces(
        self,
        service: str,
        timeout: float = 30,
        *,
        min_spans: int = 1,
        start: float | None = None,
        end: float | None = None,
        operation: str | None = None,
    ) -> dict[str, Any]:
        """Poll ``/api/v3/traces`` until at least ``min_spans`` spans of ``service`` are stored.

        Returns the OTLP-JSON-like document (see :func:`flatten_spans`).  Raises TimeoutError.
        """

        def attempt() -> dict[str, Any] | None:
            doc = self.query_traces(service, start=start, end=end, operation=operation)
            return doc if len(flatten_spans(doc)) >= min_spans else None

        return poll(attempt, timeout, what=f"{min_spans} span(s) of service {service!r} in Jaeger")

    def get_trace(
        self, trace_id_hex: str, timeout: float = 30, *, min_spans: int = 1
    ) -> dict[str, Any]:
        """``GET /api/traces/{id}`` (v1 JSON: ``{"data": [{"traceID", "spans", "processes"}]}``),
        polled until the trace has at least ``min_spans`` spans."""

        def attempt() -> dict[str, Any] | None:
            status, body = http_json(f"{self.query_url}/api/traces/{trace_id_hex}")
            if status == 200 and isinstance(body, dict) and len(flatten_spans(body)) >= min_spans:
                return body
            return None

        return poll(attempt, timeout, what=f"trace {trace_id_hex} in Jaeger")

    def get_trace_v3(self, trace_id_hex: str, timeout: float = 30) -> dict[str, Any]:
        """``GET /api/v3/traces/{id}`` (OTLP-JSON-like, like :meth:`find_traces`)."""

        def attempt() -> dict[str, Any] | None:
            status, body = http_json(f"{self.query_url}/api/v3/traces/{trace_id_hex}")
            return (
                body if status == 200 and isinstance(body, dict) and flatten_spans(body) else None
            )

        return poll(attempt, timeout, what=f"trace {trace_id_hex} in Jaeger (v3)")


# --------------------------------------------------------------------------------------------
# OpenTelemetry Collector


class Collector(_Backend):
    """OpenTelemetry Collector built by install.sh (config: examples/backends/collector.yaml).

    Forwards everything it receives over OTLP gRPC to ``jaeger`` (a started :class:`Jaeger`) or
    to ``forward_grpc_port`` on 127.0.0.1.  The value of the request header ``echo_header`` is
    copied into the span attribute ``collector.header.<echo_header>``; set
    ``debug_verbosity="detailed"`` to have every span printed to the collector's log.
    """

    name = "collector"
    startup_timeout = 60.0

    def __init__(
        self,
        jaeger: Jaeger | None = None,
        *,
        forward_grpc_port: int | None = None,
        config: Path | str | None = None,
        binary: Path | str | None = None,
        echo_header: str = "x-ragtel-tenant",
        debug_verbosity: str = "basic",
        log_level: str = "info",
    ) -> None:
        super().__init__()
        if jaeger is None and forward_grpc_port is None:
            raise ValueError("Collector needs a Jaeger or a forward_grpc_port")
        self.jaeger = jaeger
        self.forward_grpc_port = forward_grpc_port if forward_grpc_port else jaeger.otlp_grpc_port  # type: ignore[union-attr]
        self.config = Path(config) if config else EXAMPLES / "collector.yaml"
        self.binary = Path(binary) if binary else None
        self.echo_header = echo_header.lower()
        self.echo_attribute = f"collector.header.{self.echo_header}"
        self.debug_verbosity = debug_verbosity
        self.log_level = log_level
        self.otlp_grpc_port = free_port()
        self.otlp_http_port = free_port()
        self.otlp_grpc_endpoint = f"http://{LOOPBACK}:{self.otlp_grpc_port}"
        self.otlp_http_endpoint = f"http://{LOOPBACK}:{self.otlp_http_port}"
        self.otlp_http_traces_endpoint = f"{self.otlp_http_endpoint}/v1/traces"

    def _log_suffix(self) -> str:
        return str(self.otlp_grpc_port)

    def _command(self) -> list[str]:
        binary = self.binary or install("collector")
        return [str(binary), "--config", str(self.config)]

    def _env(self) -> dict[str, str]:
        return {
            "OTELCOL_LISTEN_HOST": LOOPBACK,
            "OTELCOL_OTLP_GRPC_PORT": str(self.otlp_grpc_port),
            "OTELCOL_OTLP_HTTP_PORT": str(self.otlp_http_port),
            "OTELCOL_JAEGER_HOST": LOOPBACK,
            "OTELCOL_JAEGER_OTLP_GRPC_PORT": str(self.forward_grpc_port),
            "OTELCOL_ECHO_HEADER": self.echo_header,
            "OTELCOL_DEBUG_VERBOSITY": self.debug_verbosity,
            "OTELCOL_LOG_LEVEL": self.log_level,
        }

    def _ready(self) -> bool:
        # Receivers start last; once both listen the pipeline is up.
        return port_open(self.otlp_grpc_port) and port_open(self.otlp_http_port)


# --------------------------------------------------------------------------------------------
# Chroma


class ChromaServer(_Backend):
    """A Chroma server (``chroma run``, the server chromadb's wheel ships) keeping its data in
    ``path``; clients connect to ``url`` (``host`` / ``port`` for ``chromadb.HttpClient``)."""

    name = "chroma"
    startup_timeout = 60.0

    def __init__(self, path: Path | str) -> None:
        super().__init__()
        self.path = Path(path)
        self.host = LOOPBACK
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"

    def _log_suffix(self) -> str:
        return str(self.port)

    def _command(self) -> list[str]:
        binary = Path(sys.executable).parent / "chroma"  # installed with chromadb (dev extra)
        return [str(binary), "run", "--path", str(self.path), "--host", LOOPBACK,
                "--port", str(self.port)]  # fmt: skip

    def _env(self) -> dict[str, str]:
        return {"ANONYMIZED_TELEMETRY": "False"}

    def _ready(self) -> bool:
        status, _ = http_json(f"{self.url}/api/v2/heartbeat", timeout=2)
        return status == 200

    def client(self) -> Any:
        import chromadb

        settings = chromadb.Settings(anonymized_telemetry=False)
        return chromadb.HttpClient(host=self.host, port=self.port, settings=settings)


# --------------------------------------------------------------------------------------------
# Arize Phoenix


class Phoenix(_Backend):
    """Arize Phoenix (``phoenix serve``) from its own venv, with a throwaway working dir.

    Send OTLP/HTTP to ``otlp_http_traces_endpoint``.  Its gRPC port (``grpc_port``) binds every
    interface whatever PHOENIX_HOST says; it is given a free port and never used.
    """

    name = "phoenix"
    startup_timeout = 120.0

    def __init__(
        self, *, binary: Path | str | None = None, working_dir: Path | str | None = None
    ) -> None:
        super().__init__()
        self.binary = Path(binary) if binary else None
        self._own_dir = working_dir is None
        self.working_dir = Path(working_dir) if working_dir else None
        self.port = free_port()
        self.grpc_port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.otlp_http_endpoint = self.url
        self.otlp_http_traces_endpoint = f"{self.url}/v1/traces"

    def _log_suffix(self) -> str:
        return str(self.port)

    def _command(self) -> list[str]:
        binary = self.binary or install("phoenix")
        if self.working_dir is None:
            (CACHE / "tmp").mkdir(parents=True, exist_ok=True)
            self.working_dir = Path(tempfile.mkdtemp(prefix="phoenix-", dir=CACHE / "tmp"))
        return [str(binary), "serve"]

    def _env(self) -> dict[str, str]:
        return {
            "PHOENIX_HOST": LOOPBACK,
            "PHOENIX_PORT": str(self.port),
            "PHOENIX_GRPC_PORT": str(self.grpc_port),
            "PHOENIX_WORKING_DIR": str(self.working_dir),
            "PHOENIX_TELEMETRY_ENABLED": "false",
            "PHOENIX_ALLOW_EXTERNAL_RESOURCES": "false",
        }

    def _ready(self) -> bool:
        status, _ = http_request(f"{self.url}/healthz", timeout=2)
        return status == 200

    def stop(self, timeout: float = 15) -> None:
        super().stop(timeout)
        if self._own_dir and self.working_dir is not None:
            shutil.rmtree(self.working_dir, ignore_errors=True)
            self.working_dir = None

    def projects(self) -> list[dict[str, Any]]:
        status, body = http_json(f"{self.url}/v1/projects")
        if status != 200:
            raise BackendError(f"GET /v1/projects -> {status}: {body}")
        return body.get("data") or []

    def query_spans(self, project: str = "default", *, limit: int = 1000) -> list[dict[str, Any]]:
        """All spans of ``project`` (``GET /v1/projects/{name}/spans``, following cursors);
        ``[]`` while the project does not exist yet."""
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        base = f"{self.url}/v1/projects/{urllib.parse.quote(project, safe='')}/spans"
        while True:
            params = {"limit": str(limit)}
            if cursor:
                params["cursor"] = cursor
            status, body = http_json(f"{base}?{urllib.parse.urlencode(params)}")
            if status == 404:
                return out
            if status != 200 or not isinstance(body, dict):
                raise BackendError(f"GET {base} -> {status}: {body}")
            out.extend(body.get("data") or [])
            cursor = body.get("next_cursor")
            if not cursor:
                return out

    def spans(
        self,
        project: str = "default",
        timeout: float = 30,
        *,
        min_spans: int = 1,
        trace_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Poll until ``project`` holds at least ``min_spans`` spans (of ``trace_id`` if given);
        returns Phoenix's span dicts (see :func:`flatten_phoenix_spans`)."""

        def attempt() -> list[dict[str, Any]] | None:
            spans = self.query_spans(project)
            if trace_id:
                spans = [s for s in spans if (s.get("context") or {}).get("trace_id") == trace_id]
            return spans if len(spans) >= min_spans else None

        return poll(attempt, timeout, what=f"{min_spans} span(s) in Phoenix project {project!r}")


# --------------------------------------------------------------------------------------------
# result shapes -> simple dicts


def otlp_value(v: dict[str, Any] | None) -> Any:
    """Python value of an OTLP-JSON AnyValue ({"stringValue": ...}, {"intValue": "7"}, ...)."""
    if not v:
        return None
    if "stringValue" in v:
        return v["stringValue"]
    if "boolValue" in v:
        return bool(v["boolValue"])
    if "intValue" in v:
        return int(v["intValue"])  # int64 is a JSON string in OTLP/JSON
    if "doubleValue" in v:
        return float(v["doubleValue"])
    if "arrayValue" in v:
        return [otlp_value(x) for x in (v["arrayValue"] or {}).get("values") or []]
    if "kvlistValue" in v:
        return {
            kv["key"]: otlp_value(kv.get("value"))
            for kv in (v["kvlistValue"] or {}).get("values") or []
        }
    if "bytesValue" in v:
        return base64.b64decode(v["bytesValue"])
    return None


def _otlp_attrs(kvs: Iterable[dict[str, Any]] | None) -> dict[str, Any]:
    return {kv["key"]: otlp_value(kv.get("value")) for kv in kvs or []}


def _id_hex(value: str | None, nbytes: int) -> str:
    """Trace/span ids: OTLP/JSON uses hex, protobuf-JSON uses base64; return lowercase hex."""
    if not value:
        return ""
    if len(value) == 2 * nbytes and all(c in "0123456789abcdefABCDEF" for c in value):
        return value.lower()
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        return value
    return raw.hex() if len(raw) == nbytes else value


def _jaeger_tag(tag: dict[str, Any]) -> Any:
    t, v = tag.get("type"), tag.get("value")
    if t == "int64":
        return int(v)
    if t == "float64":
        return float(v)
    if t == "bool":
        return v if isinstance(v, bool) else str(v).lower() == "true"
    return v


_OTLP_KINDS = {
    0: "UNSPECIFIED",
    1: "INTERNAL",
    2: "SERVER",
    3: "CLIENT",
    4: "PRODUCER",
    5: "CONSUMER",
}


def _otlp_kind(kind: Any) -> str:
    if isinstance(kind, int):
        return _OTLP_KINDS.get(kind, str(kind))
    k = str(kind or "")
    return k.removeprefix("SPAN_KIND_") or "UNSPECIFIED"


def flatten_spans(doc: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Spans of a Jaeger answer as simple dicts, whichever API gave it.

    Accepts the v3 API's ``{"result": {"resourceSpans": [...]}}``, plain OTLP/JSON
    ``{"resourceSpans": [...]}`` (e.g. an OTLP JSON file) and the v1 API's
    ``{"data": [{"traceID", "spans", "processes"}]}``.  Each span becomes::

        {"trace_id": hex, "span_id": hex, "parent_span_id": hex or "", "name": str,
         "kind": "INTERNAL"|"SERVER"|..., "attributes": {key: value},
         "resource": {key: value}, "scope": str, "status_code": str,
         "start_ns": int, "end_ns": int, "events": [{"name", "attributes"}]}

    Attribute values are Python values.  The v1 API has no arrays: Jaeger shows an array
    attribute there as a JSON string; :func:`parse_array_attr` turns it back into a list.
    """
    if not doc:
        return []
    if "data" in doc and isinstance(doc["data"], list):
        return _flatten_v1(doc["data"])
    root = doc.get("result", doc)
    out: list[dict[str, Any]] = []
    for rs in root.get("resourceSpans") or []:
        resource = _otlp_attrs((rs.get("resource") or {}).get("attributes"))
        for ss in rs.get("scopeSpans") or []:
            scope = (ss.get("scope") or {}).get("name", "")
            for sp in ss.get("spans") or []:
                status = sp.get("status") or {}
                out.append(
                    {
                        "trace_id": _id_hex(sp.get("traceId"), 16),
                        "span_id": _id_hex(sp.get("spanId"), 8),
                        "parent_span_id": _id_hex(sp.get("parentSpanId"), 8),
                        "name": sp.get("name", ""),
                        "kind": _otlp_kind(sp.get("kind")),
                        "attributes": _otlp_attrs(sp.get("attributes")),
                        "resource": resource,
                        "scope": scope,
                        "status_code": _otlp_status(status.get("code")),
                        "start_ns": int(sp.get("startTimeUnixNano") or 0),
                        "end_ns": int(sp.get("endTimeUnixNano") or 0),
                        "events": [
                            {
                                "name": e.get("name", ""),
                                "attributes": _otlp_attrs(e.get("attributes")),
                            }
                            for e in sp.get("events") or []
                        ],
                    }
                )
    return out


def _otlp_status(code: Any) -> str:
    if isinstance(code, int):
        return {0: "UNSET", 1: "OK", 2: "ERROR"}.get(code, str(code))
    return str(code or "UNSET").removeprefix("STATUS_CODE_")


def _flatten_v1(traces: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for tr in traces:
        processes = tr.get("processes") or {}
        for sp in tr.get("spans") or []:
            tags = {t["key"]: _jaeger_tag(t) for t in sp.get("tags") or []}
            proc = processes.get(sp.get("processID"), {}) if isinstance(processes, dict) else {}
            resource = {t["key"]: _jaeger_tag(t) for t in proc.get("tags") or []}
            if proc.get("serviceName"):
                resource["service.name"] = proc["serviceName"]
            parent = ""
            for ref in sp.get("references") or []:
                if ref.get("refType") == "CHILD_OF":
                    parent = ref.get("spanID", "")
                    break
            kind = str(tags.pop("span.kind", "internal")).upper()
            status = str(tags.pop("otel.status_code", "UNSET")).upper()
            scope = tags.pop("otel.scope.name", "")
            tags.pop("otel.scope.version", None)
            start_us = int(sp.get("startTime") or 0)
            out.append(
                {
                    "trace_id": (sp.get("traceID") or tr.get("traceID") or "").rjust(32, "0"),
                    "span_id": (sp.get("spanID") or "").rjust(16, "0"),
                    "parent_span_id": parent.rjust(16, "0") if parent else "",
                    "name": sp.get("operationName", ""),
                    "kind": kind,
                    "attributes": tags,
                    "resource": resource,
                    "scope": scope,
                    "status_code": status,
                    "start_ns": start_us * 1000,
                    "end_ns": (start_us + int(sp.get("duration") or 0)) * 1000,
                    "events": [
                        {
                            "name": next(
                                (
                                    f.get("value")
                                    for f in log.get("fields") or []
                                    if f.get("key") == "event"
                                ),
                                "",
                            ),
                            "attributes": {
                                f["key"]: _jaeger_tag(f)
                                for f in log.get("fields") or []
                                if f.get("key") != "event"
                            },
                        }
                        for log in sp.get("logs") or []
                    ],
                }
            )
    return out


def parse_array_attr(value: Any) -> Any:
    """An array attribute as a list, whether it came as a list (OTLP/JSON) or as the JSON text
    Jaeger's v1 API shows (``'[0.1,0.2]'``).  Other values are returned unchanged."""
    if isinstance(value, str) and value[:1] == "[":
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        return parsed if isinstance(parsed, list) else value
    return value


def flatten_phoenix_spans(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Phoenix's ``/v1/projects/{name}/spans`` items as the dicts of :func:`flatten_spans`.

    Phoenix keeps no resource attributes per span; ``resource`` is ``{}``.  Its ``attributes``
    are already typed JSON values (arrays are lists).
    """
    out = []
    for sp in spans:
        ctx = sp.get("context") or {}
        out.append(
            {
                "trace_id": ctx.get("trace_id", ""),
                "span_id": ctx.get("span_id", ""),
                "parent_span_id": sp.get("parent_id") or "",
                "name": sp.get("name", ""),
                "kind": str(sp.get("span_kind", "")).upper(),
                "attributes": dict(sp.get("attributes") or {}),
                "resource": {},
                "scope": "",
                "status_code": str(sp.get("status_code", "UNSET")).upper(),
                "start_ns": 0,
                "end_ns": 0,
                "events": [
                    {"name": e.get("name", ""), "attributes": dict(e.get("attributes") or {})}
                    for e in sp.get("events") or []
                ],
            }
        )
    return out
