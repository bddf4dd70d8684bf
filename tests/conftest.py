"""Shared fixtures. With REQUIRE_SERVICES=1 (as `make test` sets) the suite refuses
to run unless PostgreSQL and Redis answer: it never silently falls back."""

import asyncio
import os
import socket
import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.test import Client
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from chat.models import Visitor
from community.models import ConsoleLease, Expert
from realtime import async_db


def _own_redis_per_worker() -> None:
    """`make test` runs the suite in parallel workers (pytest-xdist). Each worker gets its
    own Redis database and key prefixes, as pytest-django gives it its own PostgreSQL
    database: every test empties its cache and channel layer when it starts, and
    pub/sub channels are shared by all Redis databases. Done before anything connects;
    the servers the browser tests start inherit it through the environment."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not settings.REDIS_URL:
        return
    number = int(worker.removeprefix("gw"))
    url = urlsplit(settings.REDIS_URL)
    database = int(url.path.strip("/") or 0) + number
    settings.REDIS_URL = url._replace(path=f"/{database}").geturl()
    layer = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    layer["hosts"][0]["address"] = settings.REDIS_URL
    layer["prefix"] = f"{layer['prefix']}-{worker}"
    cache = settings.CACHES["default"]
    cache["LOCATION"] = settings.REDIS_URL
    cache["KEY_PREFIX"] = f"{cache['KEY_PREFIX']}-{worker}"
    os.environ.update(
        REDIS_URL=settings.REDIS_URL,
        CHANNEL_LAYER_PREFIX=layer["prefix"],
        CACHE_KEY_PREFIX=cache["KEY_PREFIX"],
    )


_own_redis_per_worker()


def pytest_sessionstart(session):
    if os.environ.get("REQUIRE_SERVICES") != "1":
        return
    problems = []
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        problems.append("DATABASE_URL does not point at PostgreSQL")
    else:
        import psycopg

        db = settings.DATABASES["default"]
        try:
            psycopg.connect(
                host=db["HOST"],
                port=db["PORT"] or 5432,
                user=db["USER"],
                dbname=db["NAME"],
                connect_timeout=3,
            ).close()
        except Exception as error:  # noqa: BLE001
            problems.append(f"PostgreSQL does not answer: {error}")
    if not settings.REDIS_URL:
        problems.append("REDIS_URL is not set, so the channel layer is not Redis")
    else:
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=3).ping()
        except Exception as error:  # noqa: BLE001
            problems.append(f"Redis does not answer: {error}")
    if problems:
        pytest.exit("Required services missing: " + "; ".join(problems), returncode=3)


def pytest_collection_modifyitems(config, items):
    """Browser tests last: they are the slowest and their event loop must not
    precede async tests in the same thread."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test starts with an empty channel layer (Redis keeps state between tests)."""
    layer = get_channel_layer()
    if hasattr(layer, "flush"):
        # Its own thread: browser tests keep Playwright's event loop in this one.
        flusher = threading.Thread(target=async_to_sync(layer.flush))
        flusher.start()
        flusher.join()
    yield


@pytest.fixture(autouse=True)
def _fresh_limits():
    """Each test starts with no rate-limit counts (the cache is shared Redis in CI)."""
    caches[settings.RATE_LIMIT_CACHE].clear()
    yield


@pytest.fixture(autouse=True)
def _site_origin(settings):
    """Test sockets send no Host header; their pages are "testserver", as the test client's."""
    settings.SOCKET_ALLOWED_ORIGINS = ["http://testserver"]


@pytest.fixture
def make_expert(db):
    counter = iter(range(1, 10_000))

    def make(
        *, name: str | None = None, on_shift: bool = True, connected: bool = True, cap: int = 3
    ) -> Expert:
        n = next(counter)
        user = get_user_model().objects.create_user(
            username=f"expert{n}@test.example",
            email=f"expert{n}@test.example",
            password="pw-123456",
        )
        expert = Expert.objects.create(
            user=user,
            display_name=name or f"Expert {n}",
            on_shift=on_shift,
            last_seen_at=timezone.now() if connected else timezone.now() - timedelta(hours=1),
            max_concurrent_chats=cap,
        )
        if connected:  # a console open somewhere, for the length of the test
            ConsoleLease.objects.create(
                expert=expert,
                channel_name=f"test-console-{expert.pk}",
                expires_at=timezone.now() + timedelta(hours=1),
            )
        return expert

    return make


@pytest.fixture
def make_visitor(db):
    def make(**fields) -> Visitor:
        return Visitor.objects.create(**fields)

    return make


def run_jobs() -> None:
    """Run every background job that is due with the worker of `manage.py db_worker`,
    then return. (Its loop closes connections between jobs, which a test's own
    transaction cannot survive, so the loop is this one.)"""
    worker = Worker(
        queue_names=["*"],
        excluded_queue_names=[],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="tests",
    )
    while (job := DBTaskResult.objects.ready().order_by("enqueued_at").first()) is not None:
        job.claim(worker.worker_id)
        worker.run_task(job)


def session_cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


class GroupListener:
    """Subscribes a real channel on the real layer to groups and collects the frames.

    It keeps one event loop of its own: the Redis layer binds receive state to a loop.
    """

    def __init__(self, *groups: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.layer = get_channel_layer()
        self.channel = self._run(self.layer.new_channel())
        for group in groups:
            self._run(self.layer.group_add(group, self.channel))
        # One receive that is never cancelled: the pub/sub layer drops a channel
        # whose receive is cancelled, as when a consumer goes away.
        self.received = self._run(self._start_receiving())

    async def _start_receiving(self) -> asyncio.Queue:
        received: asyncio.Queue = asyncio.Queue()

        async def receive_forever() -> None:
            while True:
                received.put_nowait(await self.layer.receive(self.channel))

        self.receiving = asyncio.ensure_future(receive_forever())
        return received

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def frames(self, wait: float = 0.3) -> list[dict]:
        async def drain() -> list[dict]:
            collected = []
            while True:
                try:
                    event = await asyncio.wait_for(self.received.get(), wait)
                except TimeoutError:
                    return collected
                collected.append(event["frame"])

        return self._run(drain())


@pytest.fixture
def listen():
    return GroupListener


@pytest.fixture(autouse=True)
def _close_async_connections():
    """Sockets store messages on connections of their test's event loop (realtime.async_db)."""
    yield
    async_db.close_all()


@pytest.fixture(scope="session", autouse=True)
def _close_consumer_connections(django_db_setup):
    """Consumers reach the database from asgiref's worker thread; close its
    connection so the test database can be dropped at the end."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    SyncToAsync.single_thread_executor.submit(connections.close_all).result()


def create_staff(**fields):
    """A staff member with the Staff group's rights, as staff accounts are set up."""
    from django.contrib.auth.models import Group

    from community.permissions import STAFF_GROUP

    user = get_user_model().objects.create_user(is_staff=True, **fields)
    user.groups.add(Group.objects.get(name=STAFF_GROUP))
    return user


@pytest.fixture
def unreachable_channel_layer(settings):
    """A channel layer whose Redis refuses connections (down, or restarting)."""
    from channels.layers import channel_layers

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once closed
    settings.CHANNEL_LAYERS = {
        "default": {
            **settings.CHANNEL_LAYERS["default"],
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{port}/0"]},
        }
    }
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()
