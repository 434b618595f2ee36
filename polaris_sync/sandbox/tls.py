"""A self-signed certificate for the simulator, as merchants' Polaris servers have.

Made once into a folder and reused, so that a client that pinned its
fingerprint keeps connecting across restarts. ``expired=True`` makes one whose
validity ended yesterday: Polaris servers often run those, and a pinning
client must still accept the pinned one.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CERT_NAME = "polaris-cert.pem"
KEY_NAME = "polaris-key.pem"


@dataclass(frozen=True)
class Certificate:
    certfile: Path
    keyfile: Path

    @property
    def sha256(self) -> str:
        """Fingerprint of the certificate, as a client pins it."""
        return certificate_sha256(self.certfile.read_text())


def certificate_sha256(pem: str) -> str:
    """SHA-256 of the DER certificate as browsers show it: ``AB:CD:...``."""
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper()
    return ":".join(digest[index:index + 2] for index in range(0, len(digest), 2))


def ensure_self_signed(folder: Path, *, expired: bool = False) -> Certificate:
    """The certificate in ``folder``, made there first if missing."""
    certificate = Certificate(folder / CERT_NAME, folder / KEY_NAME)
    if certificate.certfile.is_file() and certificate.keyfile.is_file():
        return certificate

    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    if expired:
        not_before, not_after = now - timedelta(days=400), now - timedelta(days=1)
    else:
        not_before, not_after = now - timedelta(days=1), now + timedelta(days=825)
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "polaris-sandbox"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "polaris-sync sandbox"),
    ])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]), critical=False)
        .sign(key, hashes.SHA256())
    )

    write_private(certificate.keyfile, key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    certificate.certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return certificate


def write_private(path: Path, content: bytes) -> None:
    """Write a file only its owner can read (keys, credentials)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
