"""The tenant's own settings and usage: /v1/usage, /v1/webhook."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, Query

from ...errors import InputError
from .. import webhooks
from .deps import ServiceDep, TenantDep
from .schemas import ERRORS, UsageOut, UsageRowOut, WebhookOut, WebhookSettings

router = APIRouter(prefix="/v1", tags=["account"])

MAX_USAGE_DAYS = 366


@router.get("/usage", response_model=UsageOut, responses=ERRORS,
            summary="Compute seconds per stage and provider usage (TTS characters, ...) per UTC day")
def get_usage(
    parts: ServiceDep, tenant: TenantDep,
    from_day: Annotated[date | None, Query(alias="from", description="first UTC day (default: 30 days ago)")] = None,
    to_day: Annotated[date | None, Query(alias="to", description="last UTC day, inclusive (default: today)")] = None,
) -> UsageOut:
    last = to_day or datetime.now(timezone.utc).date()
    first = from_day or last - timedelta(days=29)
    if first > last:
        raise InputError("'from' is after 'to'")
    if (last - first).days >= MAX_USAGE_DAYS:
        raise InputError(f"ask for at most {MAX_USAGE_DAYS} days at a time")
    rows = parts.store.usage_summary(tenant.id, first, last)
    return UsageOut(
        from_day=first, to_day=last,
        rows=[UsageRowOut(day=r.day, kind=r.kind, name=r.name, unit=r.unit, provider=r.provider, quantity=r.quantity,
                          cost_usd=str(r.cost_usd), unpriced_items=r.unpriced_items, jobs=r.jobs) for r in rows],
    )


@router.get("/webhook", response_model=WebhookOut, responses=ERRORS,
            summary="The tenant's webhook URL and the secret its webhooks are signed with")
def get_webhook(parts: ServiceDep, tenant: TenantDep) -> WebhookOut:
    return WebhookOut(url=tenant.webhook_url, signing_secret=webhooks.tenant_secret(parts.settings, tenant.id))


@router.put("/webhook", response_model=WebhookOut, responses=ERRORS,
            summary="Set (or, with null, clear) the webhook URL for renders that name none")
def put_webhook(body: WebhookSettings, parts: ServiceDep, tenant: TenantDep) -> WebhookOut:
    url = None
    if body.url is not None:
        try:
            url = webhooks.check_url_syntax(body.url)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    updated = parts.store.set_tenant_webhook(tenant.id, url)
    return WebhookOut(url=updated.webhook_url, signing_secret=webhooks.tenant_secret(parts.settings, tenant.id))
