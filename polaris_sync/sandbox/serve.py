"""Both sandbox servers on this machine, their data kept in one folder.

:class:`Sandbox` starts the Polaris simulator and the PrestaShop emulator on
loopback and writes ``sandbox.json`` (mode 0600) once both answer:

    {"polaris_url": "http://127.0.0.1:PORT/api/WebConnect",
     "polaris_admin_url": "http://127.0.0.1:PORT/_sandbox",
     "licence": "pl-p8-111-2222", "pin": "123456",
     "polaris_certificate_sha256": "..." (with TLS only),
     "prestashop_url": "http://127.0.0.1:PORT/api", "prestashop_key": "...",
     "pid": 1234}

Layout of the folder: ``polaris/`` (simulator database, certificate),
``prestashop/`` (emulator database, ``api-key``), ``sandbox.json``.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from polaris_sync.errors import ConfigError
from polaris_sync.sandbox import polaris, prestashop
from polaris_sync.sandbox.http import BackgroundServer
from polaris_sync.sandbox.tls import ensure_self_signed, write_private

SANDBOX_FILE = "sandbox.json"
REPOSITORY = Path(__file__).resolve().parents[2]
_KEY_ALPHABET = string.ascii_uppercase + string.digits


def default_catalogue() -> Path | None:
    """PrestaShop's demo catalogue in the shared folder beside the repository."""
    shared = Path(os.environ.get("POLARIS_SYNC_SHARED", REPOSITORY.parent / "shared"))
    folder = shared / "data" / "prestashop-demo-catalogue"
    return folder if (folder / "data" / "product.xml").is_file() else None


@dataclass
class SandboxOptions:
    directory: Path
    host: str = "127.0.0.1"
    polaris_port: int = 0
    prestashop_port: int = 0
    models: int = 50
    seed: int = 1
    prestashop_version: str = "8.1.2"
    catalogue: Path | None = None
    polaris_tls: bool = False


class Sandbox:
    """The two servers; a context manager, or :meth:`start` then :meth:`stop`."""

    def __init__(self, options: SandboxOptions) -> None:
        self.options = options
        self.directory = _writable_directory(options.directory)
        self._servers: list[BackgroundServer] = []
        self.info: dict[str, Any] = {}

    def start(self) -> dict[str, Any]:
        try:
            polaris_server, certificate_pin = self._polaris_server()
            prestashop_server, prestashop_key = self._prestashop_server()
            for server in self._servers:
                server.start()
            polaris_root = _reachable_url(polaris_server)
            prestashop_root = _reachable_url(prestashop_server)
            _wait_until_answering(f"{polaris_root}/_sandbox/state")
            _wait_until_answering(f"{prestashop_root}/api/")
        except BaseException:
            self.stop()
            raise

        simulator = polaris_server.app.state.simulator
        self.info = {
            "polaris_url": f"{polaris_root}/api/WebConnect",
            "polaris_admin_url": f"{polaris_root}/_sandbox",
            "licence": simulator.licence,
            "pin": simulator.pin,
            "prestashop_url": f"{prestashop_root}/api",
            "prestashop_key": prestashop_key,
            "pid": os.getpid(),
        }
        if certificate_pin:
            self.info["polaris_certificate_sha256"] = certificate_pin
        _write_private(self.directory / SANDBOX_FILE,
                       json.dumps(self.info, indent=2) + "\n")
        return self.info

    def stop(self) -> None:
        for server in self._servers:
            server.stop()
        self._servers = []

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _polaris_server(self) -> tuple[BackgroundServer, str | None]:
        options = self.options
        try:
            app = polaris.create_app(
                self.directory / "polaris", models=options.models,
                seed=options.seed, catalogue_dir=options.catalogue)
        except FileNotFoundError as error:
            raise ConfigError(str(error)) from error
        if not options.polaris_tls:
            return self._bind(app, options.polaris_port, "Polaris simulator"), None
        certificate = ensure_self_signed(self.directory / "polaris")
        server = self._bind(app, options.polaris_port, "Polaris simulator",
                            certfile=str(certificate.certfile),
                            keyfile=str(certificate.keyfile))
        return server, certificate.sha256

    def _prestashop_server(self) -> tuple[BackgroundServer, str]:
        folder = self.directory / "prestashop"
        folder.mkdir(exist_ok=True)
        key = _prestashop_key(folder / "api-key")
        app = prestashop.create_app(folder / "prestashop.sqlite3", api_key=key,
                                    version=self.options.prestashop_version)
        return self._bind(app, self.options.prestashop_port,
                          "PrestaShop emulator"), key

    def _bind(self, app: Any, port: int, role: str, **tls: str) -> BackgroundServer:
        try:
            server = BackgroundServer(app, self.options.host, port, **tls)
        except OSError as error:
            raise ConfigError(
                f"cannot listen on {self.options.host}:{port} for the {role}:"
                f" {error.strerror or error}") from error
        self._servers.append(server)
        return server


def serve(options: SandboxOptions, echo: Callable[[str], None]) -> None:
    """Run the sandbox until SIGINT or SIGTERM."""
    stop = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stop.set())

    if options.catalogue is None:
        echo("No demo catalogue given nor found beside the repository:"
             " generated models only.")
    else:
        echo(f"Demo catalogue: {options.catalogue} (loaded on first start).")
    with Sandbox(options) as sandbox:
        info = sandbox.info
        echo(f"Polaris simulator   {info['polaris_url']}"
             f"  licence {info['licence']}  PIN {info['pin']}")
        if "polaris_certificate_sha256" in info:
            echo(f"  certificate sha256 {info['polaris_certificate_sha256']}")
        echo(f"PrestaShop emulator {info['prestashop_url']}"
             f"  key {info['prestashop_key']}")
        echo(f"Details in {sandbox.directory / SANDBOX_FILE}; Ctrl-C stops.")
        while not stop.wait(0.2):
            pass
    echo("Sandbox stopped.")


def _writable_directory(directory: Path) -> Path:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise ConfigError(
            f"cannot use {directory} for the sandbox's data:"
            f" {error.strerror or error}") from error
    return directory.resolve()


def _prestashop_key(path: Path) -> str:
    if path.is_file():
        return path.read_text().strip()
    key = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(32))
    _write_private(path, key + "\n")
    return key


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` at once with ``text``, readable by its owner only."""
    temporary = path.with_suffix(".tmp")
    write_private(temporary, text.encode())
    temporary.replace(path)


def _reachable_url(server: BackgroundServer) -> str:
    # Listening on every interface includes loopback, where clients here go.
    if server.host in ("0.0.0.0", ""):
        return f"{server.scheme}://127.0.0.1:{server.port}"
    return server.url


def _wait_until_answering(url: str, timeout: float = 15.0) -> None:
    # Our own loopback servers; the simulator's certificate is self-signed.
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, verify=False, timeout=2.0)
            return
        except httpx.TransportError as error:
            if time.monotonic() > deadline:
                raise ConfigError(f"the sandbox server at {url} does not answer:"
                                  f" {error}") from error
            time.sleep(0.05)
