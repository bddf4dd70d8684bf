"""catalog: the console's product type-ahead (GET /console/catalog/search/) on 100 and
on 10,000 products, over HTTP through one Daphne, as the console calls it.

The same queries (partial words, two words, SKU prefixes, misses) run at 100 products,
at 10,000 with the search indexes (catalog/migrations/0002) and at 10,000 without
them, one after another on one keep-alive connection: latencies, not throughput. The
ratios within the run are the figures to compare; the machine is shared.
"""

from __future__ import annotations

import asyncio
import http.client
import time
from typing import Any

from bench.harness import Stack, cpu_seconds, cpu_used, log

TARGET_P99_MS = 50
EXPERTS = 40  # searching experts in each stage: the type-ahead's limit is per expert
WARM_UP = 200  # searches before the timed ones, in each stage


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))], 2)


def _search_over_http(port: int, cookies: list[str], queries: list[str], warm: int) -> dict:
    """Each query from the next expert in turn; the first `warm` are not counted."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    timings, statuses = [], set()
    try:
        for n, query in enumerate(queries[:warm] + queries):
            started = time.perf_counter()
            connection.request(
                "GET",
                "/console/catalog/search/?q=" + query.replace(" ", "+"),
                headers={"Cookie": cookies[n % len(cookies)]},
            )
            response = connection.getresponse()
            response.read()
            if n >= warm:
                timings.append((time.perf_counter() - started) * 1000)
                statuses.add(response.status)
    finally:
        connection.close()
    return {
        "http_p50_ms": _percentile(timings, 0.5),
        "http_p99_ms": _percentile(timings, 0.99),
        "http_max_ms": _percentile(timings, 1.0),
        "searches": len(timings),
        "statuses": sorted(statuses),
    }


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


async def catalog(quick: bool) -> dict[str, Any]:
    searches = 400 if quick else 2000
    stack = Stack()
    try:
        (port,) = stack.start_daphnes(1)
        stages: dict[str, dict[str, Any]] = {}
        for name, args in (
            ("100", {"products": 100}),
            ("10000", {"products": 10_000}),
            ("10000_without_indexes", {"products": 10_000, "drop_indexes": True}),
        ):
            figures = await stack.task("catalog", experts=EXPERTS, queries=searches, **args)
            cookies, queries = figures.pop("cookies"), figures.pop("queries")
            before = cpu_seconds(stack.daphnes)
            figures |= await asyncio.to_thread(_search_over_http, port, cookies, queries, WARM_UP)
            # The Daphne's own CPU time per search (warm-up included), which the
            # machine's other load changes far less than latency.
            daphne_seconds = cpu_used(before, cpu_seconds(stack.daphnes))["daphne"]
            figures["daphne_cpu_ms_per_search"] = round(
                daphne_seconds * 1000 / (len(queries) + WARM_UP), 2
            )
            log(f"catalog {name}: {figures}")
            stages[name] = figures
    finally:
        stack.close()
    small, large, bare = stages["100"], stages["10000"], stages["10000_without_indexes"]
    return {
        "stages": stages,
        "http_p99_ms_at_10000": large["http_p99_ms"],
        "target_p99_ms": TARGET_P99_MS,
        "target_met": large["http_p99_ms"] <= TARGET_P99_MS and large["statuses"] == [200],
        "http_p99_10000_over_100": _ratio(large["http_p99_ms"], small["http_p99_ms"]),
        "selector_p50_10000_over_100": _ratio(large["selector_p50_ms"], small["selector_p50_ms"]),
        "selector_p50_without_over_with_indexes": _ratio(
            bare["selector_p50_ms"], large["selector_p50_ms"]
        ),
        "http_p99_without_over_with_indexes": _ratio(bare["http_p99_ms"], large["http_p99_ms"]),
        "daphne_cpu_10000_over_100": _ratio(
            large["daphne_cpu_ms_per_search"], small["daphne_cpu_ms_per_search"]
        ),
        "queries_per_search": {n: s["queries_per_search"] for n, s in stages.items()},
        "queries_flat": small["queries_per_search"] == large["queries_per_search"],
    }
