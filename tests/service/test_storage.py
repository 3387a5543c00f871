"""Storage backends: a local folder, and S3 on a moto server process."""

from __future__ import annotations

import base64
import json
import shutil
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from boto3.s3.transfer import TransferConfig
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from personacast.errors import ConfigError, InputError, NotFoundError
from personacast.service.storage import open_storage
from personacast.service.storage.local import LocalStorage
from personacast.settings import Settings

MB = 1024 * 1024
ARTEFACTS = {"out.json": b"{}", "out.srt": b"1\n", "out.vtt": b"WEBVTT\n", "out.jpg": b"\xff\xd8jpeg", "out.txt": b"post"}


@pytest.fixture
def s3_settings(moto_endpoint, s3_bucket, tmp_path) -> Settings:
    return Settings(
        data_dir=tmp_path, storage_url=f"s3://{s3_bucket}/{uuid.uuid4().hex[:8]}/artefacts", s3_endpoint_url=moto_endpoint,
        s3_region="us-east-1", presign_expiry_s=900,
    )


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return open_storage(Settings(data_dir=tmp_path / "data"))
    storage = open_storage(request.getfixturevalue("s3_settings"))
    # 5 MB parts (S3's smallest) so that a test file of a few MB is a real multipart upload.
    storage.transfer = TransferConfig(multipart_threshold=5 * MB, multipart_chunksize=5 * MB, max_concurrency=2)
    return storage


@pytest.fixture
def render_folder(tmp_path) -> Path:
    folder = tmp_path / "render"
    folder.mkdir()
    for name, data in ARTEFACTS.items():
        (folder / name).write_bytes(data)
    (folder / "out.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 50)
    (folder / ".out.partial.mp4").write_bytes(b"not finished")
    return folder


def _big_file(path: Path, size: int) -> Path:
    path.write_bytes(bytes(range(256)) * (size // 256))
    return path


def _temporary_leftovers(storage) -> list[str]:
    """Anything a failed upload could leave: partial files, or unfinished multipart uploads."""
    if isinstance(storage, LocalStorage):
        return [p.name for p in storage.root.rglob("*") if ".partial-" in p.name] if storage.root.exists() else []
    uploads = storage.client.list_multipart_uploads(Bucket=storage.bucket, Prefix=storage.prefix).get("Uploads", [])
    return [upload["Key"] for upload in uploads]


def _all_keys(storage) -> list[str]:
    if isinstance(storage, LocalStorage):
        root = storage.root
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.exists() else []
    answer = storage.client.list_objects_v2(Bucket=storage.bucket, Prefix=storage.prefix)
    return sorted(item["Key"].removeprefix(storage.prefix) for item in answer.get("Contents", []))


def test_put_get_url_exists_delete(storage, tmp_path):
    source = tmp_path / "portrait.jpg"
    source.write_bytes(b"portrait bytes")
    assert not storage.exists("tenants/t1/portrait.jpg")
    storage.put_file(source, "tenants/t1/portrait.jpg")
    assert storage.exists("tenants/t1/portrait.jpg")

    copy = tmp_path / "copy.jpg"
    storage.get_file("tenants/t1/portrait.jpg", copy)
    assert copy.read_bytes() == b"portrait bytes"
    # A presigned S3 URL (or a file URL) fetches the bytes with nothing but plain HTTP.
    with urllib.request.urlopen(storage.url("tenants/t1/portrait.jpg")) as answer:
        assert answer.read() == b"portrait bytes"

    storage.delete("tenants/t1/portrait.jpg")
    storage.delete("tenants/t1/portrait.jpg")  # gone already: no error
    assert not storage.exists("tenants/t1/portrait.jpg")
    with pytest.raises(NotFoundError):
        storage.get_file("tenants/t1/portrait.jpg", copy)
    assert not list(tmp_path.glob(".copy.jpg.partial-*"))


def test_publish_render_puts_the_video_last(storage, render_folder, monkeypatch):
    order = []
    put_file = storage.put_file

    def recording_put(path, key):
        order.append(key)
        put_file(path, key)

    monkeypatch.setattr(storage, "put_file", recording_put)
    published = storage.publish_render(render_folder, "tenants/t1/renders/r1")
    assert order[-1] == "tenants/t1/renders/r1/out.mp4" and len(order) == 6  # the hidden partial file is left out
    assert list(published) == [key.rsplit("/", 1)[1] for key in order]
    assert published["out.json"] == "tenants/t1/renders/r1/out.json"
    for name, key in published.items():
        with urllib.request.urlopen(storage.url(key)) as answer:
            assert answer.read() == (render_folder / name).read_bytes()

    also = storage.publish_render([render_folder / "out.txt"], "tenants/t1/renders/r2")
    assert also == {"out.txt": "tenants/t1/renders/r2/out.txt"}
    assert storage.delete_prefix("tenants/t1/renders/r1") == 6
    assert _all_keys(storage) == ["tenants/t1/renders/r2/out.txt"]
    assert storage.delete_prefix("tenants/t1/renders/none") == 0


def test_no_final_key_is_visible_while_a_file_uploads(storage, tmp_path, monkeypatch):
    video = _big_file(tmp_path / "big.mp4", 11 * MB)
    seen_during_upload = []
    if isinstance(storage, LocalStorage):
        copy = shutil.copyfile

        def watching_copy(source, target):
            copy(source, target)
            seen_during_upload.append(storage.exists("r/big.mp4"))
            return target

        monkeypatch.setattr("personacast.service.storage.local.shutil.copyfile", watching_copy)
    else:
        upload = storage.client.upload_file

        def watching_upload(*args, **kwargs):
            kwargs["Callback"] = lambda _bytes: seen_during_upload.append(storage.exists("r/big.mp4"))
            return upload(*args, **kwargs)

        monkeypatch.setattr(storage.client, "upload_file", watching_upload)
    storage.put_file(video, "r/big.mp4")
    assert seen_during_upload and not any(seen_during_upload)
    assert storage.exists("r/big.mp4") and _temporary_leftovers(storage) == []


def test_a_failure_mid_publish_leaves_nothing(storage, render_folder, monkeypatch):
    _big_file(render_folder / "out.mp4", 11 * MB)
    if isinstance(storage, LocalStorage):
        copy = shutil.copyfile

        def failing_copy(source, target):
            if str(source).endswith(".mp4"):
                Path(target).write_bytes(Path(source).read_bytes()[: 3 * MB])
                raise OSError(28, "No space left on device")
            return copy(source, target)

        monkeypatch.setattr("personacast.service.storage.local.shutil.copyfile", failing_copy)
        expected: type[Exception] = OSError
    else:
        upload = storage.client.upload_file
        sent = []

        def failing_upload(*args, **kwargs):
            if str(args[0]).endswith(".mp4"):
                def drop_connection(count):
                    sent.append(count)
                    if sum(sent) > 6 * MB:  # the first part is through, the second is not
                        raise ConnectionResetError("connection reset mid-upload")
                kwargs["Callback"] = drop_connection
            return upload(*args, **kwargs)

        monkeypatch.setattr(storage.client, "upload_file", failing_upload)
        expected = ConnectionResetError
    with pytest.raises(expected):
        storage.publish_render(render_folder, "tenants/t1/renders/r1")
    assert _all_keys(storage) == []
    deadline = time.monotonic() + 5  # boto3 aborts the multipart upload as the error propagates
    while _temporary_leftovers(storage) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _temporary_leftovers(storage) == []


def test_unsafe_keys_are_refused(storage, tmp_path):
    source = tmp_path / "f"
    source.write_bytes(b"x")
    for key in ("", "/etc/passwd", "../outside", "a/../../b", "a//b", "a\\b", "a/./b", "bad\nkey"):
        with pytest.raises(InputError):
            storage.put_file(source, key)
    assert _all_keys(storage) == []


def test_s3_objects_live_under_the_prefix_with_their_content_type(s3_settings, render_folder):
    storage = open_storage(s3_settings)
    storage.publish_render(render_folder, "r1")
    assert storage.prefix.endswith("/artefacts/")
    head = storage.client.head_object(Bucket=storage.bucket, Key=f"{storage.prefix}r1/out.mp4")
    assert head["ContentType"] == "video/mp4"
    assert storage.client.head_object(Bucket=storage.bucket, Key=f"{storage.prefix}r1/out.vtt")["ContentType"] == "text/vtt"
    query = parse_qs(urlsplit(storage.url("r1/out.mp4")).query)
    assert query["X-Amz-Expires"] == ["900"]
    assert parse_qs(urlsplit(storage.url("r1/out.mp4", expires_s=60)).query)["X-Amz-Expires"] == ["60"]


def _write_key(path: Path, key) -> Path:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.write_bytes(pem)
    return path


def test_cloudfront_url_is_signed_with_the_key_group_key(s3_settings, tmp_path):
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings = s3_settings.model_copy(update={
        "cloudfront_domain": "d111111abcdef8.cloudfront.net", "cloudfront_key_id": "K2JCJMDEHXQW5F",
        "cloudfront_private_key_path": _write_key(tmp_path / "cf.pem", private_key),
    })
    before = int(time.time())
    storage = open_storage(settings)
    url = storage.url("renders/r 1/out.mp4")
    parts = urlsplit(url)
    resource = f"{parts.scheme}://{parts.netloc}{parts.path}"
    assert resource == f"https://d111111abcdef8.cloudfront.net/{storage.prefix}renders/r%201/out.mp4"
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    assert set(query) == {"Expires", "Signature", "Key-Pair-Id"} and query["Key-Pair-Id"] == "K2JCJMDEHXQW5F"
    expires = int(query["Expires"])
    assert before + 900 <= expires <= int(time.time()) + 901

    # CloudFront's canned policy, rebuilt here, is what the signature covers.
    policy = json.dumps(
        {"Statement": [{"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}]},
        separators=(",", ":"),
    ).encode()
    signature = base64.b64decode(query["Signature"].replace("-", "+").replace("_", "=").replace("~", "/"))
    private_key.public_key().verify(signature, policy, padding.PKCS1v15(), hashes.SHA1())


def test_cloudfront_settings_are_checked(s3_settings, tmp_path):
    with pytest.raises(ConfigError, match="all three"):
        open_storage(s3_settings.model_copy(update={"cloudfront_domain": "d.cloudfront.net"}))
    ec_key = _write_key(tmp_path / "ec.pem", ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(ConfigError, match="RSA"):
        open_storage(s3_settings.model_copy(update={
            "cloudfront_domain": "d.cloudfront.net", "cloudfront_key_id": "K1", "cloudfront_private_key_path": ec_key,
        }))


def test_storage_url_picks_the_backend(tmp_path):
    local = open_storage(Settings(data_dir=tmp_path))
    assert isinstance(local, LocalStorage) and local.root == tmp_path / "artefacts"
    assert open_storage(Settings(storage_url=(tmp_path / "x").as_uri())).root == tmp_path / "x"
    served = LocalStorage(tmp_path, base_url="https://api.example/files")
    assert served.url("r1/out 1.mp4") == "https://api.example/files/r1/out%201.mp4"
    for bad in ("ftp://host/x", "file://otherhost/x", "s3:///prefix"):
        with pytest.raises(ConfigError):
            open_storage(Settings(storage_url=bad))


def test_s3_errors_become_personacast_errors(s3_settings, tmp_path):
    from botocore.exceptions import ClientError

    from personacast.errors import BackendError, TransientBackendError
    from personacast.service.storage.s3 import _errors

    source = tmp_path / "f"
    source.write_bytes(b"x")
    missing_bucket = open_storage(s3_settings.model_copy(update={"storage_url": "s3://no-such-bucket-here/p"}))
    with pytest.raises(BackendError) as raised:
        missing_bucket.put_file(source, "k")
    assert raised.value.permanent and "NoSuchBucket" in str(raised.value)

    def answer(status: int, code: str) -> ClientError:
        return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutObject")

    for status, code in ((503, "SlowDown"), (500, "InternalError"), (400, "RequestTimeout")):
        with pytest.raises(TransientBackendError), _errors("uploading k"):
            raise answer(status, code)
    with pytest.raises(NotFoundError), _errors("downloading k", missing="k"):
        raise answer(404, "NoSuchKey")
