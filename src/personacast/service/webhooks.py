"""Webhooks: a signed POST to the client's URL when a render succeeds or fails.

Signing: ``X-Personacast-Signature: sha256=<hex>`` is the HMAC-SHA256 of
``"<timestamp>.<body>"`` with the tenant's signing secret, and the timestamp (Unix
seconds) is in ``X-Personacast-Timestamp``; receivers recompute it and reject old
timestamps, so a captured delivery cannot be replayed later. Each tenant's secret is
derived from the server's (``PERSONACAST_WEBHOOK_SECRET``): nothing secret is stored
per tenant, and rotating the server secret rotates them all.

Safety: the service sends requests to addresses its clients choose, so every delivery
resolves the host itself, refuses link-local (cloud metadata at 169.254.169.254 and
friends), multicast, unspecified and reserved addresses always, and private and
loopback ones unless ``webhook_allow_private`` is set, then connects to the address it
checked (a second DNS answer cannot swap in another). Redirects are not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import os
import secrets
import socket
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError, InputError
from ..settings import Settings
from .records import RenderRecord

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Personacast-Signature"
TIMESTAMP_HEADER = "X-Personacast-Timestamp"
EVENT_HEADER = "X-Personacast-Event"
_SECRET_FILE = "webhook-secret"
# Metadata services that are not link-local (AWS's IPv6 one, Alibaba's).
_METADATA = {ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")}


class WebhookRefused(InputError):
    """The URL is not one the service will send to."""


def check_url_syntax(url: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host and no credentials; the
    address itself is checked at delivery (``resolve_allowed``), when DNS is asked."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError("webhook_url is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError("webhook_url must be an http:// or https:// URL")
    if not parts.hostname:
        raise ValueError("webhook_url has no host")
    if parts.username or parts.password:
        raise ValueError("webhook_url must not carry credentials")
    if port == 0:
        raise ValueError("webhook_url has port 0")
    return url


def resolve_allowed(host: str, port: int, *, allow_private: bool) -> str:
    """The first address of ``host`` that a webhook may go to; ``WebhookRefused`` if the
    host resolves to any refused address (all answers are checked: a client must not
    get one through by mixing them)."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise WebhookRefused(f"webhook host '{host}' does not resolve") from None
    addresses = [str(info[4][0]).split("%", 1)[0] for info in answers]
    for text in addresses:
        address = ipaddress.ip_address(text)
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if (address.is_link_local or address in _METADATA or address.is_multicast or address.is_unspecified
                or address.is_reserved):
            raise WebhookRefused(f"webhook host '{host}' resolves to {address}, which webhooks may not reach")
        if (address.is_private or address.is_loopback) and not allow_private:
            raise WebhookRefused(f"webhook host '{host}' is a private address ({address})",
                                 hint="webhooks go to public addresses; a test setup may set PERSONACAST_WEBHOOK_ALLOW_PRIVATE=1")
    return addresses[0]


def master_secret(settings: Settings) -> bytes:
    """The server's webhook secret: the setting, else a random one kept in the data
    folder (one machine; several machines must share the setting)."""
    if settings.webhook_secret is not None:
        return settings.webhook_secret.get_secret_value().encode("utf-8")
    path = settings.data_dir / _SECRET_FILE
    if not path.is_file():
        _write_private(path, secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def tenant_secret(settings: Settings, tenant_id: uuid.UUID) -> str:
    """The key a tenant verifies its webhooks with."""
    return "whsec_" + hmac.new(master_secret(settings), b"webhook:" + tenant_id.bytes, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def event_payload(record: RenderRecord) -> dict[str, Any]:
    """What a webhook says: the render's outcome; artefact URLs come from
    ``GET /v1/renders/{id}`` (signed URLs expire, and webhooks may be logged)."""
    return {
        "id": str(uuid.uuid4()),
        "type": f"render.{record.status.value}",
        "created_at": int(time.time()),
        "data": {
            "id": str(record.id), "status": record.status.value, "error": record.error,
            "batch_id": None if record.batch_id is None else str(record.batch_id), "artefacts": sorted(record.artefacts),
        },
    }


@dataclass(frozen=True)
class Delivery:
    """The outcome of one webhook: how many attempts, the last HTTP status or error."""

    delivered: bool
    attempts: int
    status: int | None
    error: str | None


def deliver(
    url: str, payload: dict[str, Any], secret: str, *, timeout_s: float, attempts: int, allow_private: bool,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """POST ``payload`` until a 2xx answer, with backoff (1 s, 2 s, 4 s, ...) between
    attempts; 4xx answers other than 408 and 429 are final. Never raises."""
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    status: int | None = None
    error: str | None = None
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            sleep(2.0 ** (attempt - 2))
        try:
            status = _post(url, body, secret, str(payload.get("type", "")), timeout_s, allow_private)
            error = None
        except WebhookRefused as exc:
            return Delivery(False, attempt, None, str(exc))
        except (OSError, http.client.HTTPException) as exc:
            status, error = None, f"{exc.__class__.__name__}: {exc}"
        if status is not None and 200 <= status < 300:
            return Delivery(True, attempt, status, None)
        if status is not None and 400 <= status < 500 and status not in (408, 429):
            break
    return Delivery(False, attempt, status, error)


def notify(settings: Settings, record: RenderRecord, tenant_url: str | None = None) -> Delivery | None:
    """Send the finished ``record``'s webhook to its request's URL, else ``tenant_url``;
    None when there is neither. Failures are logged (host only: URLs may carry tokens)."""
    url = record.request.get("webhook_url") or tenant_url
    if not url:
        return None
    result = deliver(
        url, event_payload(record), tenant_secret(settings, record.tenant_id), timeout_s=settings.webhook_timeout_s,
        attempts=settings.webhook_attempts, allow_private=settings.webhook_allow_private,
    )
    host = urlsplit(url).hostname
    if result.delivered:
        log.info("webhook for render %s delivered to %s (attempt %d)", record.id, host, result.attempts)
    else:
        log.warning("webhook for render %s to %s failed after %d attempt(s): %s", record.id, host, result.attempts,
                    result.error or f"HTTP {result.status}")
    return result


def _post(url: str, body: bytes, secret: str, event: str, timeout_s: float, allow_private: bool) -> int:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = resolve_allowed(host, port, allow_private=allow_private)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = _PinnedHTTPSConnection(host, address, port, timeout_s)
    else:
        connection = http.client.HTTPConnection(address, port, timeout=timeout_s)
    timestamp = int(time.time())
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {
        "Host": parts.netloc.rsplit("@", 1)[-1], "Content-Type": "application/json", "User-Agent": "personacast-webhooks",
        TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body), EVENT_HEADER: event,
    }
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65536)  # the answer's body is of no use; read a little so the connection closes cleanly
        return response.status
    finally:
        connection.close()


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an address already checked, with the certificate verified for the URL's host."""

    def __init__(self, host: str, address: str, port: int, timeout_s: float) -> None:
        super().__init__(host, port, timeout=timeout_s, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    try:
        os.link(partial, path)  # first writer wins: two processes starting together agree on one secret
    except FileExistsError:
        pass
    finally:
        partial.unlink(missing_ok=True)
    if not path.read_text(encoding="utf-8").strip():
        raise ConfigError(f"the webhook secret file {path} is empty", hint="delete it or set PERSONACAST_WEBHOOK_SECRET")
