"""Certificate pinning for Polaris servers (A5).

Merchants' Polaris servers mostly present self-signed, often expired
certificates, so the usual checks cannot pass. Turning them off would accept
anyone. Instead the certificate seen at association (trust on first use) is
recorded, and afterwards only that exact certificate is accepted: the TLS
handshake itself trusts the pinned certificate and nothing else, so a request,
and the key it carries, never reaches a server presenting another one.

A pin does not check the host name or the validity dates: the fingerprint
proves more than both.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from polaris_sync.errors import RemoteError, TransientError

# OpenSSL's X509_V_FLAG_NO_CHECK_TIME: an expired pinned certificate stays
# acceptable, as Vega's own advice for these servers expects.
_NO_CHECK_TIME = 0x200000


@dataclass(frozen=True)
class Pin:
    origin: str  # "host:port"
    sha256: str  # "AB:CD:..." as browsers show it
    pem: str

    def as_dict(self) -> dict[str, str]:
        return {"origin": self.origin, "sha256": self.sha256, "pem": self.pem}


def origin_of(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.hostname is None:
        raise ValueError(f"no host in {url!r}")
    default_port = 443 if parts.scheme == "https" else 80
    return parts.hostname, parts.port or default_port


def fingerprint(der: bytes) -> str:
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def presented_certificate(url: str, timeout: float = 15) -> bytes:
    """The certificate (DER) the server at ``url`` presents, without trusting it.

    Used to record a pin at association and to name the certificate met when a
    pin no longer matches. Nothing is sent over this connection.
    """
    host, port = origin_of(url)
    probe = ssl.create_default_context()
    probe.check_hostname = False
    probe.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with probe.wrap_socket(raw, server_hostname=host) as tls:
                der = tls.getpeercert(binary_form=True)
    except ssl.SSLError as error:
        raise RemoteError(f"{host}:{port} does not speak TLS: {error}") from error
    except OSError as error:
        raise TransientError(f"cannot reach {host}:{port}: {error}") from error
    if not der:
        raise RemoteError(f"{host}:{port} presented no certificate")
    return der


def pin_for(url: str, timeout: float = 15) -> Pin:
    """Trust on first use: record what the server at ``url`` presents now."""
    host, port = origin_of(url)
    der = presented_certificate(url, timeout)
    return Pin(f"{host}:{port}", fingerprint(der), ssl.DER_cert_to_PEM_cert(der))


def pinned_context(pin: Pin) -> ssl.SSLContext:
    """A TLS context that accepts the pinned certificate and no other."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=pin.pem)
    # The pinned certificate is a leaf, not a CA: trust it as the chain's end.
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN | _NO_CHECK_TIME
    return context


def is_verification_failure(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) is a refused certificate."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
