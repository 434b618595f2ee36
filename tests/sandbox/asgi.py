"""A synchronous httpx client answered in-process by a sandbox's ASGI app.

httpx only drives ASGI apps from async code; the sandbox tests are plain
functions, so each request runs the app on an event loop of its own. Neither
sandbox keeps asyncio objects between requests, so nothing is lost by that.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


class _BlockingASGITransport(httpx.BaseTransport):
    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return asyncio.run(self._exchange(request))

    async def _exchange(self, request: httpx.Request) -> httpx.Response:
        # The body is read on the app's loop: it cannot be streamed after it.
        answer = await self._asgi.handle_async_request(request)
        body = await answer.aread()
        return httpx.Response(
            answer.status_code,
            headers=answer.headers,
            stream=httpx.ByteStream(body),
            extensions=answer.extensions,
        )


class InProcessClient(httpx.Client):
    """Calls `app` without a socket; `client.app` reaches the app's state."""

    def __init__(
        self, app: Any, *, base_url: str = "http://testserver", **options: Any
    ) -> None:
        super().__init__(
            transport=_BlockingASGITransport(app), base_url=base_url, **options
        )
        self.app = app
