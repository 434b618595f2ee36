"""Hold a request in a sandbox server: the moment a test kills the client."""

from __future__ import annotations

import asyncio
import threading
from typing import Any


class Gate:
    """ASGI middleware that can hold one kind of request, before or after the
    app handled it, until released: the moment a test kills the client."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.match: tuple[str, str, str] | None = None
        self.reached = threading.Event()
        self.released = threading.Event()

    def arm(self, method: str, path_end: str, when: str) -> None:
        self.reached.clear()
        self.released.clear()
        self.match = (method, path_end, when)

    def release(self) -> None:
        self.match = None
        self.released.set()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        match = self.match
        if (
            scope["type"] != "http"
            or match is None
            or scope["method"] != match[0]
            or not scope["path"].endswith(match[1])
        ):
            await self.app(scope, receive, send)
            return
        if match[2] == "before":
            await self._hold()
            await self.app(scope, receive, send)
            return
        held: list[Any] = []

        async def keep(message: Any) -> None:
            held.append(message)

        await self.app(scope, receive, keep)
        await self._hold()
        for message in held:
            await send(message)

    async def _hold(self) -> None:
        self.reached.set()
        while not self.released.is_set():
            await asyncio.sleep(0.02)
