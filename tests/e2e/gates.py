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
        if not _matches(scope, match):
            await self.app(scope, receive, send)
            return
        assert match is not None
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


class LostAnswer:
    """ASGI middleware that lets the app handle one kind of request, then
    answers 504 instead of what the app said: the write happened, the client
    never hears of it (a timeout after the write)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.match: tuple[str, str] | None = None
        self.passes = 0

    def arm(self, method: str, path_end: str, passes: int = 0) -> None:
        """Lose the answer to the matching request after `passes` of them."""
        self.match = (method, path_end)
        self.passes = passes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if not _matches(scope, self.match):
            await self.app(scope, receive, send)
            return
        if self.passes:
            self.passes -= 1
            await self.app(scope, receive, send)
            return
        self.match = None

        async def drop(message: Any) -> None:
            pass

        await self.app(scope, receive, drop)
        await send({"type": "http.response.start", "status": 504,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"gateway timeout"})


def _matches(scope: Any, match: tuple[str, ...] | None) -> bool:
    """Whether the request is an HTTP `match[0]` to a path ending `match[1]`."""
    return (
        scope["type"] == "http"
        and match is not None
        and scope["method"] == match[0]
        and scope["path"].endswith(match[1])
    )
