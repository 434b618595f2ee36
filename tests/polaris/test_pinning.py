"""Certificate pinning over real TLS on loopback (A5)."""

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from polaris_sync.errors import CertificateMismatch, RemoteError
from polaris_sync.polaris.association import associate
from polaris_sync.polaris.client import PolarisClient
from polaris_sync.polaris.pinning import fingerprint, pin_for
from polaris_sync.sandbox.tls import ensure_self_signed

pytestmark = pytest.mark.anyio


class FakePolaris(BaseHTTPRequestHandler):
    """Just enough WebConnect over TLS: association and one config table."""

    def log_message(self, *args):
        pass

    def _answer(self, body):
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self):
        self.server.seen.append((self.path, None))
        self.rfile.read(int(self.headers["Content-Length"]))
        base = f"https://127.0.0.1:{self.server.server_port}/api/WebConnect"
        self._answer({"Url": base, "Cle": "tls-key", "MagasinReference": 1})

    def do_GET(self):
        self.server.seen.append((self.path, self.headers.get("X-API-Key")))
        self._answer({"Items": [{"CodeMagasin": 1, "Nom": "Lyon"}]})


@pytest.fixture
def https_server(tmp_path):
    servers = []

    def start(name, expired=False):
        certificate = ensure_self_signed(tmp_path / name, expired=expired)
        cert = certificate.certfile
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate.certfile, certificate.keyfile)
        server = ThreadingHTTPServer(("127.0.0.1", 0), FakePolaris)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        server.seen = []
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server, f"https://127.0.0.1:{server.server_port}", cert

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


async def test_association_pins_the_self_signed_certificate_A5(https_server):
    server, url, cert = https_server("first")

    association = await associate(url, "pl-p8-111-2222", "123456", timeout=5)

    [pin] = association.pins
    expected = ssl.PEM_cert_to_DER_cert(cert.read_text())
    assert pin.sha256 == fingerprint(expected)
    assert pin.origin == f"127.0.0.1:{server.server_port}"

    client = PolarisClient(association.url, association.key, pin=pin, timeout=5)
    async with client:
        assert await client.get_config("Magasins") == [
            {"CodeMagasin": 1, "Nom": "Lyon"}
        ]
    assert server.seen[-1] == ("/api/WebConnect/Config/Magasins", "tls-key")


async def test_another_certificate_is_refused_before_the_key_is_sent_A5(https_server):
    _, first_url, _ = https_server("first")
    impostor, impostor_url, impostor_cert = https_server("impostor")
    pin = pin_for(first_url)

    client = PolarisClient(
        impostor_url + "/api/WebConnect", "secret", pin=pin, timeout=5, retry_delays=()
    )
    async with client:
        with pytest.raises(CertificateMismatch) as error:
            await client.get_config("Magasins")

    message = str(error.value)
    assert pin.sha256 in message
    presented = fingerprint(ssl.PEM_cert_to_DER_cert(impostor_cert.read_text()))
    assert presented in message
    assert "associate again" in message
    assert impostor.seen == []


async def test_unpinned_self_signed_certificate_is_not_silently_accepted_A5(
    https_server,
):
    server, url, _ = https_server("unpinned")
    client = PolarisClient(url, "secret", timeout=5, retry_delays=())
    async with client:
        with pytest.raises(RemoteError, match="not trusted"):
            await client.get_config("Magasins")
    assert server.seen == []


async def test_an_expired_pinned_certificate_is_still_accepted_A5(https_server):
    server, url, _ = https_server("expired", expired=True)
    pin = pin_for(url)

    client = PolarisClient(url + "/api/WebConnect", "k", pin=pin, timeout=5)
    async with client:
        assert await client.get_config("Magasins")
    assert server.seen[-1][1] == "k"
