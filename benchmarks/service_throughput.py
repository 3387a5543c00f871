"""The service on one machine: renders per hour, render latency, and API latency under
50 concurrent status polls. A measurement, not a test.

    python benchmarks/service_throughput.py                       # 12 renders, 2 workers
    python benchmarks/service_throughput.py --renders 24 --workers 4 --json

It starts every piece itself, as the deployment would run them: a private redis-server on
a free port, a throwaway PostgreSQL database (on --postgres; dropped afterwards),
``personacast serve`` (Celery mode), W x ``personacast worker --concurrency 1`` and
``personacast reconcile``, with artefacts in a temporary folder.

1. Warm-up: one render per worker (its pool process imports the pipeline); not counted.
2. Throughput: N renders submitted at once (POST /v1/renders, multipart: the sample
   portrait and a text); renders/hour over first submit -> last finish, and the latency
   of each render from submit to succeeded (queueing included) and of the render alone,
   both from the server's own timestamps.
3. API latency: 50 threads poll GET /v1/renders/{id}, each once a second (clients
   watching their renders), first while W more renders keep every worker busy, then with
   the workers idle; then back to back, which measures the API's capacity (requests/s).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx

PERSONACAST = Path(sys.executable).with_name("personacast")
TEXT = ("Good morning! Here is the one thing I wish I had known when I started: "
        "small habits beat big plans. Try it for a week and tell me how it went.")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class Processes:
    """Subprocesses in their own process groups, logging to FOLDER/NAME.log; all
    stopped (SIGTERM, then SIGKILL) on close."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env = folder, env
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *command: str) -> subprocess.Popen:
        with (self.folder / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.running[name] = process
        return process

    def check(self) -> None:
        for name, process in self.running.items():
            if process.poll() is not None:
                tail = (self.folder / f"{name}.log").read_text(errors="replace")[-3000:]
                raise SystemExit(f"{name} exited with {process.returncode}:\n{tail}")

    def close(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.running.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    import sqlalchemy

    from personacast.service.db import database_url

    admin = database_url(admin_url)
    engine = sqlalchemy.create_engine(admin, isolation_level="AUTOCOMMIT")
    name = f"personacast_bench_{uuid.uuid4().hex[:10]}"
    with engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


def wait_until(predicate, timeout_s: float, what: str, processes: Processes) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        processes.check()
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


class Api:
    def __init__(self, base_url: str, key: str, args: argparse.Namespace) -> None:
        self.client = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60)
        self.base_url, self.key, self.args = base_url, key, args
        from personacast.samples import sample_image

        self.portrait = sample_image("astronaut").read_bytes()

    def submit(self, count: int) -> list[str]:
        ids = []
        for _ in range(count):
            response = self.client.post(
                "/v1/renders", files={"image": ("portrait.png", self.portrait, "image/png")},
                data={"text": self.args.text, "format": self.args.format, "voice": self.args.voice,
                      "quality": self.args.quality},
            )
            response.raise_for_status()
            ids.append(response.json()["id"])
        return ids

    def wait_finished(self, ids: list[str], processes: Processes, timeout_s: float) -> list[dict]:
        pending, done = set(ids), {}
        deadline = time.monotonic() + timeout_s
        while pending:
            processes.check()
            if time.monotonic() > deadline:
                raise SystemExit(f"{len(pending)} render(s) did not finish in {timeout_s:g} s")
            for render_id in list(pending):
                body = self.client.get(f"/v1/renders/{render_id}").json()
                if body["status"] in ("succeeded", "failed", "canceled"):
                    done[render_id] = body
                    pending.discard(render_id)
            time.sleep(0.5)
        failed = [body for body in done.values() if body["status"] != "succeeded"]
        if failed:
            raise SystemExit(f"{len(failed)} render(s) did not succeed, e.g. {failed[0]['status']}: {failed[0]['error']}")
        return [done[render_id] for render_id in ids]

    def poll_storm(self, ids: list[str], threads: int, seconds: float, interval_s: float = 0.0) -> dict[str, float]:
        """``threads`` clients polling status for ``seconds``, each once per
        ``interval_s`` (0: back to back, which measures the API's capacity)."""
        latencies: list[list[float]] = [[] for _ in range(threads)]
        errors = [0] * threads
        stop = threading.Event()

        def poll(index: int) -> None:
            with httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self.key}"}, timeout=30) as client:
                turn = index
                # Spread the first requests over one interval, as independent clients would.
                stop.wait(interval_s * index / threads)
                while not stop.is_set():
                    started = time.perf_counter()
                    response = client.get(f"/v1/renders/{ids[turn % len(ids)]}")
                    elapsed = time.perf_counter() - started
                    latencies[index].append(elapsed)
                    errors[index] += response.status_code != 200
                    turn += 1
                    stop.wait(max(0.0, interval_s - elapsed))

        workers = [threading.Thread(target=poll, args=(index,)) for index in range(threads)]
        for worker in workers:
            worker.start()
        time.sleep(seconds)
        stop.set()
        for worker in workers:
            worker.join()
        flat = [value * 1000 for values in latencies for value in values]
        return {
            "requests": len(flat), "requests_per_s": len(flat) / seconds, "errors": sum(errors),
            "p50_ms": percentile(flat, 0.50), "p95_ms": percentile(flat, 0.95), "p99_ms": percentile(flat, 0.99),
        }


def seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def measure(args: argparse.Namespace, folder: Path, database_url: str) -> dict:
    redis_port, api_port = free_port(), free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("PERSONACAST_")}
    env |= {
        "PERSONACAST_DATA_DIR": str(folder / "data"), "PERSONACAST_DATABASE_URL": database_url,
        "PERSONACAST_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "PERSONACAST_STORAGE_URL": (folder / "artefacts").as_uri(),
        # Renders share the machine: one TTS thread each (README). Every script is new in
        # production, so nothing comes from the stage cache.
        "PERSONACAST_TTS_THREADS": "1", "PERSONACAST_USE_CACHE": "false",
        # Measure latency, not the rate limiter.
        "PERSONACAST_RATE_LIMIT_PER_MINUTE": "100000000", "PERSONACAST_RATE_LIMIT_BURST": "1000000",
    }
    processes = Processes(folder, env)
    try:
        processes.start("redis", "redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "no", "--dir", str(folder))
        subprocess.run([str(PERSONACAST), "db", "upgrade"], env=env, check=True, capture_output=True)
        keys = subprocess.run([str(PERSONACAST), "keys", "create", "--tenant", "bench"], env=env, check=True,
                              capture_output=True, text=True)
        key = keys.stdout.strip().splitlines()[-1]
        processes.start("api", str(PERSONACAST), "serve", "--host", "127.0.0.1", "--port", str(api_port),
                        "--log-level", "warning")
        for index in range(args.workers):
            processes.start(f"worker{index}", str(PERSONACAST), "worker", "--concurrency=1", "--loglevel=WARNING")
        processes.start("reconciler", str(PERSONACAST), "reconcile")
        base_url = f"http://127.0.0.1:{api_port}"

        def api_up() -> bool:
            try:
                return httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(api_up, 60, "the API", processes)
        api = Api(base_url, key, args)

        print(f"warm-up: {args.workers} render(s)", file=sys.stderr)
        api.wait_finished(api.submit(args.workers), processes, timeout_s=600)

        print(f"throughput: {args.renders} renders on {args.workers} worker(s)", file=sys.stderr)
        submitted = time.perf_counter()
        ids = api.submit(args.renders)
        submit_s = time.perf_counter() - submitted
        done = api.wait_finished(ids, processes, timeout_s=args.timeout)
        first = min(body["created_at"] for body in done)
        last = max(body["finished_at"] for body in done)
        wall_s = seconds_between(first, last)
        latency = [seconds_between(body["created_at"], body["finished_at"]) for body in done]
        render = [seconds_between(body["started_at"], body["finished_at"]) for body in done]

        print(f"API: {args.pollers} concurrent pollers, busy then idle workers", file=sys.stderr)
        busy_ids = api.submit(args.workers)
        busy = api.poll_storm(ids, args.pollers, args.poll_seconds, args.poll_interval)
        api.wait_finished(busy_ids, processes, timeout_s=600)
        idle = api.poll_storm(ids, args.pollers, args.poll_seconds, args.poll_interval)
        saturated = api.poll_storm(ids, args.pollers, args.poll_seconds)
    finally:
        processes.close()
    return {
        "renders": args.renders, "workers": args.workers, "cores": os.cpu_count(),
        "format": args.format, "quality": args.quality, "voice": args.voice,
        "video_s": round(json_duration(folder, ids[0]), 2),
        "renders_per_hour": round(args.renders / wall_s * 3600, 1), "wall_s": round(wall_s, 1),
        "submit_ms_each": round(submit_s / args.renders * 1000, 1),
        "latency_p50_s": round(percentile(latency, 0.50), 1), "latency_p95_s": round(percentile(latency, 0.95), 1),
        "render_only_p50_s": round(percentile(render, 0.50), 1), "render_only_p95_s": round(percentile(render, 0.95), 1),
        "poll_interval_s": args.poll_interval,
        "api_busy": {name: round(value, 1) for name, value in busy.items()},
        "api_idle": {name: round(value, 1) for name, value in idle.items()},
        "api_back_to_back": {name: round(value, 1) for name, value in saturated.items()},
    }


def json_duration(folder: Path, render_id: str) -> float:
    """The rendered video's length, from the JSON beside it."""
    [meta] = (folder / "artefacts" / "renders" / render_id).glob("*.json")
    return float(json.loads(meta.read_text())["output"]["duration_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=12, help="renders in the throughput batch")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (one render at a time each)")
    parser.add_argument("--pollers", type=int, default=50, help="concurrent status pollers")
    parser.add_argument("--poll-seconds", type=float, default=10.0, help="length of each polling phase")
    parser.add_argument("--poll-interval", type=float, default=1.0, help="seconds between one poller's requests")
    parser.add_argument("--text", default=TEXT)
    parser.add_argument("--format", default="tiktok")
    parser.add_argument("--quality", default="final")
    parser.add_argument("--voice", default="sofia")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds the batch may take")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="a PostgreSQL server (any database on it) to create the throwaway database on")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not on PATH (bash scripts/ensure-services.sh installs it)")
    folder = Path(tempfile.mkdtemp(prefix="personacast-bench-"))
    try:
        with postgres_database(args.postgres) as database_url:
            figures = measure(args, folder, database_url)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{figures['renders']} renders ({figures['format']}, {figures['quality']}, voice {figures['voice']}, "
          f"{figures['video_s']} s of video each), {figures['workers']} workers, {figures['cores']} cores")
    print(f"  throughput       {figures['renders_per_hour']} renders/hour ({figures['wall_s']} s for the batch)")
    print(f"  submit -> done   p50 {figures['latency_p50_s']} s, p95 {figures['latency_p95_s']} s")
    print(f"  render alone     p50 {figures['render_only_p50_s']} s, p95 {figures['render_only_p95_s']} s")
    print(f"  POST /v1/renders {figures['submit_ms_each']} ms each (sequential, upload included)")
    every = f"each every {args.poll_interval:g} s"
    for label, phase in ((f"{every}, workers busy", figures["api_busy"]), (f"{every}, workers idle", figures["api_idle"]),
                         ("back to back, workers idle", figures["api_back_to_back"])):
        print(f"  GET status, {args.pollers} pollers {label}: p50 {phase['p50_ms']} ms, p95 {phase['p95_ms']} ms, "
              f"p99 {phase['p99_ms']} ms, {phase['requests_per_s']} req/s, {int(phase['errors'])} errors")


if __name__ == "__main__":
    main()
