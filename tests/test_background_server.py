"""The sandbox servers are served over real loopback HTTP."""

import socket

import httpx

from polaris_sync.sandbox.http import BackgroundServer


async def _hello(scope, receive, send):
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello"})


def test_background_server_answers_on_a_free_loopback_port_and_stops():
    with BackgroundServer(_hello) as server:
        assert server.port > 0
        assert httpx.get(server.url + "/").text == "hello"
    try:
        httpx.get(server.url + "/", timeout=1)
    except httpx.ConnectError:
        pass
    else:
        raise AssertionError("server still answering after stop")


def test_connections_are_accepted_with_nagle_off():
    """asyncio sets TCP_NODELAY only on sockets whose protocol says TCP.

    A socket made without it gets accepted connections with Nagle on: an
    answer written in two parts (head, then body) then waits for the client's
    delayed ACK, about 40 ms a request instead of about 2.
    """
    with BackgroundServer(_hello) as server:
        listening = server._socket
        assert listening.proto == socket.IPPROTO_TCP
        assert httpx.get(server.url + "/").text == "hello"
