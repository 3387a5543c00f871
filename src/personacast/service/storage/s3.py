"""S3Storage: artefacts in an S3 bucket (or an S3-compatible store) via boto3."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ...errors import BackendError, NotFoundError, TransientBackendError
from .base import Storage, check_key, content_type
from .cloudfront import CloudFrontUrlSigner

_TRANSIENT_CODES = frozenset(
    {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError", "ServiceUnavailable"}
)


class S3Storage(Storage):
    """Keys live under ``prefix`` in ``bucket``.

    Uploads go straight to the final key: S3 makes an object visible only once its
    PutObject (or, for large files, CompleteMultipartUpload) has succeeded, so readers
    never see part of a file. Uploading to a temporary key and copying it over would
    add a server-side copy of every byte (and copy_object stops at 5 GB) for no gain.
    A failed multipart upload is aborted by boto3; for crashed processes the bucket
    should have a lifecycle rule that aborts incomplete multipart uploads.

    ``url`` signs a CloudFront URL when ``cloudfront`` is given, else presigns S3 GET.
    """

    def __init__(
        self, client: Any, bucket: str, prefix: str = "", *, presign_expiry_s: int = 3600,
        cloudfront: CloudFrontUrlSigner | None = None, transfer: TransferConfig | None = None,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = check_key(prefix) + "/" if prefix.strip("/") else ""
        self.presign_expiry_s = presign_expiry_s
        self.cloudfront = cloudfront
        self.transfer = transfer or TransferConfig()

    @staticmethod
    def make_client(region: str | None, endpoint_url: str | None) -> Any:
        """A boto3 S3 client; credentials come from boto3's usual chain. S3-compatible
        stores behind ``endpoint_url`` get path-style addressing (most lack per-bucket
        host names)."""
        config = Config(signature_version="s3v4", s3={"addressing_style": "path" if endpoint_url else "auto"},
                        retries={"mode": "standard"})
        return boto3.session.Session().client("s3", region_name=region, endpoint_url=endpoint_url, config=config)

    def object_key(self, key: str) -> str:
        """The key in the bucket (with the storage's prefix)."""
        return self.prefix + check_key(key)

    def put_file(self, local_path: Path, key: str) -> None:
        with _errors(f"uploading {key}"):
            self.client.upload_file(
                str(local_path), self.bucket, self.object_key(key),
                ExtraArgs={"ContentType": content_type(local_path)}, Config=self.transfer,
            )

    def get_file(self, key: str, local_path: Path) -> None:
        partial = local_path.with_name(f".{local_path.name}.partial-{uuid.uuid4().hex}")
        try:
            with _errors(f"downloading {key}", missing=key):
                self.client.download_file(self.bucket, self.object_key(key), str(partial), Config=self.transfer)
            os.replace(partial, local_path)
        finally:
            partial.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        try:
            with _errors(f"looking up {key}", missing=key):
                self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except NotFoundError:
            return False
        return True

    def url(self, key: str, *, expires_s: int | None = None) -> str:
        expires = expires_s or self.presign_expiry_s
        if self.cloudfront is not None:
            return self.cloudfront.url(self.object_key(key), datetime.now(timezone.utc) + timedelta(seconds=expires))
        with _errors(f"signing a URL for {key}"):
            return str(self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": self.object_key(key)}, ExpiresIn=expires
            ))

    def delete(self, key: str) -> None:
        with _errors(f"deleting {key}"):
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))

    def delete_prefix(self, prefix: str) -> int:
        folder = self.object_key(prefix) + "/"
        removed = 0
        with _errors(f"deleting {prefix}/"):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=folder):
                keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if keys:  # a page holds at most 1000 keys, delete_objects' limit too
                    answer = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
                    if answer.get("Errors"):
                        raise BackendError(f"storage: could not delete {answer['Errors'][0].get('Key')}: "
                                           f"{answer['Errors'][0].get('Message')}")
                    removed += len(keys)
        return removed


@contextlib.contextmanager
def _errors(action: str, missing: str | None = None) -> Iterator[None]:
    """Turns boto3's errors into personacast's: throttling, 5xx and connection problems
    are transient; a missing object (when ``missing`` names it) is NotFoundError."""
    try:
        yield
    except (ClientError, BotoCoreError, S3UploadFailedError) as exc:
        # upload_file wraps the service's answer in S3UploadFailedError.
        cause = (exc.__cause__ or exc.__context__) if isinstance(exc, S3UploadFailedError) else exc
        if not isinstance(cause, ClientError):
            raise TransientBackendError(f"storage: {action} failed: {exc}") from exc
        code = str(cause.response.get("Error", {}).get("Code", ""))
        status = int(cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if missing is not None and (status == 404 or code in ("404", "NoSuchKey", "NotFound")):
            raise NotFoundError(f"no stored file at '{missing}'") from None
        error = TransientBackendError if status >= 500 or code in _TRANSIENT_CODES else BackendError
        raise error(f"storage: {action} failed: {code or status}: {cause}") from exc
