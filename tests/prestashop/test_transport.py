"""The transport that sends a request's head and body in one write."""

from __future__ import annotations

import asyncio
from typing import Any

import httpcore
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from polaris_sync.prestashop.transport import CoalescingTransport, _CoalescingStream
from polaris_sync.sandbox.http import BackgroundServer


class _RecordingStream(httpcore.AsyncNetworkStream):
    def __init__(self, fail_writes: bool = False) -> None:
        self.writes: list[bytes] = []
        self.fail_writes = fail_writes

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if self.fail_writes:
            raise httpcore.WriteError("connection reset")
        self.writes.append(buffer)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return b"HTTP/1.1 200 OK\r\n"

    async def aclose(self) -> None:
        pass

    def get_extra_info(self, info: str) -> Any:
        return info


def test_head_and_body_leave_in_one_write_when_the_answer_is_read():
    inner = _RecordingStream()
    stream = _CoalescingStream(inner)

    async def exchange() -> bytes:
        await stream.write(b"POST /api/products HTTP/1.1\r\n\r\n")
        await stream.write(b"<prestashop/>")
        await stream.write(b"")
        assert inner.writes == []
        return await stream.read(100)

    assert asyncio.run(exchange()) == b"HTTP/1.1 200 OK\r\n"
    assert inner.writes == [b"POST /api/products HTTP/1.1\r\n\r\n<prestashop/>"]
    assert stream.get_extra_info("is_readable") == "is_readable"


def test_a_failed_write_still_lets_the_answer_be_read():
    # A server may refuse a request early and answer before reading it all.
    stream = _CoalescingStream(_RecordingStream(fail_writes=True))

    async def exchange() -> bytes:
        await stream.write(b"PUT /api/products/1 HTTP/1.1\r\n\r\n")
        return await stream.read(100)

    assert asyncio.run(exchange()) == b"HTTP/1.1 200 OK\r\n"


async def _echo(request: Request) -> Response:
    body = await request.body()
    return Response(f"{request.method} {len(body)} ".encode() + body)


def test_requests_with_and_without_body_over_real_loopback():
    app = Starlette(routes=[Route("/echo", _echo, methods=["GET", "POST"])])
    body = b"<prestashop>" + b"x" * 200_000 + b"</prestashop>"

    async def talk(url: str) -> list[bytes]:
        transport = CoalescingTransport(limits=httpx.Limits(max_connections=2))
        async with httpx.AsyncClient(transport=transport) as client:
            # Keep-alive: several requests on the same connections.
            answers = await asyncio.gather(
                client.get(f"{url}/echo"),
                client.post(f"{url}/echo", content=body),
                client.post(f"{url}/echo", content=b"<small/>"),
                client.get(f"{url}/echo"),
            )
        return [answer.content for answer in answers]

    with BackgroundServer(app) as server:
        answers = asyncio.run(talk(server.url))

    assert answers[0] == answers[3] == b"GET 0 "
    assert answers[1] == f"POST {len(body)} ".encode() + body
    assert answers[2] == b"POST 8 <small/>"
