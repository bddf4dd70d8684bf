"""What every scenario needs: its own PostgreSQL database, a flushed Redis
database index, Daphne processes on free ports, and bench tasks run inside
`manage.py shell`. Everything started here is registered and torn down by
`cleanup()`, which the runner calls on success, errors and Ctrl-C alike."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
# Default: a private redis-server on a free port, started and stopped by the runner.
# The shared one on 6379 was restarted by other people's CI twice during one run, which
# killed every live socket. BENCH_REDIS_URL=redis://127.0.0.1:6379/13 uses a shared
# server instead (only that index is flushed).
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "")
TEMPLATE_DB = f"bench_{os.getpid()}_template"
# Production settings serve hashed static files, which need `collectstatic` first.
STATIC_ROOT = Path(tempfile.gettempdir()) / f"bench_{os.getpid()}_static"

_processes: list[subprocess.Popen] = []
_task_pids: set[int] = set()  # `manage.py` children still running
_databases: list[str] = []


def log(*parts: Any) -> None:
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def database_url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


SHOP_ORIGIN = "http://shop.bench"


def product_env(db_name: str) -> dict[str, str]:
    """Production-like settings: DEBUG off, Redis layer, our own database."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(db_name),
        "REDIS_URL": redis_url(),
        "STATIC_ROOT": str(STATIC_ROOT),
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1",
        # The widget socket takes only the shops' origins (config/origins.py).
        "WIDGET_ALLOWED_ORIGINS": SHOP_ORIGIN,
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback
        "LOG_LEVEL": "WARNING",
        # Every simulated customer and expert is on loopback: the per-network abuse
        # limits and the same-network routing check would stop the load itself.
        "SAME_NETWORK_CHECKS": "0",
        # Loopback is the proxy: a scenario may give its widgets addresses of their own.
        "TRUSTED_PROXIES": "127.0.0.1/32",
        "CHAT_MAX_WAITING_PER_NETWORK": "100000",
        "RATE_LIMIT_WIDGET_SOCKET": "1000000/60",
        "RATE_LIMIT_WIDGET_VISITOR": "1000000/3600",
        "RATE_LIMIT_WIDGET_CHAT": "1000000/3600",
    }


def redis_url() -> str:
    """The channel layer's Redis; starts the private server on first use."""
    global REDIS_URL
    if not REDIS_URL:
        port = free_port()
        process = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        _processes.append(process)
        _wait_for_port(port, process)
        REDIS_URL = f"redis://127.0.0.1:{port}/0"
    return REDIS_URL


def _cpu_seconds_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _pids_named(name: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def cpu_seconds(daphnes: list[subprocess.Popen]) -> dict[str, dict[int, float]]:
    """CPU time used so far by each process of each part of the stack, this runner
    included. PostgreSQL means every server process on the machine."""
    redis_pids = [p.pid for p in _processes if p.args[0] == "redis-server"]
    return {
        "daphne": {p.pid: _cpu_seconds_of(p.pid) for p in daphnes},
        "postgres": {pid: _cpu_seconds_of(pid) for pid in _pids_named("postgres")},
        "redis": {pid: _cpu_seconds_of(pid) for pid in redis_pids},
        "runner": {os.getpid(): sum(os.times()[:2])},
    }


def cpu_used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]):
    """Seconds of CPU per part between two `cpu_seconds` readings. A process that
    exited in between is not counted (its time is gone with it); a new one counts
    from its start."""
    return {
        part: sum(seconds - before[part].get(pid, 0.0) for pid, seconds in pids.items())
        for part, pids in after.items()
    }


def migrated_template() -> str:
    """Migrate once per runner; scenarios copy it (CREATE DATABASE ... TEMPLATE is ~1 s)."""
    if TEMPLATE_DB not in _databases:
        _admin(f'CREATE DATABASE "{TEMPLATE_DB}"')
        _databases.append(TEMPLATE_DB)
        started = time.monotonic()
        for command in (["migrate"], ["collectstatic", "--noinput"]):
            subprocess.run(
                [sys.executable, "manage.py", *command, "-v", "0"],
                cwd=ROOT,
                env=product_env(TEMPLATE_DB),
                check=True,
            )
        log(f"migrated template database in {time.monotonic() - started:.1f}s")
    return TEMPLATE_DB


def daphne(app: str) -> Callable[[int], list[str]]:
    return lambda port: ["-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(port), app]


@dataclass
class Stack:
    """One scenario's database, Redis index and Daphne processes."""

    db_name: str = field(default_factory=lambda: f"bench_{os.getpid()}")
    ports: list[int] = field(default_factory=list)
    daphnes: list[subprocess.Popen] = field(default_factory=list)

    def __post_init__(self) -> None:
        _admin(f'CREATE DATABASE "{self.db_name}" TEMPLATE "{migrated_template()}"')
        _databases.append(self.db_name)
        redis.Redis.from_url(redis_url()).flushdb()

    @property
    def env(self) -> dict[str, str]:
        return product_env(self.db_name)

    baseline_ports: list[int] = field(default_factory=list)
    baseline: list[subprocess.Popen] = field(default_factory=list)
    raw_port: int = 0
    raw: list[subprocess.Popen] = field(default_factory=list)

    def _spawn(
        self, argv: Callable[[int], list[str]], env: dict[str, str]
    ) -> tuple[int, subprocess.Popen]:
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, *argv(port)],
            cwd=ROOT,
            env=env,
            start_new_session=True,  # Ctrl-C reaches the runner, which cleans up in order
        )
        _processes.append(process)
        _wait_for_port(port, process)
        return port, process

    def start_daphnes(self, count: int) -> list[int]:
        """The product's Daphnes."""
        for _ in range(count):
            port, process = self._spawn(daphne("config.asgi:application"), self.env)
            self.ports.append(port)
            self.daphnes.append(process)
        return self.ports

    def start_baseline(self, count: int) -> list[int]:
        """Bare Channels Daphnes (bench/baseline/): the product's Redis, nothing else of it."""
        env = {**os.environ, "REDIS_URL": redis_url()}
        env["DJANGO_SETTINGS_MODULE"] = "bench.baseline.settings"
        for _ in range(count):
            port, process = self._spawn(daphne("bench.baseline.asgi:application"), env)
            self.baseline_ports.append(port)
            self.baseline.append(process)
        return self.baseline_ports

    def start_raw_relay(self) -> int:
        """The floor (bench/raw_relay.py): one `websockets` process, no channel layer."""
        argv = lambda port: ["-m", "bench.raw_relay", str(port)]  # noqa: E731
        self.raw_port, process = self._spawn(argv, dict(os.environ))
        self.raw.append(process)
        return self.raw_port

    def origin(self, port: int) -> str:
        return f"http://127.0.0.1:{port}"

    def rss_bytes(self, processes: list[subprocess.Popen] | None = None) -> int:
        """Resident memory of the processes together (the product's Daphnes by default)."""
        total = 0
        for process in self.daphnes if processes is None else processes:
            for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        return total

    async def task(self, name: str, **args: Any) -> Any:
        """Run bench.tasks.<name>(**args) in `manage.py shell` on this database.

        Async, so sockets keep being read while Django works in the subprocess.
        """
        env = {**self.env, "BENCH_TASK": json.dumps({"name": name, "args": args})}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from bench.tasks import main; main()",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        stdout, _ = await _finish(process.communicate(), process)
        if process.returncode != 0:
            raise RuntimeError(f"bench task {name} failed with {process.returncode}")
        for line in reversed(stdout.decode().splitlines()):
            if line.startswith("BENCH_RESULT "):
                return json.loads(line.removeprefix("BENCH_RESULT "))
        raise RuntimeError(f"bench task {name} printed no result")

    async def manage(self, *argv: str) -> int:
        # What the command prints goes to the progress log: stdout is for the result line.
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "manage.py",
            *argv,
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
            stdout=sys.stderr,
        )
        return await _finish(process.wait(), process)

    def close(self) -> None:
        for process in self.daphnes + self.baseline + self.raw:
            _stop(process)
        _drop(self.db_name)
        redis.Redis.from_url(redis_url()).flushdb()


async def _finish(awaitable: Any, process: asyncio.subprocess.Process) -> Any:
    """Await a child; if we are cancelled (Ctrl-C, error elsewhere) kill it first."""
    _task_pids.add(process.pid)
    try:
        return await awaitable
    except BaseException:
        if process.returncode is None:
            process.kill()
        raise
    finally:
        _task_pids.discard(process.pid)


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited early with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _drop(name: str) -> None:
    if name in _databases:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _databases.remove(name)


def cleanup() -> None:
    """Kill whatever is still running and drop every database we created."""
    for pid in list(_task_pids):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for process in reversed(_processes):  # Daphnes before the Redis they use
        _stop(process)
    for name in list(reversed(_databases)):
        try:
            _drop(name)
        except psycopg.Error as error:
            log(f"could not drop {name}: {error}")
    shutil.rmtree(STATIC_ROOT, ignore_errors=True)
    if os.environ.get("BENCH_REDIS_URL"):  # a shared server: leave our index empty
        try:
            redis.Redis.from_url(REDIS_URL).flushdb()
        except redis.RedisError:
            pass
