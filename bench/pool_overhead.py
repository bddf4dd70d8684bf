"""What a connection pool costs per statement: realtime/async_db.py against psycopg_pool
(docs/performance.md, "Why async_db is not psycopg_pool").

psycopg_pool is not a dependency of the product; unpack its wheel and put it on the path:

    .venv/bin/pip download psycopg-pool==3.3.3 --no-deps -d /tmp/pp
    unzip -q -o /tmp/pp/psycopg_pool-3.3.3-py3-none-any.whl -d /tmp/pp/src
    DJANGO_SETTINGS_MODULE=config.settings DATABASE_URL=postgres://... \\
        PYTHONPATH=/tmp/pp/src .venv/bin/python -m bench.pool_overhead

Both pools get the same connection parameters (those of realtime/async_db.py:
autocommit, prepared at first use) and at most 4 connections. Each run awaits STATEMENTS
single-row statements (`SELECT %s::int`), either one after another or from TASKS tasks
at once; runs alternate between the pools (the order rotates), and each figure is the
median of RUNS runs. One JSON line on stdout.
"""

import asyncio
import json
import os
import statistics
import time

import django

STATEMENTS = int(os.environ.get("POOL_STATEMENTS", 5000))
RUNS = int(os.environ.get("POOL_RUNS", 5))
TASKS = int(os.environ.get("POOL_TASKS", 40))
SQL = "SELECT %s::int"


async def main() -> dict:
    from psycopg_pool import AsyncConnectionPool

    from realtime import async_db

    params = async_db.sql_connection().get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.update(autocommit=True, prepare_threshold=0)
    pool = AsyncConnectionPool(
        kwargs=params, min_size=async_db.CONNECTIONS_PER_LOOP, open=False, check=None
    )
    await pool.open(wait=True)

    async def psycopg_pool_fetch(sql: str, args: list) -> list:
        # What async_db.fetch would be on psycopg_pool (its error mapping costs
        # nothing until a statement fails).
        conn = await pool.getconn()
        try:
            cursor = await conn.execute(sql, args)
            return await cursor.fetchall() if cursor.description else []
        finally:
            await pool.putconn(conn)

    async def psycopg_pool_context(sql: str, args: list) -> list:
        # The documented form: `async with pool.connection()`.
        async with pool.connection() as conn:
            cursor = await conn.execute(sql, args)
            return await cursor.fetchall() if cursor.description else []

    fetches = {
        "async_db": async_db.fetch,
        "psycopg_pool": psycopg_pool_fetch,
        "psycopg_pool_context": psycopg_pool_context,
    }

    async def sequential(fetch) -> None:
        for i in range(STATEMENTS):
            await fetch(SQL, [i])

    async def concurrent(fetch) -> None:
        async def task(n: int) -> None:
            for i in range(STATEMENTS // TASKS):
                await fetch(SQL, [i + n])

        await asyncio.gather(*(task(n) for n in range(TASKS)))

    async def timed(run, fetch) -> tuple[float, float]:
        """Wall time, and this process's CPU time (the pool's own cost is CPU on the
        event loop; wall time also holds PostgreSQL and whatever else the machine runs)."""
        wall, cpu = time.perf_counter(), time.process_time()
        await run(fetch)
        return time.perf_counter() - wall, time.process_time() - cpu

    for fetch in fetches.values():  # warm up: connect and prepare
        await concurrent(fetch)
    runs: dict[str, dict[str, list[tuple[float, float]]]] = {
        mode: {name: [] for name in fetches} for mode in ("sequential", "concurrent")
    }
    names = list(fetches)
    for k in range(RUNS):
        for mode, run in (("sequential", sequential), ("concurrent", concurrent)):
            for name in names[k % len(names) :] + names[: k % len(names)]:  # order rotates
                runs[mode][name].append(await timed(run, fetches[name]))
    await pool.close()

    result: dict = {"statements": STATEMENTS, "runs": RUNS, "tasks": TASKS}
    for mode, by_name in runs.items():
        result[mode] = {}
        for i, figure in enumerate(("wall", "cpu")):
            medians = {name: statistics.median(r[i] for r in rs) for name, rs in by_name.items()}
            result[mode][figure] = {
                name: {
                    "us_per_statement": round(median / STATEMENTS * 1e6, 1),
                    "ratio_to_async_db": round(median / medians["async_db"], 2),
                    "runs_s": [round(r[i], 3) for r in by_name[name]],
                }
                for name, median in medians.items()
            }
    return result


if __name__ == "__main__":
    django.setup()
    print(json.dumps(asyncio.run(main())), flush=True)
