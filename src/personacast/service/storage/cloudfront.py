"""Signed CloudFront URLs (canned policy), for S3 artefacts served through a CDN."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ...errors import ConfigError


class CloudFrontUrlSigner:
    """Signs ``https://DOMAIN/KEY`` URLs with a CloudFront key group's RSA private key.

    CloudFront checks the signature with the public key registered under ``key_id``;
    the distribution's origin is the bucket, so a URL's path is the object's full key.
    """

    def __init__(self, domain: str, key_id: str, private_key_pem: bytes) -> None:
        try:
            key = serialization.load_pem_private_key(private_key_pem, password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"the CloudFront private key cannot be read: {exc}") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigError("the CloudFront private key must be an RSA key (CloudFront signs URLs with RSA-SHA1)")
        self._key = key
        base = domain.rstrip("/")
        self.base_url = base if base.startswith(("https://", "http://")) else f"https://{base}"
        self._signer = CloudFrontSigner(key_id, self._sign)

    @classmethod
    def from_file(cls, domain: str, key_id: str, private_key_path: Path) -> CloudFrontUrlSigner:
        try:
            pem = private_key_path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read the CloudFront private key {private_key_path}: {exc.strerror}") from None
        return cls(domain, key_id, pem)

    def url(self, object_key: str, expires_at: datetime) -> str:
        return str(self._signer.generate_presigned_url(f"{self.base_url}/{quote(object_key)}", date_less_than=expires_at))

    def _sign(self, message: bytes) -> bytes:
        # SHA-1 is what CloudFront's canned policies specify; it is not our choice.
        return self._key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
