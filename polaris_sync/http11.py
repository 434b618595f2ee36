"""A lean HTTP/1.1 transport for httpx, on asyncio streams.

A first sync is tens of thousands of small requests to one shop. httpx's
default transport (httpcore, h11, anyio) spends more CPU on each of them than
the rest of polaris-sync does: a trace of a first sync against the sandbox
showed half the sync's CPU there. The servers polaris-sync talks to want only
plain HTTP/1.1 with kept-alive connections, so this transport speaks just that,
with asyncio's own streams underneath:

- each request leaves in one write (head and body together);
- answers are read whole, framed by Content-Length, chunked encoding or the
  end of the connection; httpx still decodes gzip and the rest;
- connections are kept per origin, at most `max_connections` in all, and an
  idle one is dropped when the server has closed it or after `keepalive_expiry`
  seconds (servers close idle connections after a few seconds);
- httpx's timeouts apply (connect, write, pool; the read timeout bounds the
  whole answer rather than each piece of it), and failures raise httpx's own
  exceptions, so callers see what the default transport raises.

A proxy named by the environment (HTTPS_PROXY and the like) is honoured with
httpx's own transport instead: see `transport_for`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import httpx

# Longest head (status line and headers) accepted from a server.
MAX_HEAD_BYTES = 256 * 1024
Origin = tuple[str, str, int]


def transport_for(
    url: str, *, max_connections: int, ssl_context: ssl.SSLContext | None = None
) -> httpx.AsyncBaseTransport:
    """The transport for a server: ours, or httpx's through the proxy the
    environment names for it (as httpx itself does when given no transport)."""
    target = httpx.URL(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(target.scheme) or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass(target.host):
        return httpx.AsyncHTTPTransport(
            proxy=proxy,
            verify=ssl_context or True,
            limits=httpx.Limits(max_connections=max_connections),
        )
    return Http11Transport(max_connections=max_connections, ssl_context=ssl_context)


class Http11Transport(httpx.AsyncBaseTransport):
    """Kept-alive HTTP/1.1 connections; answers read whole."""

    def __init__(
        self,
        *,
        max_connections: int = 4,
        ssl_context: ssl.SSLContext | None = None,
        keepalive_expiry: float = 5.0,
    ) -> None:
        self._ssl_context = ssl_context
        self._keepalive_expiry = keepalive_expiry
        self._slots = asyncio.Semaphore(max(1, max_connections))
        self._idle: dict[Origin, list[_Connection]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        origin = _origin(request.url)
        body = await request.aread()
        head = _request_head(request, len(body))

        if self._slots.locked():
            async with _limit(httpx.PoolTimeout, timeouts.get("pool")):
                await self._slots.acquire()
        else:
            await self._slots.acquire()
        try:
            connection = self._idle_connection(origin)
            if connection is None:
                connection = await self._connect(origin, timeouts.get("connect"))
            answer = await connection.exchange(
                head + body, request.method == "HEAD", timeouts
            )
            if answer.keep_alive:
                connection.idle_since = time.monotonic()
                self._idle.setdefault(origin, []).append(connection)
            else:
                connection.close()
        finally:
            self._slots.release()

        return httpx.Response(
            answer.status,
            headers=answer.headers,
            stream=httpx.ByteStream(answer.body),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": answer.reason},
        )

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    def _idle_connection(self, origin: Origin) -> _Connection | None:
        connections = self._idle.get(origin, [])
        while connections:
            connection = connections.pop()
            expired = time.monotonic() - connection.idle_since > self._keepalive_expiry
            if expired or connection.closed_by_server():
                connection.close()
                continue
            return connection
        return None

    async def _connect(self, origin: Origin, timeout: float | None) -> _Connection:
        scheme, host, port = origin
        tls = None
        if scheme == "https":
            if self._ssl_context is None:
                self._ssl_context = httpx.create_ssl_context()
            tls = self._ssl_context
        async with _limit(httpx.ConnectTimeout, timeout):
            try:
                reader, writer = await asyncio.open_connection(
                    host,
                    port,
                    ssl=tls,
                    server_hostname=host if tls else None,
                    limit=MAX_HEAD_BYTES,
                )
            except OSError as error:  # refused, unreachable, TLS refused
                raise httpx.ConnectError(str(error) or repr(error)) from error
        return _Connection(reader, writer)


@dataclass
class _Answer:
    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    keep_alive: bool


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = field(default_factory=time.monotonic)

    async def exchange(
        self, data: bytes, head_only: bool, timeouts: dict[str, float | None]
    ) -> _Answer:
        """Send one request, read its answer; the connection closes on failure."""
        phase: type[httpx.TimeoutException] = httpx.WriteTimeout
        try:
            with _errors():
                self.writer.write(data)
                if self.writer.transport.get_write_buffer_size():
                    # What the socket did not take at once (a photo, say).
                    async with asyncio.timeout(timeouts.get("write")):
                        await self.writer.drain()
                phase = httpx.ReadTimeout
                async with asyncio.timeout(timeouts.get("read")):
                    return await self._answer(head_only)
        except TimeoutError as error:
            self.close()
            raise phase(f"{phase.__name__}: no progress within the time set") from error
        except BaseException:
            self.close()
            raise

    def closed_by_server(self) -> bool:
        # A server that closed a kept-alive connection has sent its end of
        # stream, which the event loop has seen by now if it came while idle.
        return self.reader.at_eof() or self.writer.is_closing()

    def close(self) -> None:
        self.writer.close()

    async def _answer(self, head_only: bool) -> _Answer:
        status, reason, version, headers = await self._head()
        while 100 <= status < 200 and status != 101:
            # Informational answers come before the real one.
            status, reason, version, headers = await self._head()

        framing = _framing(headers)
        no_body = head_only or status in (101, 204, 304) or status < 200
        if no_body:
            body = b""
        elif framing == "chunked":
            body = b"".join([chunk async for chunk in self._chunks()])
        elif isinstance(framing, int):
            body = await self.reader.readexactly(framing)
        else:
            body = await self.reader.read()

        tokens = _tokens(headers, b"connection")
        keep_alive = (
            version == b"HTTP/1.1"
            and b"close" not in tokens
            and (no_body or framing is not None)
            and status != 101
        )
        return _Answer(status, reason, headers, body, keep_alive)

    async def _head(self) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
        try:
            raw = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError as error:
            raise httpx.RemoteProtocolError(
                f"the server's answer head is over {MAX_HEAD_BYTES} bytes"
            ) from error
        except asyncio.IncompleteReadError as error:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response."
            ) from error
        status_line, *lines = raw[:-4].split(b"\r\n")
        version, status, reason = _status_line(status_line)
        return status, reason, version, [_header(line) for line in lines]

    async def _chunks(self) -> AsyncIterator[bytes]:
        while True:
            size_line = await self.reader.readuntil(b"\r\n")
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise httpx.RemoteProtocolError(
                    f"bad chunk size {size_line[:40]!r}"
                ) from None
            if size == 0:
                break
            chunk = await self.reader.readexactly(size + 2)
            if chunk[-2:] != b"\r\n":
                raise httpx.RemoteProtocolError("a chunk does not end with CRLF")
            yield chunk[:-2]
        # Trailer fields, if any, end with an empty line; they are dropped.
        while await self.reader.readuntil(b"\r\n") != b"\r\n":
            pass


def _request_head(request: httpx.Request, length: int) -> bytes:
    lines = [b"%s %s HTTP/1.1" % (request.method.encode(), request.url.raw_path)]
    for name, value in request.headers.raw:
        if name.lower() == b"transfer-encoding":
            continue  # the body is sent whole, with its length
        lines.append(name + b": " + value)
    if length and b"content-length" not in (
        name.lower() for name, _ in request.headers.raw
    ):
        lines.append(b"Content-Length: %d" % length)
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _origin(url: httpx.URL) -> Origin:
    scheme = url.scheme
    port = url.port or (443 if scheme == "https" else 80)
    return scheme, url.host, port


def _status_line(line: bytes) -> tuple[bytes, int, bytes]:
    parts = line.split(b" ", 2)
    try:
        version, code = parts[0], int(parts[1])
    except (IndexError, ValueError):
        raise httpx.RemoteProtocolError(
            f"not an HTTP status line: {line[:80]!r}"
        ) from None
    if not version.startswith(b"HTTP/1.") or not 100 <= code <= 999:
        raise httpx.RemoteProtocolError(f"not an HTTP/1.x answer: {line[:80]!r}")
    return version, code, parts[2] if len(parts) > 2 else b""


def _header(line: bytes) -> tuple[bytes, bytes]:
    name, colon, value = line.partition(b":")
    if not colon or not name or name != name.strip():
        raise httpx.RemoteProtocolError(f"malformed header line {line[:80]!r}")
    return name, value.strip()


def _tokens(headers: list[tuple[bytes, bytes]], name: bytes) -> set[bytes]:
    return {
        token.strip().lower()
        for key, value in headers
        if key.lower() == name
        for token in value.split(b",")
    }


def _framing(headers: list[tuple[bytes, bytes]]) -> str | int | None:
    """"chunked", the Content-Length, or None: read to the end of the stream."""
    if b"chunked" in _tokens(headers, b"transfer-encoding"):
        return "chunked"
    lengths = {value for key, value in headers if key.lower() == b"content-length"}
    if not lengths:
        return None
    if len(lengths) > 1:
        raise httpx.RemoteProtocolError("conflicting Content-Length headers")
    try:
        length = int(lengths.pop())
    except ValueError:
        raise httpx.RemoteProtocolError("a Content-Length not a number") from None
    if length < 0:
        raise httpx.RemoteProtocolError("a negative Content-Length")
    return length


@contextlib.asynccontextmanager
async def _limit(
    error: type[httpx.TimeoutException], seconds: float | None
) -> AsyncIterator[None]:
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError as timeout:
        raise error(f"no progress in {seconds} s") from timeout


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """Socket and framing failures as the httpx exceptions callers expect."""
    try:
        yield
    except TimeoutError:
        raise  # an OSError too, but the caller names which phase ran late
    except asyncio.IncompleteReadError as error:
        raise httpx.RemoteProtocolError(
            "the server closed the connection in the middle of its answer"
        ) from error
    except asyncio.LimitOverrunError as error:
        raise httpx.RemoteProtocolError("a line of the answer is too long") from error
    except OSError as error:  # reset, broken pipe, TLS failures
        raise httpx.ReadError(str(error) or repr(error)) from error
