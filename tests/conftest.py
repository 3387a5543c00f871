import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture
def settings(tmp_path):
    from personacast.settings import Settings

    return Settings(data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def portrait() -> Path:
    from personacast.samples import sample_image

    return sample_image("astronaut")


@pytest.fixture(scope="session")
def no_face_image(tmp_path_factory) -> Path:
    """A smooth gradient with shapes: an image, but nobody in it."""
    y, x = np.mgrid[0:480, 0:360]
    rgb = np.dstack([(x * 255 / 360), (y * 255 / 480), np.full_like(x, 90)]).astype(np.uint8)
    rgb[100:200, 100:250] = (30, 160, 40)
    path = tmp_path_factory.mktemp("img") / "landscape.png"
    Image.fromarray(rgb).save(path)
    return path


@pytest.fixture(scope="session")
def corrupt_image(tmp_path_factory, portrait) -> Path:
    data = portrait.read_bytes()
    path = tmp_path_factory.mktemp("img") / "broken.png"
    path.write_bytes(data[: len(data) // 3])
    return path


@pytest.fixture(scope="session")
def voice_engine():
    from personacast.settings import Settings
    from personacast.stages.voice.piper import PiperVoiceEngine

    return PiperVoiceEngine(Settings())


@pytest.fixture(scope="session")
def face_detector():
    from personacast.face.landmarks import FaceMeshDetector

    detector = FaceMeshDetector()
    yield detector
    detector.close()


@pytest.fixture(scope="session")
def c2pa_signing(tmp_path_factory) -> tuple[Path, Path]:
    """(certificate chain, private key) PEM files that c2pa accepts: an ES256 end-entity
    certificate (digitalSignature, emailProtection, authority key id) and its own CA."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def usage(sign: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=sign, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=not sign, crl_sign=not sign, encipher_only=False, decipher_only=False,
        )

    def certificate(subject: str, key, issuer: str, issuer_key, ca: bool) -> x509.Certificate:
        now = datetime.datetime.now(datetime.timezone.utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
            .add_extension(usage(sign=not ca), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        if not ca:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
            ).add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate("personacast test CA", ca_key, "personacast test CA", ca_key, ca=True)
    signer = certificate("personacast test signer", key, "personacast test CA", ca_key, ca=False)
    folder = tmp_path_factory.mktemp("c2pa")
    chain, private = folder / "chain.pem", folder / "signer.key"
    chain.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (signer, ca)))
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return chain, private
