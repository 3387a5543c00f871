"""C2PA Content Credentials: a signed manifest in the MP4 that says it is AI-made.

The on-screen label and the MP4 tags (disclosure.py) are lost to any re-encode or crop;
a C2PA manifest is signed with the user's certificate, so platforms and viewers can check
who made the video and that it was generated, and see any change made after signing.
Needs the optional extra ``c2pa`` (the official c2pa-python package).

Signing is on when both PERSONACAST_C2PA_CERT_PATH (a PEM chain: the signing
certificate first, then its CA certificates) and PERSONACAST_C2PA_KEY_PATH (its PEM
private key, unencrypted) are set. A timestamp authority (PERSONACAST_C2PA_TSA_URL)
keeps the signature valid after the certificate expires; it is only contacted when
a video is signed.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ...errors import BackendError, ConfigError, MissingDependencyError
from ...settings import Settings

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
RENDER_ASSERTION = "org.personacast.render"
CERTIFICATE_HINT = (
    "c2pa needs an end-entity certificate (not self-signed) with the digitalSignature key usage, "
    "the emailProtection extended key usage and an authority key identifier, followed by its CA certificate"
)


@dataclass(frozen=True)
class SigningCredentials:
    cert_chain_pem: bytes
    private_key_pem: bytes
    algorithm: str  # c2pa's name: es256, es384, es512, ps256 or ed25519
    tsa_url: str | None


def load_credentials(settings: Settings) -> SigningCredentials | None:
    """The configured signing credentials, None when signing is off.

    Everything c2pa would refuse at the end of a render is refused here, before it
    starts: a test signature is made with the credentials (without the timestamp
    authority, so checking never needs the network).
    """
    cert_path, key_path = settings.c2pa_cert_path, settings.c2pa_key_path
    if cert_path is None and key_path is None:
        return None
    if cert_path is None or key_path is None:
        raise ConfigError(
            "C2PA signing needs both a certificate chain and its private key",
            hint="set PERSONACAST_C2PA_CERT_PATH and PERSONACAST_C2PA_KEY_PATH, or neither",
        )
    c2pa = _import_c2pa()
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    chain = _read(cert_path, "certificate chain")
    key_pem = _read(key_path, "private key")
    try:
        certificates = x509.load_pem_x509_certificates(chain)
    except ValueError:
        raise ConfigError(f"{cert_path} is not a PEM certificate chain", hint=CERTIFICATE_HINT) from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        raise ConfigError(f"{key_path} is not an unencrypted PEM private key", hint="export the key without a password") from None
    if _public_der(key.public_key()) != _public_der(certificates[0].public_key()):
        raise ConfigError(f"{key_path} is not the private key of the first certificate in {cert_path}")
    credentials = SigningCredentials(chain, key_pem, _algorithm(key, key_path), settings.c2pa_tsa_url)
    try:
        offline = replace(credentials, tsa_url=None)
        _sign(c2pa, _manifest("check", "check", "check"), offline, "image/png", _tiny_png(), io.BytesIO())
    except c2pa.C2paError as exc:
        raise ConfigError(f"c2pa refuses the certificate {cert_path}: {exc}", hint=CERTIFICATE_HINT) from None
    return credentials


def sign_video(video: Path, credentials: SigningCredentials, title: str, character_name: str, voice_engine: str) -> None:
    """Embed a signed manifest in the MP4 at ``video``; the file is replaced only once
    the signed copy is complete."""
    c2pa = _import_c2pa()
    signed = video.with_name(f"{video.stem}.signing{video.suffix}")
    try:
        with video.open("rb") as source, signed.open("w+b") as dest:
            _sign(c2pa, _manifest(title, character_name, voice_engine), credentials, "video/mp4", source, dest)
        os.replace(signed, video)
    except c2pa.C2paError as exc:
        raise BackendError(f"C2PA signing of {title} failed: {exc}") from None
    finally:
        signed.unlink(missing_ok=True)


def _manifest(title: str, character_name: str, voice_engine: str) -> dict[str, Any]:
    from ... import __version__  # set only after the package has imported the pipeline, and so this module

    agent = {"name": "personacast", "version": __version__}
    return {
        "claim_generator_info": [agent],
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA, "softwareAgent": agent}]},
            },
            {"label": RENDER_ASSERTION, "data": {"character": character_name, "voice_engine": voice_engine}},
        ],
    }


def _sign(c2pa, manifest: dict[str, Any], credentials: SigningCredentials, mime: str, source, dest) -> None:
    info = c2pa.C2paSignerInfo(credentials.algorithm, credentials.cert_chain_pem, credentials.private_key_pem, credentials.tsa_url)
    with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest) as builder:
        builder.sign(signer, mime, source, dest)


def _import_c2pa():
    try:
        import c2pa
    except ImportError:
        raise MissingDependencyError("c2pa", "c2pa", "c2pa") from None
    return c2pa


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the C2PA {what} {path}: {exc.strerror or exc}", hint="check the path") from None


def _public_der(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _algorithm(key, key_path: Path) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(key, ec.EllipticCurvePrivateKey):
        curves = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name in curves:
            return curves[key.curve.name]
    elif isinstance(key, rsa.RSAPrivateKey):
        return "ps256"  # C2PA allows RSA only with PSS padding
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise ConfigError(f"{key_path}: C2PA cannot sign with this kind of key", hint="use an EC P-256/P-384/P-521, RSA or Ed25519 key")


def _tiny_png() -> io.BytesIO:
    """The cheapest asset to try the credentials on."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, format="PNG")
    buffer.seek(0)
    return buffer
