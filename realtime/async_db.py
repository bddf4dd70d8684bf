"""PostgreSQL awaited on the socket's own event loop, for the chat's hot statements.

Django runs a socket's database code in one worker thread per process. Under load a
message queued there for the thread, and its round trip slowed down because every
reply had to win the GIL back from the event loop (docs/performance.md, "Statements on
the event loop"). What sockets do for every message, read receipt and ping is a single
statement each (store a message, mark a chat read, read the last seqs, note an
expert's heartbeat, list an expert's open chats, read a chat's history), so they
await those here, on a few connections per event loop; starting a chat is a short
`transaction()` of pipelined statements (docs/performance.md, "Assignment").
Everything else keeps using the ORM in the worker thread.

Why not psycopg_pool's AsyncConnectionPool (docs/performance.md, "Why async_db is not
psycopg_pool", with the measurements): with many sockets waiting on few connections it
spends measurably more CPU per statement on the event loop than this module, and its
life cycle does not fit ours. A pool is opened and closed by awaiting it on its own
loop, where it runs background tasks, while tests make a loop per test (and per
`async_to_sync` call) and close these connections after that loop has stopped
(`close_all`). And after a database restart this module retries once on a new
connection and drops the other idle ones, where the pool would either check every
connection it hands out (a round trip per statement) or fail the first statement on
each stale one.
"""

import asyncio
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import cache
from typing import Any, TypeVar

import psycopg
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

CONNECTIONS_PER_LOOP = 4


class _ConnectionLost(DatabaseError):
    pass


class _LoopConnections:
    def __init__(self) -> None:
        self.idle: list[tuple[float, psycopg.AsyncConnection]] = []  # (opened at, connection)
        self.slots = asyncio.Semaphore(CONNECTIONS_PER_LOOP)

    async def take_idle(self) -> tuple[float, psycopg.AsyncConnection] | None:
        """The most recently used idle connection younger than CONN_MAX_AGE, if any."""
        max_age = sql_connection().settings_dict["CONN_MAX_AGE"]
        while self.idle:
            opened, conn = self.idle.pop()
            if max_age is None or time.monotonic() - opened < max_age:
                return opened, conn
            await conn.close()
        return None

    async def close_idle(self) -> None:
        while self.idle:
            await self.idle.pop()[1].close()


# Connections and semaphores belong to one event loop: Daphne runs one per process,
# tests one per test.
_per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopConnections] = (
    weakref.WeakKeyDictionary()
)


@cache
def sql_connection() -> BaseDatabaseWrapper:
    """The default database's vendor, operations and settings, for code on an event loop.

    There `django.db.connection` is a new wrapper in every task (asgiref's Local), one
    more for each socket that touches it (docs/performance.md, "Statements on the event
    loop"); this one is shared, and never connects itself.
    """
    return connections.create_connection(DEFAULT_DB_ALIAS)


def available() -> bool:
    return sql_connection().vendor == "postgresql"


async def _connect() -> tuple[float, psycopg.AsyncConnection]:
    # Django's own parameters, minus its sync cursor classes and adapters.
    params = sql_connection().get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    try:
        # Prepared at first use: the statement texts never change, and parsing and
        # planning them each time was a large share of PostgreSQL's CPU per message
        # (docs/performance.md, "Statements on the event loop").
        params.update(autocommit=True, prepare_threshold=0)
        conn = await psycopg.AsyncConnection.connect(**params)
    except psycopg.Error as error:
        raise DatabaseError(*error.args) from error
    return time.monotonic(), conn


async def fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Run one statement as its own transaction; the rows it returns, if any.

    Raises Django's IntegrityError for a constraint, DatabaseError for the rest. A
    statement that finds its idle connection gone (a database restart, a firewall's
    idle timeout) runs once more on a new one; callers' statements are safe to repeat.
    """
    loop = asyncio.get_running_loop()
    pool = _per_loop.get(loop) or _per_loop.setdefault(loop, _LoopConnections())
    async with pool.slots:
        reused = await pool.take_idle()
        if reused is not None:
            try:
                return await _run(pool, reused, sql, params)
            except _ConnectionLost:
                await pool.close_idle()  # they are likely gone too
        return await _run(pool, await _connect(), sql, params)


_BETWEEN_STATEMENTS = (psycopg.pq.TransactionStatus.INTRANS, psycopg.pq.TransactionStatus.INERROR)
Rows = list[tuple[Any, ...]]


class Transaction:
    """Statements on one connection in one transaction (`transaction()`)."""

    def __init__(
        self,
        pool: _LoopConnections,
        opened_conn: tuple[float, psycopg.AsyncConnection],
        *,
        reused: bool,
    ) -> None:
        self.pool, self.opened_conn, self.reused, self.begun = pool, opened_conn, reused, False

    async def fetch(self, sql: str, params: list[Any]) -> Rows:
        return (await self.fetch_together([(sql, params)]))[0]

    async def fetch_together(
        self, statements: list[tuple[str, list[Any]]], *, commit: bool = False
    ) -> list[Rows]:
        """Send the statements in one round trip (pipelined), the transaction's BEGIN
        in front of the first ones, and with `commit` its COMMIT behind the last (the
        transaction ends here). PostgreSQL still runs each once the one before has
        finished, with its own snapshot: a statement after a lock sees what the lock's
        last holder committed. After an error the rest do not run."""
        first = not self.begun
        if first:
            statements = [("BEGIN", []), *statements]
            self.begun = True
        if commit:
            statements = [*statements, ("COMMIT", [])]
        try:
            results = await self._pipelined(statements)
        except _ConnectionLost:
            if not (first and self.reused):
                raise
            # A reused connection found gone before anything ran: start on a new one.
            _release(self.pool, self.opened_conn)
            await self.pool.close_idle()  # they are likely gone too
            self.opened_conn, self.reused = await _connect(), False
            results = await self._pipelined(statements)
        if commit:
            self.begun, results = False, results[:-1]
        return results[1:] if first else results

    async def _pipelined(self, statements: list[tuple[str, list[Any]]]) -> list[Rows]:
        conn = self.opened_conn[1]
        with _database_errors(conn):
            async with conn.pipeline() as pipeline:
                cursors = [await conn.execute(sql, params) for sql, params in statements]
                await pipeline.sync()
                return [await c.fetchall() if c.description else [] for c in cursors]


@asynccontextmanager
async def transaction() -> AsyncIterator[Transaction]:
    """One connection in a transaction, for a few statements that must see each
    other (a lock, then reads taken after it). Commits when the block ends, rolls
    back if it raises. A reused connection found gone is replaced if nothing ran."""
    loop = asyncio.get_running_loop()
    pool = _per_loop.get(loop) or _per_loop.setdefault(loop, _LoopConnections())
    async with pool.slots:
        reused = await pool.take_idle()
        tx = Transaction(pool, reused or await _connect(), reused=reused is not None)
        try:
            yield tx
            if tx.begun:
                await tx.fetch("COMMIT", [])
        finally:
            conn = tx.opened_conn[1]
            try:
                # Between statements: roll back. Mid-statement (cancelled) the
                # connection is dropped instead, which ends the transaction too.
                if conn.info.transaction_status in _BETWEEN_STATEMENTS:
                    await conn.rollback()
            except psycopg.Error:
                pass
            finally:
                _release(pool, tx.opened_conn)


async def _run(
    pool: _LoopConnections, opened_conn: tuple[float, psycopg.AsyncConnection], sql: str, params
) -> list[tuple[Any, ...]]:
    conn = opened_conn[1]
    try:
        with _database_errors(conn):
            cursor = await conn.execute(sql, params)
            return await cursor.fetchall() if cursor.description else []
    finally:
        _release(pool, opened_conn)


@contextmanager
def _database_errors(conn: psycopg.AsyncConnection) -> Iterator[None]:
    """psycopg's errors as Django's; a lost connection as _ConnectionLost."""
    try:
        yield
    except psycopg.IntegrityError as error:
        raise IntegrityError(*error.args) from error
    except psycopg.Error as error:
        if conn.broken:
            raise _ConnectionLost(*error.args) from error
        raise DatabaseError(*error.args) from error


def _release(pool: _LoopConnections, opened_conn: tuple[float, psycopg.AsyncConnection]) -> None:
    # Anything but idle (broken, or cancelled mid-statement) is not reused.
    conn = opened_conn[1]
    if conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE and not conn.broken:
        pool.idle.append(opened_conn)
    else:
        conn.pgconn.finish()


def close_all() -> None:
    """Close every idle connection. Tests: after each test, once its loop has stopped."""
    for pool in list(_per_loop.values()):
        while pool.idle:
            pool.idle.pop()[1].pgconn.finish()


Result = TypeVar("Result")


class _NextRead:
    def __init__(self) -> None:
        self.waiting: asyncio.Future | None = None  # of the callers of the next read
        self.reading: asyncio.Task | None = None


def read_once_for_all_waiting(
    read: Callable[[], Awaitable[Result]],
) -> Callable[[], Awaitable[Result]]:
    """`read` shared by every caller that asked before it started; callers that come
    while it runs wait for the next one. So each gets what was read after it asked,
    and a burst of callers costs a few statements, not one each queued for the
    loop's few connections (docs/performance.md, "Handshakes")."""
    per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _NextRead] = (
        weakref.WeakKeyDictionary()
    )

    async def read_for_everyone_waiting(state: _NextRead) -> None:
        waiting = None
        try:
            while state.waiting is not None:
                waiting, state.waiting = state.waiting, None
                try:
                    waiting.set_result(await read())
                except Exception as error:
                    waiting.set_exception(error)
                    waiting.exception()  # raised in each waiter; not "never retrieved"
        finally:
            # Cancelled (the loop is closing): nobody is left waiting for ever.
            for left in (waiting, state.waiting):
                if left is not None:
                    left.cancel()  # no-op once it has its result
            state.waiting = state.reading = None

    async def shared_read() -> Result:
        loop = asyncio.get_running_loop()
        state = per_loop.get(loop) or per_loop.setdefault(loop, _NextRead())
        if state.waiting is None:
            state.waiting = loop.create_future()
        waiting = state.waiting
        if state.reading is None:
            state.reading = loop.create_task(read_for_everyone_waiting(state))
        # Shielded: a caller that goes away must not cancel the others' read.
        return await asyncio.shield(waiting)

    return shared_read
