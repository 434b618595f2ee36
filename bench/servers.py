"""Both sandbox servers in a process of their own, timing what they do.

The benchmark runs polaris-sync in its own process and the servers here, so
that the time each side spends can be told apart. Both apps share one event
loop and one thread (no lock handover between server threads), and a timing
layer around them counts how long at least one request was being handled:

    python -m bench.servers FOLDER MODELS

prints nothing and writes ``FOLDER/servers.json`` (URLs, keys, licence, PIN)
once both answer; SIGTERM stops them. ``GET /_bench/timing`` on either server
returns the shared figures, ``POST /_bench/timing`` resets them.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from polaris_sync.sandbox import polaris, prestashop

HOST = "127.0.0.1"
INFO_FILE = "servers.json"
SHOP_KEY = "BENCHKEY0123456789ABCDEFGHIJKLMN"
TIMING_PATH = "/_bench/timing"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class BusyClock:
    """Time during which at least one request is in either server's hands.

    Overlapping requests count once: the figure is comparable with the wall
    time of the run that sent them.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.busy = 0.0
        self.requests = 0
        self._in_flight = 0
        self._since = 0.0

    def enter(self) -> None:
        if self._in_flight == 0:
            self._since = time.perf_counter()
        self._in_flight += 1
        self.requests += 1

    def leave(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0:
            self.busy += time.perf_counter() - self._since

    def figures(self) -> dict[str, float]:
        return {"busy_seconds": self.busy, "requests": self.requests}


def timed(app: App, clock: BusyClock) -> App:
    """`app`, with the clock running while it handles an HTTP request."""

    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if scope["path"] == TIMING_PATH:
            await _timing_answer(scope, send, clock)
            return
        clock.enter()
        try:
            await app(scope, receive, send)
        finally:
            clock.leave()

    return wrapper


async def _timing_answer(scope: Scope, send: Send, clock: BusyClock) -> None:
    if scope["method"] == "POST":
        clock.reset()
    body = json.dumps(clock.figures()).encode()
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# -- the server process ----------------------------------------------------------


async def serve(folder: Path, models: int) -> None:
    clock = BusyClock()
    polaris_app = polaris.create_app(folder / "polaris", models=models, seed=1)
    shop_app = prestashop.create_app(
        folder / "prestashop.sqlite3", api_key=SHOP_KEY
    )
    simulator = polaris_app.state.simulator
    servers = []
    urls = []
    for app in (polaris_app, shop_app):
        # asyncio turns Nagle off only on sockets created as TCP: without it
        # each answer waits for the client's delayed ACK (about 40 ms).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, 0))
        config = uvicorn.Config(
            timed(app, clock),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=60,
        )
        server = uvicorn.Server(config)
        servers.append((server, sock))
        urls.append(f"http://{HOST}:{sock.getsockname()[1]}")

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    tasks = [
        asyncio.create_task(server.serve(sockets=[sock])) for server, sock in servers
    ]
    while not all(server.started for server, _ in servers):
        await asyncio.sleep(0.01)

    info = {
        "polaris_root": urls[0],
        "polaris_url": f"{urls[0]}/api/WebConnect",
        "licence": simulator.licence,
        "pin": simulator.pin,
        "shop_root": urls[1],
        "shop_url": f"{urls[1]}/api",
        "shop_key": SHOP_KEY,
    }
    temporary = folder / (INFO_FILE + ".tmp")
    temporary.write_text(json.dumps(info))
    temporary.replace(folder / INFO_FILE)

    await stop.wait()
    for server, _ in servers:
        server.should_exit = True
    await asyncio.gather(*tasks)


# -- starting it from the benchmark ----------------------------------------------


class ServerProcess:
    """The servers' process, started on entry and stopped on exit."""

    def __init__(self, folder: Path, models: int) -> None:
        self.folder = folder
        self.models = models
        self.info: dict[str, str] = {}
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServerProcess:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / INFO_FILE).unlink(missing_ok=True)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.servers", str(self.folder), str(self.models)],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + 600
        while not (self.folder / INFO_FILE).is_file():
            if self._process.poll() is not None:
                raise RuntimeError("the benchmark servers did not start")
            if time.monotonic() > deadline:
                raise RuntimeError("the benchmark servers took too long to start")
            time.sleep(0.05)
        self.info = json.loads((self.folder / INFO_FILE).read_text())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    # -- the servers' own figures --------------------------------------------------

    def timing(self, reset: bool = False) -> dict[str, float]:
        url = self.info["shop_root"] + TIMING_PATH
        response = httpx.post(url) if reset else httpx.get(url)
        response.raise_for_status()
        figures: dict[str, float] = response.json()
        return figures

    def shop_admin(self, method: str, path: str, body: Any = None) -> Any:
        url = f"{self.info['shop_root']}/_sandbox/{path}"
        response = httpx.request(method, url, json=body, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def polaris_admin(self, path: str, body: Any) -> Any:
        url = f"{self.info['polaris_root']}/_sandbox/{path}"
        response = httpx.post(url, json=body, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def set_latency(self, milliseconds: int) -> None:
        self.shop_admin("PUT", "faults", {"latency_ms": milliseconds})


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1]), int(sys.argv[2])))
