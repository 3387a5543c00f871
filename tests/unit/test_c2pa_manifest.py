"""C2PA Content Credentials: signed into the MP4, read back with c2pa's own Reader."""

import json
import sys

import av
import numpy as np
import pytest

from personacast import __version__
from personacast.errors import ConfigError, MissingDependencyError
from personacast.media.probe import probe
from personacast.models import Character, RenderSpec, Script
from personacast.pipeline import RenderJob, render
from personacast.settings import Settings
from personacast.stages.compose.c2pa_manifest import (
    RENDER_ASSERTION,
    TRAINED_ALGORITHMIC_MEDIA,
    load_credentials,
    sign_video,
)



@pytest.fixture
def clip(tmp_path):
    """Ten frames of H.264 in a faststart MP4."""
    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i * 20, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def signing_settings(tmp_path, cert, key) -> Settings:
    return Settings(data_dir=tmp_path / "data", c2pa_cert_path=cert, c2pa_key_path=key)


def test_without_certificate_nothing_is_signed(tmp_path):
    assert load_credentials(Settings(data_dir=tmp_path)) is None


def test_signed_video_carries_the_manifest_and_still_plays(tmp_path, clip, c2pa_signing):
    credentials = load_credentials(signing_settings(tmp_path, *c2pa_signing))
    assert credentials is not None and credentials.algorithm == "es256" and credentials.tsa_url is None
    before = probe(clip)

    sign_video(clip, credentials, "clip.mp4", "Sofia", "piper")

    import c2pa

    with clip.open("rb") as fh, c2pa.Reader("video/mp4", fh) as reader:
        store = json.loads(reader.json())
    manifest = store["manifests"][store["active_manifest"]]
    assert manifest["claim_generator_info"][0]["name"] == "personacast"
    assert manifest["claim_generator_info"][0]["version"] == __version__
    assertions = {a["label"]: a["data"] for a in manifest["assertions"]}
    actions = next(data["actions"] for label, data in assertions.items() if label.startswith("c2pa.actions"))
    assert [(a["action"], a["digitalSourceType"]) for a in actions] == [("c2pa.created", TRAINED_ALGORITHMIC_MEDIA)]
    assert assertions[RENDER_ASSERTION] == {"character": "Sofia", "voice_engine": "piper"}
    # The test CA is in nobody's trust list; everything else must validate.
    failures = {s["code"] for s in store["validation_results"]["activeManifest"]["failure"]}
    assert failures <= {"signingCredential.untrusted"}

    after = probe(clip)
    assert (after.width, after.height, after.frame_count, after.faststart) == (before.width, before.height, 10, True)
    with av.open(str(clip)) as container:
        assert len(list(container.decode(video=0))) == 10
    assert [p.name for p in clip.parent.iterdir()] == ["clip.mp4"]


def test_the_check_never_contacts_the_timestamp_authority(tmp_path, c2pa_signing):
    """Port 9 (discard) on localhost: a check that tried to reach it would fail."""
    settings = signing_settings(tmp_path, *c2pa_signing).model_copy(update={"c2pa_tsa_url": "http://127.0.0.1:9/tsa"})
    assert load_credentials(settings).tsa_url == "http://127.0.0.1:9/tsa"


def test_signing_needs_the_cert_and_the_key(tmp_path, c2pa_signing):
    cert, _ = c2pa_signing
    with pytest.raises(ConfigError, match="both"):
        load_credentials(signing_settings(tmp_path, cert, None))


def test_unusable_credentials_are_named(tmp_path, c2pa_signing):
    cert, key = c2pa_signing
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(ConfigError, match="garbage.pem is not a PEM certificate chain"):
        load_credentials(signing_settings(tmp_path, garbage, key))
    with pytest.raises(ConfigError, match="garbage.pem is not an unencrypted PEM private key"):
        load_credentials(signing_settings(tmp_path, cert, garbage))
    with pytest.raises(ConfigError, match="missing.key"):
        load_credentials(signing_settings(tmp_path, cert, tmp_path / "missing.key"))


def test_a_key_of_another_certificate_is_refused(tmp_path, c2pa_signing):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    other = tmp_path / "other.key"
    other.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(ConfigError, match="other.key is not the private key"):
        load_credentials(signing_settings(tmp_path, c2pa_signing[0], other))


def test_a_certificate_c2pa_refuses_fails_at_check_time(tmp_path):
    """A self-signed certificate parses and matches its key, but C2PA does not accept it."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "self")])
    now = datetime.datetime.now(datetime.timezone.utc)
    self_signed = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "self.pem", tmp_path / "self.key"
    cert_path.write_bytes(self_signed.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(ConfigError, match="c2pa refuses the certificate .*self.pem"):
        load_credentials(signing_settings(tmp_path, cert_path, key_path))


def test_bad_credentials_stop_the_render_before_any_work(tmp_path, portrait):
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    settings = signing_settings(tmp_path, garbage, garbage)
    job = RenderJob(Character(name="T", images=[portrait]), Script.from_text("Hello there."), RenderSpec(), tmp_path / "out" / "v.mp4")
    with pytest.raises(ConfigError, match="garbage.pem"):
        render(job, settings)
    assert not (tmp_path / "out").exists() and not (tmp_path / "data" / "cache").exists()


def test_missing_package_says_which_extra(tmp_path, c2pa_signing, monkeypatch):
    monkeypatch.setitem(sys.modules, "c2pa", None)
    with pytest.raises(MissingDependencyError, match=r"personacast\[c2pa\]"):
        load_credentials(signing_settings(tmp_path, *c2pa_signing))


def test_a_failed_signature_leaves_the_video_as_it_was(tmp_path, clip, c2pa_signing):
    from dataclasses import replace

    from personacast.errors import BackendError

    credentials = replace(load_credentials(signing_settings(tmp_path, *c2pa_signing)), tsa_url="http://127.0.0.1:9/tsa")
    before = clip.read_bytes()
    with pytest.raises(BackendError, match="C2PA signing of clip.mp4 failed"):
        sign_video(clip, credentials, "clip.mp4", "Sofia", "piper")
    assert clip.read_bytes() == before and [p.name for p in clip.parent.iterdir()] == ["clip.mp4"]
