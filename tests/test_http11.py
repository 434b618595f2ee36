"""The lean HTTP/1.1 transport against a scripted server on loopback.

Every server here is a plain asyncio server on 127.0.0.1 that reads one request
head (and its body, by Content-Length) per answer it is given, and writes the
answer bytes exactly as the test wrote them: framing, kept-alive or closed
connections, malformed answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
from dataclasses import dataclass, field

import httpx
import pytest

from polaris_sync.http11 import Http11Transport, transport_for


@dataclass
class ScriptedServer:
    """Answers requests in order with the given bytes; records what came in."""

    answers: list[bytes | None]
    close_after_each: bool = False
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0
    reads_per_request: list[int] = field(default_factory=list)

    async def handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.connections += 1
        try:
            while self.answers:
                head = await reader.readuntil(b"\r\n\r\n")
                length = _content_length(head)
                body = await reader.readexactly(length) if length else b""
                self.requests.append(head + body)
                answer = self.answers.pop(0)
                if answer is None:  # no answer: hang up
                    break
                writer.write(answer)
                await writer.drain()
                if self.close_after_each:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            return int(value)
    return 0


def exchange(
    server: ScriptedServer,
    requests: list[tuple[str, bytes]],
    *,
    transport: Http11Transport | None = None,
    timeout: float = 5,
) -> list[httpx.Response | Exception]:
    """Send each (method, body) in turn to `server`; answers or errors."""

    async def main() -> list[httpx.Response | Exception]:
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        lean = transport or Http11Transport(max_connections=2)
        results: list[httpx.Response | Exception] = []
        client = httpx.AsyncClient(transport=lean, timeout=timeout)
        async with listener, client:
            for method, body in requests:
                try:
                    url = f"http://127.0.0.1:{port}/api/products?display=full"
                    results.append(await client.request(method, url, content=body))
                except httpx.HTTPError as error:
                    results.append(error)
        return results

    return asyncio.run(main())


def bodies(results: list[httpx.Response | Exception]) -> list[bytes]:
    """The answers' bodies; fails on any error among them."""
    for result in results:
        assert isinstance(result, httpx.Response), result
    return [result.content for result in results if isinstance(result, httpx.Response)]


GET = ("GET", b"")


def ok(body: bytes, *extra: bytes) -> bytes:
    headers = b"".join(line + b"\r\n" for line in extra)
    return (
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n" % (len(body), headers)
        + body
    )


def test_one_connection_serves_many_requests_and_each_leaves_in_one_piece() -> None:
    server = ScriptedServer([ok(b"<a/>"), ok(b"<b/>"), ok(b"<c/>")])

    answers = exchange(server, [GET, ("PATCH", b"<x>1</x>"), GET])

    assert bodies(answers) == [b"<a/>", b"<b/>", b"<c/>"]
    assert server.connections == 1
    patch = server.requests[1]
    assert patch.startswith(b"PATCH /api/products?display=full HTTP/1.1\r\n")
    assert b"\r\nContent-Length: 8\r\n" in patch
    assert b"\r\nHost: 127.0.0.1:" in patch
    assert patch.endswith(b"\r\n\r\n<x>1</x>")


def test_chunked_answers_with_extensions_and_trailers_are_joined() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4;name=value\r\n<pro\r\n6\r\nducts>\r\n0\r\nX-Trailer: yes\r\n\r\n"
    )
    server = ScriptedServer([chunked, ok(b"next")])

    assert bodies(exchange(server, [GET, GET])) == [b"<products>", b"next"]
    assert server.connections == 1


def test_an_answer_without_length_runs_to_the_end_of_the_connection() -> None:
    server = ScriptedServer(
        [b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n<all/>", ok(b"again")],
        close_after_each=True,
    )

    assert bodies(exchange(server, [GET, GET])) == [b"<all/>", b"again"]
    assert server.connections == 2


def test_connection_close_and_http_1_0_answers_are_not_reused() -> None:
    server = ScriptedServer(
        [
            ok(b"1", b"Connection: close"),
            b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n2",
            ok(b"3"),
        ],
        close_after_each=True,
    )

    assert bodies(exchange(server, [GET, GET, GET])) == [b"1", b"2", b"3"]
    assert server.connections == 3


def test_a_connection_the_server_closed_while_idle_is_replaced() -> None:
    # The server answers once, then hangs up (as a shop's keep-alive timeout
    # does); the next request must not be sent into the dead connection.
    server = ScriptedServer([ok(b"1"), ok(b"2")], close_after_each=True)

    async def main() -> list[bytes]:
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        async with listener, httpx.AsyncClient(transport=Http11Transport()) as client:
            first = await client.get(f"http://127.0.0.1:{port}/")
            await asyncio.sleep(0.05)  # the server's FIN arrives meanwhile
            second = await client.get(f"http://127.0.0.1:{port}/")
        return [first.content, second.content]

    assert asyncio.run(main()) == [b"1", b"2"]
    assert server.connections == 2


@pytest.mark.parametrize("hang_up", [True, False])
def test_a_connection_the_server_spoke_on_while_idle_is_replaced(
    hang_up: bool,
) -> None:
    # Some servers answer 408 on a kept-alive connection they time out. That
    # answer is to no request of ours: the next request must not take it.
    timed_out = b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n"
    connections = 0

    async def server(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(ok(b"%d" % connections))
        await asyncio.sleep(0.02)
        writer.write(timed_out)
        if hang_up:
            writer.close()
        else:
            with contextlib.suppress(ConnectionError):
                await reader.read()

    async def main() -> list[bytes]:
        listener = await asyncio.start_server(server, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        async with listener, httpx.AsyncClient(transport=Http11Transport()) as client:
            first = await client.get(f"http://127.0.0.1:{port}/")
            await asyncio.sleep(0.1)  # the 408 arrives meanwhile
            second = await client.post(f"http://127.0.0.1:{port}/", content=b"x")
        return [first.content, second.content]

    assert asyncio.run(main()) == [b"1", b"2"]


def test_idle_connections_expire() -> None:
    server = ScriptedServer([ok(b"1"), ok(b"2")])
    transport = Http11Transport(keepalive_expiry=0)

    assert bodies(exchange(server, [GET, GET], transport=transport)) == [b"1", b"2"]
    assert server.connections == 2


def test_head_204_and_informational_answers_have_no_body() -> None:
    server = ScriptedServer(
        [
            # A HEAD answer announces a length it does not send.
            b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
            ok(b"still in step"),
        ]
    )

    head, no_content, last = exchange(
        server, [("HEAD", b""), ("DELETE", b""), ("GET", b"")]
    )

    assert isinstance(head, httpx.Response) and head.content == b""
    assert head.headers["content-length"] == "1234"
    assert isinstance(no_content, httpx.Response) and no_content.status_code == 204
    assert isinstance(last, httpx.Response) and last.content == b"still in step"
    assert server.connections == 1


def test_folded_header_lines_are_joined_with_a_space() -> None:
    # Obsolete line folding: still sent by old servers and proxies.
    folded = (
        b"HTTP/1.1 200 OK\r\nX-Note: one\r\n  two\r\n\tthree\r\n"
        b"Content-Length: 2\r\n\r\nok"
    )
    server = ScriptedServer([folded])

    (answer,) = exchange(server, [GET])

    assert isinstance(answer, httpx.Response) and answer.content == b"ok"
    assert answer.headers["x-note"] == "one two three"


def test_gzip_answers_are_decoded_by_httpx() -> None:
    packed = gzip.compress(b"<prestashop/>")
    server = ScriptedServer([ok(packed, b"Content-Encoding: gzip")])

    assert bodies(exchange(server, [GET])) == [b"<prestashop/>"]
    assert b"Accept-Encoding: gzip" in server.requests[0]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (b"SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP status line"),
        (b"HTTP/2 200 OK\r\n\r\n", "not an HTTP/1.x answer"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed header"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "Content-Length"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            "conflicting Content-Length",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "bad chunk size",
        ),
        # Python's int() takes signs, "0x" prefixes and underscores; HTTP does not.
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\nab\r\n",
            "bad chunk size",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nab\r\n",
            "bad chunk size",
        ),
        # httpx would not decode a transfer coding: its bytes are not the body.
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
            "Transfer-Encoding",
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nab", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1_0\r\n\r\nabcdefghij", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "middle of its answer"),
        (None, "disconnected without sending"),
    ],
)
def test_broken_answers_raise_protocol_errors(
    answer: bytes | None, message: str
) -> None:
    server = ScriptedServer([answer], close_after_each=True)

    (result,) = exchange(server, [GET])

    assert isinstance(result, httpx.RemoteProtocolError)
    assert message in str(result)


@pytest.mark.parametrize(
    "header",
    [
        ("X-Key", "k\r\nX-Injected: 1"),
        ("X-Key", "k\nGET / HTTP/1.1"),
        ("X\r\nY", "k"),
        ("X-Key", "k\0"),
    ],
)
def test_line_breaks_in_request_headers_are_refused_before_sending(
    header: tuple[str, str],
) -> None:
    # A key pasted with a line break must not split the request in two.
    server = ScriptedServer([ok(b"never")])

    async def main() -> None:
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        async with listener, httpx.AsyncClient(transport=Http11Transport()) as client:
            with pytest.raises(httpx.LocalProtocolError):
                await client.get(f"http://127.0.0.1:{port}/", headers=[header])

    asyncio.run(main())
    assert server.requests == []


def test_a_failed_exchange_closes_its_connection() -> None:
    # After a broken answer the next request goes on a new connection, not
    # on one whose position in the stream is unknown.
    broken_answer = b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"
    server = ScriptedServer([broken_answer, ok(b"ok")])

    broken, fine = exchange(server, [GET, GET])

    assert isinstance(broken, httpx.RemoteProtocolError)
    assert isinstance(fine, httpx.Response) and fine.content == b"ok"
    assert server.connections == 2


def test_cancelling_a_request_halfway_frees_its_slot_and_drops_its_connection() -> None:
    # A run's time budget or SIGTERM cancels requests in flight: the rest of
    # that answer must not become the answer to the next request.
    server = trickling(
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", [b"-later"], pause=0.3
    )

    async def main() -> bytes:
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        transport = Http11Transport(max_connections=1)
        async with listener, httpx.AsyncClient(transport=transport) as client:
            url = f"http://127.0.0.1:{port}/"
            first = asyncio.create_task(client.get(url))
            await asyncio.sleep(0.1)
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first
            second = await asyncio.wait_for(client.get(url), 2)
        return second.content

    assert asyncio.run(main()) == b"half-later"
    assert len(server.requests) == 2


def test_an_answer_given_before_the_upload_is_read_reaches_the_caller() -> None:
    # nginx refuses a photo over client_max_body_size as soon as it has the
    # head, then reads and drops the rest of the body before closing.
    too_large = b"HTTP/1.1 413 Request Entity Too Large\r\nConnection: close\r\n"
    too_large += b"Content-Length: 9\r\n\r\ntoo large"

    async def refusing(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(too_large)
        while await reader.read(65536):
            pass
        writer.close()

    async def main() -> httpx.Response:
        listener = await asyncio.start_server(refusing, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        async with listener, httpx.AsyncClient(transport=Http11Transport()) as client:
            photo = bytes(4 * 1024 * 1024)
            return await client.post(f"http://127.0.0.1:{port}/", content=photo)

    answer = asyncio.run(main())
    assert answer.status_code == 413 and answer.content == b"too large"


def test_no_listener_is_a_connect_error() -> None:
    async def main() -> Exception:
        # A port that was just free: nothing listens there now.
        listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        listener.close()
        await listener.wait_closed()
        async with httpx.AsyncClient(transport=Http11Transport()) as client:
            with pytest.raises(httpx.ConnectError) as caught:
                await client.get(f"http://127.0.0.1:{port}/")
        return caught.value

    assert isinstance(asyncio.run(main()), httpx.ConnectError)


def test_a_silent_server_is_a_read_timeout() -> None:
    async def silent(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(2)
        writer.close()

    async def main() -> None:
        listener = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        async with listener, httpx.AsyncClient(
            transport=Http11Transport(), timeout=0.2
        ) as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.get(f"http://127.0.0.1:{port}/")

    asyncio.run(main())


def trickling(head: bytes, pieces: list[bytes], pause: float) -> ScriptedServer:
    """A server whose answer comes in pieces, `pause` seconds apart."""

    class Trickling(ScriptedServer):
        async def handle(
            self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            self.requests.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(head)
            for piece in pieces:
                await asyncio.sleep(pause)
                writer.write(piece)
            await writer.drain()
            writer.close()

    return Trickling([])


STEP = 64 * 1024  # the transport restarts its read timeout at least this often


@pytest.mark.parametrize(
    ("head", "pieces", "body"),
    [
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (3 * STEP),
            [b"a" * STEP, b"b" * STEP, b"c" * STEP],
            b"a" * STEP + b"b" * STEP + b"c" * STEP,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            [b"2\r\nab\r\n", b"4\r\ncd", b"ef\r\n", b"0\r\n\r\n"],
            b"abcdef",
        ),
        (
            b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
            [b"ab", b"cd", b"ef"],
            b"abcdef",
        ),
    ],
)
def test_the_read_timeout_bounds_each_wait_not_the_whole_answer(
    head: bytes, pieces: list[bytes], body: bytes
) -> None:
    # As with httpx's default transport: a big answer on a slow line arrives
    # in many pieces, each well within the timeout, the whole well beyond it.
    server = trickling(head, pieces, pause=0.15)

    (answer,) = exchange(server, [GET], timeout=0.4)

    assert isinstance(answer, httpx.Response) and answer.content == body


def test_an_answer_that_stops_halfway_is_a_read_timeout() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n"
    server = trickling(head, [b"ab", b"cd"], pause=0.5)

    (answer,) = exchange(server, [GET], timeout=0.3)

    assert isinstance(answer, httpx.ReadTimeout)


def test_connections_never_exceed_the_limit() -> None:
    in_flight = 0
    most = 0

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal in_flight, most
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                in_flight += 1
                most = max(most, in_flight)
                await asyncio.sleep(0.02)
                in_flight -= 1
                writer.write(ok(b"x"))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> int:
        listener = await asyncio.start_server(slow, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        transport = Http11Transport(max_connections=3)
        async with listener, httpx.AsyncClient(transport=transport) as client:
            url = f"http://127.0.0.1:{port}/"
            answers = await asyncio.gather(*(client.get(url) for _ in range(12)))
        assert all(answer.content == b"x" for answer in answers)
        return most

    assert asyncio.run(main()) == 3


def test_a_proxy_named_by_the_environment_takes_httpx_transport(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy",
                 "NO_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(
        transport_for("https://shop.invalid/api", max_connections=2), Http11Transport
    )

    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    proxied = transport_for("https://shop.invalid/api", max_connections=2)
    assert isinstance(proxied, httpx.AsyncHTTPTransport)
    assert isinstance(
        transport_for("http://shop.invalid/api", max_connections=2), Http11Transport
    )

    monkeypatch.setenv("NO_PROXY", "shop.invalid")
    assert isinstance(
        transport_for("https://shop.invalid/api", max_connections=2), Http11Transport
    )
