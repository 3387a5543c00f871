"""API keys: ``pc_<prefix>_<secret>``.

The prefix (12 hex digits) is stored in clear and finds the key's row; only the SHA-256
of the whole key is stored beside it. A plain hash is enough because the secret is 256
random bits: there is nothing to brute-force, unlike a password, so a slow hash would
only slow every request down.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

_SCHEME = "pc"
_PREFIX_HEX = 12
# Compared against when a prefix is unknown, so a miss costs the same as a wrong secret.
_NO_MATCH = "0" * 64


@dataclass(frozen=True)
class KeyMaterial:
    plaintext: str
    prefix: str
    digest: str


def generate_key() -> KeyMaterial:
    prefix = secrets.token_hex(_PREFIX_HEX // 2)
    plaintext = f"{_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    return KeyMaterial(plaintext, prefix, key_digest(plaintext))


def key_digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def key_prefix(plaintext: str) -> str | None:
    """The lookup prefix of a well-formed key, None for anything else."""
    parts = plaintext.split("_", 2)  # the url-safe secret may itself contain "_"
    if len(parts) != 3 or parts[0] != _SCHEME or len(parts[1]) != _PREFIX_HEX or not parts[2]:
        return None
    try:
        int(parts[1], 16)
    except ValueError:
        return None
    return parts[1]


def digest_matches(plaintext: str, stored_digest: str | None) -> bool:
    """Constant-time comparison; ``stored_digest`` None (no such prefix) never matches."""
    same = hmac.compare_digest(key_digest(plaintext), stored_digest or _NO_MATCH)
    return same and stored_digest is not None
