"""Artefact storage, chosen by ``settings.storage_url``: file:///DIR or s3://BUCKET/PREFIX.

    base.py        Storage (the interface) and publish_render's ordering and rollback
    local.py       LocalStorage
    s3.py          S3Storage (boto3), cloudfront.py: signed CloudFront URLs
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from ...errors import ConfigError
from ...settings import Settings
from .base import Storage, artefact_order, check_key

__all__ = ["Storage", "artefact_order", "check_key", "open_storage"]


def open_storage(settings: Settings) -> Storage:
    """The storage backend that ``settings.storage_url`` names (boto3 is imported only
    for s3://)."""
    url = settings.resolved_storage_url
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ConfigError(f"storage URL {url} names a remote host", hint="write file:///absolute/path")
        from .local import LocalStorage

        return LocalStorage(Path(url2pathname(parts.path)))
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ConfigError(f"storage URL {url} has no bucket", hint="write s3://BUCKET/PREFIX")
        from .cloudfront import CloudFrontUrlSigner
        from .s3 import S3Storage

        cloudfront = None
        domain, key_id, key_path = settings.cloudfront_domain, settings.cloudfront_key_id, settings.cloudfront_private_key_path
        if domain and key_id and key_path:
            cloudfront = CloudFrontUrlSigner.from_file(domain, key_id, key_path)
        elif domain or key_id or key_path:
            raise ConfigError(
                "CloudFront URLs need all three of PERSONACAST_CLOUDFRONT_DOMAIN, _KEY_ID and _PRIVATE_KEY_PATH"
            )
        return S3Storage(
            S3Storage.make_client(settings.s3_region, settings.s3_endpoint_url), parts.netloc,
            unquote(parts.path).strip("/"), presign_expiry_s=settings.presign_expiry_s, cloudfront=cloudfront,
        )
    raise ConfigError(f"unknown storage URL {url!r}", hint="use file:///DIR or s3://BUCKET/PREFIX")
