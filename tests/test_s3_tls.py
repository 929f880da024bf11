"""An https S3 endpoint must prove who it is: a certificate no trusted authority signed is
refused before any request (with the credentials' signature) reaches it. Plain-http endpoints
(the embedded S3, moto) skip loading the CA bundle; this pins that https never does."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from domain.platform.s3 import S3Service
from domain.platform.s3_types import S3Error
from domain.platform.settings import S3Settings


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no authority signed, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
async def impostor(tmp_path: Path) -> AsyncIterator[tuple[str, list[bytes]]]:
    """An https server with a self-signed certificate; the requests it was sent."""
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    received: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            received.append(await asyncio.wait_for(reader.read(4096), 5))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
        except (OSError, TimeoutError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"https://127.0.0.1:{port}", received


async def test_an_https_endpoint_with_an_untrusted_certificate_gets_no_request(
    impostor: tuple[str, list[bytes]],
) -> None:
    endpoint, received = impostor
    settings = S3Settings(endpoint, "us-east-1", "KEY", "SECRET", "media")
    async with S3Service(settings, max_attempts=1, timeout=5) as s3:
        with pytest.raises(S3Error):
            await s3.upload("Anna/P1/a.jpg", b"data")
        with pytest.raises(S3Error):
            await s3.check()
    assert [r for r in received if r] == [], "a request was sent past an unverified certificate"
