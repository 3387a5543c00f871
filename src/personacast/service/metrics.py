"""Prometheus metrics: what the runner measures, and the queue read from the store.

Counters and histograms live in prometheus_client's default registry, where the
process that runs jobs (the API in embedded mode, a worker otherwise) updates them.
The queue depth is read from the job store at scrape time, so any API process reports
the whole queue.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .records import JobStatus, UsageItem
from .store import JobStore

_STAGE_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)

JOB_SECONDS = Histogram("personacast_job_seconds", "Wall time of one job attempt", buckets=_STAGE_BUCKETS)
STAGE_SECONDS = Histogram("personacast_stage_seconds", "Wall time of a pipeline stage", ["stage"], buckets=_STAGE_BUCKETS)
FAILURES = Counter("personacast_render_failures", "Renders that failed for good, by error class", ["reason"])
RETRIES = Counter("personacast_render_retries", "Attempts given back to the queue, by error class", ["reason"])
COMPUTE_SECONDS = Counter("personacast_compute_seconds", "Compute seconds metered to jobs, by stage", ["stage"])
PROVIDER_USAGE = Counter(
    "personacast_provider_usage", "Billed provider units (TTS characters, ...)", ["provider", "name", "unit"]
)
COST_USD = Counter("personacast_cost_usd", "Known provider cost in US dollars", ["provider"])
HTTP_REQUESTS = Counter("personacast_http_requests", "API requests, by route and status", ["method", "route", "status"])


def count_usage(items: Sequence[UsageItem]) -> None:
    for item in items:
        if item.kind == "compute":
            COMPUTE_SECONDS.labels(stage=item.name).inc(item.quantity)
        else:
            provider = item.provider or "unknown"
            PROVIDER_USAGE.labels(provider=provider, name=item.name, unit=item.unit).inc(item.quantity)
            if item.cost_usd is not None:
                COST_USD.labels(provider=provider).inc(float(item.cost_usd))


class QueueCollector(Collector):
    """``personacast_renders{status}``: how many renders are in each status now."""

    def __init__(self, store: JobStore) -> None:
        self._store = store

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily("personacast_renders", "Renders in each status (queue depth: status=queued)", labels=["status"])
        counts = self._store.status_counts()
        for status in JobStatus:
            family.add_metric([status.value], counts.get(status, 0))
        yield family


def exposition(store: JobStore) -> bytes:
    """The text exposition format: the process's metrics, then the queue."""
    queue = CollectorRegistry(auto_describe=False)
    queue.register(QueueCollector(store))
    return generate_latest(REGISTRY) + generate_latest(queue)
