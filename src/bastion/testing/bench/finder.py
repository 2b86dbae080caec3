"""A burst of residents on the public site finder, for `bastion bench`: `clients` separate
processes each keep one HTTP/1.1 connection alive and GET the given paths in turn for
`seconds`; the answer counts every request and its status, and gives requests per second
and the 50th and 95th percentile latencies.

Processes (not threads) so that the clients do not share one interpreter lock with each
other; spawned, not forked, so they carry nothing of the caller (a Django test process with
its database connections). Only the standard library runs in them."""

from __future__ import annotations

import http.client
import multiprocessing
import time
from collections import Counter
from urllib.parse import quote, urlsplit


def _connect(base_url: str) -> http.client.HTTPConnection:
    parts = urlsplit(base_url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    return kind(parts.hostname, parts.port, timeout=30)


def _client(
    job: tuple[str, list[str], float, int, dict],
) -> tuple[float, float, list[tuple[str, float]], dict]:
    """One client: GET the paths round-robin until `seconds` have passed since its first
    request. Returns its first start, last end (wall clock), (path, latency in s) of each
    answer and the statuses."""
    base_url, paths, seconds, offset, headers = job
    prefix = urlsplit(base_url).path.rstrip("/")
    conn = _connect(base_url)
    latencies: list[tuple[str, float]] = []
    statuses: Counter = Counter()
    started = time.time()
    first = time.perf_counter()
    deadline = first + seconds
    i = offset
    while True:
        t0 = time.perf_counter()
        if t0 >= deadline:
            break
        path = prefix + paths[i % len(paths)]
        i += 1
        try:
            conn.request("GET", path, headers={"Accept-Encoding": "identity", **headers})
            response = conn.getresponse()
            response.read()
            statuses[response.status] += 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = _connect(base_url)
        except (OSError, http.client.HTTPException):
            statuses["error"] += 1
            conn.close()
            conn = _connect(base_url)
            continue
        latencies.append((path, time.perf_counter() - t0))
    conn.close()
    return started, started + (time.perf_counter() - first), latencies, dict(statuses)


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


def burst(
    base_url: str,
    paths: list[str],
    clients: int = 8,
    seconds: float = 5.0,
    headers: list[dict] | None = None,
) -> dict:
    """Fire keep-alive GETs at `paths` (e.g. "/find/12/") of the server at `base_url` from
    `clients` processes for `seconds`, client k sending `headers[k]` (a login's cookie).
    Returns requests, ok (status 200), statuses, seconds (wall clock, first request to last
    answer), rps, p50_ms, p95_ms, and `paths`: requests, p50_ms and p95_ms of each path."""
    if not paths:
        raise ValueError("burst needs at least one path")
    quoted = [quote(p, safe="/?=&%:+,") for p in paths]  # e.g. a search for a Chinese name
    jobs = [
        (base_url, quoted, seconds, k, headers[k % len(headers)] if headers else {})
        for k in range(clients)
    ]
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        results = pool.map(_client, jobs)
    answered = [x for _s, _e, lat, _st in results for x in lat]
    latencies = sorted(t for _p, t in answered)
    per_path = {
        path: sorted(t for p, t in answered if p == asked)
        for path, asked in zip(paths, quoted, strict=True)
    }
    statuses: Counter = Counter()
    for _s, _e, _lat, st in results:
        statuses.update(st)
    elapsed = max(e for _s, e, _l, _st in results) - min(s for s, _e, _l, _st in results)
    requests = sum(statuses.values())
    return {
        "clients": clients,
        "requests": requests,
        "ok": statuses.get(200, 0),
        "statuses": {str(k): v for k, v in sorted(statuses.items(), key=str)},
        "seconds": round(elapsed, 3),
        "rps": round(len(latencies) / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "p95_ms": round(_percentile(latencies, 0.95) * 1000, 2),
        "paths": {
            path: {
                "requests": len(times),
                "p50_ms": round(_percentile(times, 0.50) * 1000, 2),
                "p95_ms": round(_percentile(times, 0.95) * 1000, 2),
            }
            for path, times in per_path.items()
        },
    }
