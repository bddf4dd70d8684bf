"""PostgreSQL awaited on the socket's own event loop, for the chat's hot statement.

Django runs a socket's database code in one worker thread per process. At 200 busy
chats a message waited there 10-15 ms (p50) for the thread, and its round trip ran
three times slower than on an idle process, because every reply had to win the GIL
back from the event loop (docs/performance.md). What sockets do for every message and
every ping is a single statement each (store a message, read the last seqs, note an
expert's heartbeat), so they await those here, on a few connections per event loop.
Everything else keeps using the ORM in the worker thread.
"""

import asyncio
import weakref
from typing import Any

import psycopg
from django.db import DatabaseError, IntegrityError, connection
from django.db.models import QuerySet

CONNECTIONS_PER_LOOP = 4


class _LoopConnections:
    def __init__(self) -> None:
        self.idle: list[psycopg.AsyncConnection] = []
        self.slots = asyncio.Semaphore(CONNECTIONS_PER_LOOP)


# Connections and semaphores belong to one event loop: Daphne runs one per process,
# tests one per test.
_per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopConnections] = (
    weakref.WeakKeyDictionary()
)


def available() -> bool:
    return connection.vendor == "postgresql"


def _connect_kwargs() -> dict[str, Any]:
    # Django's own parameters, minus its sync cursor classes and adapters.
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    # Prepared at first use: the statement text never changes, and parsing and
    # planning it each time was a third of PostgreSQL's CPU per message. (Behind a
    # pooler in transaction mode, this needs PgBouncer 1.21 or newer.)
    return {**params, "autocommit": True, "prepare_threshold": 0}


async def fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Run one statement as its own transaction; the rows it returns, if any.

    Raises Django's IntegrityError for a constraint, DatabaseError for the rest.
    """
    loop = asyncio.get_running_loop()
    loop_connections = _per_loop.get(loop) or _per_loop.setdefault(loop, _LoopConnections())
    async with loop_connections.slots:
        idle = loop_connections.idle
        conn = idle.pop() if idle else None
        try:
            if conn is None:
                conn = await psycopg.AsyncConnection.connect(**_connect_kwargs())
            cursor = await conn.execute(sql, params)
            return await cursor.fetchall() if cursor.description else []
        except psycopg.IntegrityError as error:
            raise IntegrityError(*error.args) from error
        except psycopg.Error as error:
            raise DatabaseError(*error.args) from error
        finally:
            if conn is not None:
                # Anything but idle (broken, or cancelled mid-statement) is not reused.
                if conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                    idle.append(conn)
                else:
                    await conn.close()
                    if conn.broken:  # the server went away: the idle ones are gone too
                        while idle:
                            await idle.pop().close()


def compiled(queryset: QuerySet) -> tuple[str, list[Any]]:
    """The SQL and parameters of a read-only queryset, for `fetch`."""
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    return sql, list(params)


def close_all() -> None:
    """Close every idle connection (tests: before the test database is dropped)."""
    for loop_connections in list(_per_loop.values()):
        while loop_connections.idle:
            loop_connections.idle.pop().pgconn.finish()
