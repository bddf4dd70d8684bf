"""Bench work that needs Django: run inside `manage.py shell` on the bench database.

`Stack.task(name, **args)` sets BENCH_TASK and calls `main()`, which prints one
`BENCH_RESULT <json>` line. Only product services and selectors are used, so
what is measured is what the product does.
"""

import json
import math
import os
import random
import statistics
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection, transaction
from django.db.models import Count, Max
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import CatalogProduct
from catalog.selectors import catalog_search
from chat import selectors as chat_selectors
from chat import services as chat_services
from chat.models import Conversation, Visitor
from chat.services._shared import ROUTING_LOCK_KEY
from community.models import ConsoleLease, Expert
from config.errors import ServiceError
from points import selectors as points_selectors
from points import services as points_services
from points.models import Account, EntryKind, LedgerEntry
from rewards import services as rewards_services
from rewards.models import Product, Redemption


def _create_experts(count: int, *, prefix: str, **fields: Any) -> list[Expert]:
    """Bulk-created with unusable passwords: hashing 1,000 passwords would take minutes."""
    users = get_user_model().objects.bulk_create(
        get_user_model()(
            username=f"{prefix}{i}@bench.test",
            email=f"{prefix}{i}@bench.test",
            password=make_password(None),
        )
        for i in range(count)
    )
    return Expert.objects.bulk_create(
        Expert(user=user, display_name=f"Bench {prefix.title()} {i}", **fields)
        for i, user in enumerate(users)
    )


def _session_cookie(user) -> str:
    """What django.contrib.auth.login stores, without a request."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def experts(count: int, prefix: str = "expert") -> list[dict[str, Any]]:
    """Logged-in experts: their ids and session cookies for /ws/console/."""
    return [
        {"id": e.pk, "cookie": _session_cookie(e.user)}
        for e in _create_experts(count, prefix=prefix)
    ]


def _staff_user():
    user, _ = get_user_model().objects.get_or_create(
        username="staff@bench.test", defaults={"is_staff": True, "password": make_password(None)}
    )
    return user


def award(expert_id: int, count: int, gap: float) -> list[float]:
    """`count` staff adjustments of +1 to one expert; returns each commit's wall time.

    Our on_commit hook is registered before the product's, so it runs first:
    the timestamp is the commit, not the end of the broadcasts after it.
    """
    staff, expert = _staff_user(), Expert.objects.get(pk=expert_id)
    committed: list[float] = []
    for k in range(count):
        with transaction.atomic():
            transaction.on_commit(lambda: committed.append(time.time()))
            points_services.points_adjust(
                expert=expert, amount=1, reason="bench", staff_member=staff,
                idempotency_key=f"bench-{k}",
            )  # fmt: skip
        time.sleep(gap)
    return committed


def assignment_check() -> dict[str, Any]:
    """The cap as the database sees it, and the queue."""
    active = Conversation.objects.filter(status="active")
    per_expert = active.values("expert").annotate(n=Count("pk"))
    stamps = list(active.values_list("created_at", "assigned_at"))
    waits = sorted((assigned - created).total_seconds() for created, assigned in stamps)
    first = min((created for created, _ in stamps), default=None)
    return {
        # Server-side view: when each chat was created and assigned, from the rows.
        "created_spread_s": round((max(c for c, _ in stamps) - first).total_seconds(), 2)
        if stamps
        else None,
        "db_wait_p50_ms": round(waits[len(waits) // 2] * 1000, 1) if waits else None,
        "db_wait_max_ms": round(waits[-1] * 1000, 1) if waits else None,
        # Epoch seconds, for the runner to line up with its own clock (same machine).
        "created_epochs": sorted(c.timestamp() for c, _ in stamps),
        "assigned_epochs": sorted(a.timestamp() for _, a in stamps),
        "max_open_chat_count": Expert.objects.aggregate(m=Max("open_chat_count"))["m"],
        "max_active_per_expert": max((row["n"] for row in per_expert), default=0),
        "active": active.count(),
        "waiting": Conversation.objects.filter(status="waiting").count(),
    }


def routing_work(chats: int, batch: int = 30, crowd: int = 1000) -> dict[str, Any]:
    """What chat starts hold under the routing lock, from sending the lock to the
    commit's reply: `chats` starts one after another with free experts (each a drain
    of one chat), then one drain of `batch` chats queued while no expert was free,
    then `chats` starts again with `crowd` experts free, then `chats` starts behind
    `crowd` waiting chats with no expert free.
    The lock is held by one drain at a time across all processes: this is the floor
    of a burst's wait per chat. Statements' own timings would leave out the Python
    between them, which is most of it."""
    lock_sent_at: list[float] = []
    held_ms: list[float] = []

    def note_the_lock(execute, sql, params, many, context):
        if str(ROUTING_LOCK_KEY) in str(params):
            lock_sent_at.append(time.perf_counter())
        return execute(sql, params, many, context)

    def commit_noting_the_time(commit=connection.commit) -> None:
        commit()
        if lock_sent_at:
            held_ms.append(1000 * (time.perf_counter() - lock_sent_at.pop()))

    def on_shift_with_consoles(count: int, prefix: str, on_shift: bool) -> list[Expert]:
        experts = _create_experts(count, prefix=prefix)
        lease_until = timezone.now() + timedelta(hours=1)
        ConsoleLease.objects.bulk_create(
            ConsoleLease(expert=e, channel_name=f"bench.{prefix}.{e.pk}", expires_at=lease_until)
            for e in experts
        )
        Expert.objects.filter(pk__in=[e.pk for e in experts]).update(on_shift=on_shift)
        return experts

    def lone_starts() -> list[float]:
        with connection.cursor() as cursor:  # the statistics autovacuum keeps on a live site
            cursor.execute("ANALYZE")
        held_ms.clear()
        for _ in range(chats):
            visitor = chat_services.visitor_create(network="")
            with (
                CaptureQueriesContext(connection) as captured,
                connection.execute_wrapper(note_the_lock),
            ):
                chat_services.conversation_start(visitor=visitor, topic="bench")
            sqls = [q["sql"] for q in captured.captured_queries]
            locked = next(i for i, sql in enumerate(sqls) if str(ROUTING_LOCK_KEY) in sql)
            statements.append(sqls.index("COMMIT") - locked + 1)
            total.append(len(sqls))
        return list(held_ms)

    on_shift_with_consoles(math.ceil(chats / 3), "router", on_shift=True)
    statements, total = [], []
    connection.commit = commit_noting_the_time
    try:
        lone_ms = lone_starts()
        assigned = Conversation.objects.filter(status="active").count()
        later = on_shift_with_consoles(math.ceil(batch / 3), "batch", on_shift=False)
        for _ in range(batch):  # no expert free: each waits
            chat_services.conversation_start(
                visitor=chat_services.visitor_create(network=""), topic="bench"
            )
        Expert.objects.filter(pk__in=[e.pk for e in later]).update(on_shift=True)
        held_ms.clear()  # those starts' drains, which found no expert
        with connection.execute_wrapper(note_the_lock), transaction.atomic():
            batch_assigned = chat_services.queue_drain()
        batch_ms = held_ms[0]
        on_shift_with_consoles(crowd, "crowd", on_shift=True)
        crowd_ms = lone_starts()
        Expert.objects.update(on_shift=False)
        stamped = timezone.now()
        Conversation.objects.bulk_create(
            Conversation(
                visitor=visitor,
                topic="bench",
                created_at=stamped - timedelta(seconds=1),
                queued_at=stamped,
            )
            for visitor in Visitor.objects.bulk_create(Visitor() for _ in range(crowd))
        )
        line_ms = lone_starts()
    finally:
        del connection.commit
    return {
        "chats": chats,
        "assigned": assigned,
        "statements_per_start": statistics.median(total[:chats]),
        "statements_under_routing_lock": statistics.median(statements[:chats]),
        "ms_under_routing_lock_p50": round(statistics.median(lone_ms), 2),
        "ms_under_routing_lock_p50_behind_crowd_waiting": round(statistics.median(line_ms), 2),
        "batch": batch,
        "batch_assigned": batch_assigned,
        "batch_ms_under_routing_lock": round(batch_ms, 2),
        "batch_ms_per_chat": round(batch_ms / max(batch_assigned, 1), 2),
        "crowd": crowd,
        "ms_under_routing_lock_p50_with_crowd_free": round(statistics.median(crowd_ms), 2),
    }


def drop(customers: int, stock: int, workers: int) -> dict[str, Any]:
    """`customers` experts redeem one product with `stock` units at once."""
    staff = _staff_user()
    buyers = _create_experts(customers, prefix="buyer")
    for buyer in buyers:  # the product's own award path, so the ledger audit stays meaningful
        points_services.points_adjust(
            expert=buyer, amount=100, reason="bench", staff_member=staff,
            idempotency_key=f"drop-{buyer.pk}",
        )  # fmt: skip
    product = Product.objects.create(name="Bench drop", points_cost=50, stock=stock)
    start = threading.Barrier(min(workers, customers))
    outcomes: Counter[str] = Counter()

    def redeem(buyer: Expert) -> None:
        try:
            if not start.broken:
                try:
                    start.wait(timeout=10)  # the first wave really is simultaneous
                except threading.BrokenBarrierError:
                    pass
            rewards_services.redemption_place(
                expert=buyer, product_id=product.pk, shipping_address="Bench street 1",
                request_key=f"drop-{buyer.pk}",
            )  # fmt: skip
            outcomes["placed"] += 1
        except ServiceError as error:
            outcomes[error.code] += 1
        finally:
            connection.close()  # one connection per thread, closed with it

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(redeem, buyers))
    wall = time.perf_counter() - started
    product.refresh_from_db()
    holding = Redemption.objects.filter(product=product, status__in=Redemption.HOLDING).count()
    return {
        "wall_seconds": round(wall, 3),
        "outcomes": dict(outcomes),
        "holding": holding,
        "stock_left": product.stock,
    }


def _populate(count: int) -> None:
    """Experts on shift with points, resolved chats and one live chat each."""
    now = timezone.now()
    new = _create_experts(
        count, prefix=f"q{Expert.objects.count()}-", on_shift=True,
        last_seen_at=now, open_chat_count=1,
    )  # fmt: skip
    # Their consoles are open (for the benchmark's length) as far as routing is concerned.
    ConsoleLease.objects.bulk_create(
        ConsoleLease(
            expert=expert, channel_name=f"bench-{expert.pk}", expires_at=now + timedelta(days=1)
        )
        for expert in new
    )
    visitors = Visitor.objects.bulk_create(Visitor() for _ in new)
    Conversation.objects.bulk_create(
        Conversation(
            visitor=v,
            expert=e,
            topic="bench",
            status=status,
            created_at=now,
            queued_at=now,
            assigned_at=now,
            resolved_at=now if status == "resolved" else None,
            rating=5 if status == "resolved" else None,
        )  # fmt: skip
        for e, v in zip(new, visitors, strict=True)
        for status in ("resolved", "active")
    )
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            expert=e, amount=10 + i % 50, kind=EntryKind.ADJUSTMENT, idempotency_key=f"q-{e.pk}"
        )
        for i, e in enumerate(new)
    )
    Account.objects.bulk_create(Account(expert=e, balance=10 + i % 50) for i, e in enumerate(new))


def _count(action) -> int:
    """Queries of the second call: the first also fills per-object and per-process caches."""
    action()
    with CaptureQueriesContext(connection) as queries:
        action()
    return len(queries)


def _count_and_time(action) -> dict[str, float]:
    """`_count`, and the median time of 15 calls after it: the same count can hide a
    scan that grows with the table."""
    count = _count(action)
    timings = []
    for _ in range(15):
        started = time.perf_counter()
        action()
        timings.append(1000 * (time.perf_counter() - started))
    return {"queries": count, "ms": round(statistics.median(timings), 2)}


def _query_counts() -> dict[str, dict[str, float]]:
    from chat.consumers import WidgetConsumer
    from community.consumers import ConsoleConsumer

    expert = Expert.objects.filter(conversations__status="active").first()
    live = Conversation.objects.filter(expert=expert, status="active").first()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(expert.user)
    console = ConsoleConsumer()
    console.expert, console.scope = expert, {}
    returning = WidgetConsumer()
    token = chat_selectors.visitor_token(live.visitor)

    def page() -> None:
        response = client.get("/console/")
        assert response.status_code == 200, response.status_code

    return {
        "console page (GET /console/)": _count_and_time(page),
        "console welcome frame": _count_and_time(console.welcome_data),
        # A new shopper's welcome is one statement on the event loop, which Django does
        # not count: its sync twin is counted here.
        "widget welcome frame, new shopper": _count_and_time(chat_selectors.welcome_availability),
        "widget welcome frame, returning visitor": _count_and_time(
            lambda: (returning.returning_visitor(token), chat_selectors.welcome_availability())
        ),
        "leaderboard frame (points.selectors.leaderboard)": _count_and_time(
            lambda: points_selectors.leaderboard(period="week")
        ),
        "monitor frame (chat.selectors.monitor_snapshot)": _count_and_time(
            chat_selectors.monitor_snapshot
        ),
        "message.send (chat.services.message_post)": _count_and_time(
            lambda: chat_services.message_post(
                conversation_id=live.pk, expert=expert, body="hi", client_id=uuid.uuid4().hex
            )
        ),
        "history frame (chat.selectors.messages_after)": _count_and_time(
            lambda: chat_selectors.messages_after(
                conversation_id=live.pk, last_seq=0, for_customer=False
            )
        ),
        # Its drain runs under the one routing lock: a lone start, an expert free.
        "chat.start (chat.services.conversation_start)": _count_and_time(
            lambda: chat_services.conversation_start(
                visitor=chat_services.visitor_create(network=""), topic="bench"
            )
        ),
    }


def queries(sizes: list[int]) -> dict[str, dict[str, dict[str, float]]]:
    """Queries and time per page and per frame type as the number of experts grows."""
    results: dict[str, dict[str, dict[str, float]]] = {}
    for size in sizes:
        _populate(size - Expert.objects.count())
        with connection.cursor() as cursor:  # the statistics autovacuum keeps on a live site
            cursor.execute("ANALYZE")
        results[str(Expert.objects.count())] = _query_counts()
    return results


# -- catalog search --------------------------------------------------------------------

CATALOG_LINES = (
    "Crusher", "Stride", "Studio", "Aria", "Pulse", "Nomad", "Summit", "Drift",
    "Echo", "Vertex", "Halo", "Tempo", "Canyon", "Ridge", "Breeze", "Orbit",
)  # fmt: skip
CATALOG_MODELS = ("Evo", "Pro", "Lite", "Max", "Mini", "ANC", "Sport", "Air", "Go", "Plus")
CATALOG_KINDS = (
    "Wireless Headphones", "Earbuds", "Speaker", "Charging Case", "Ear Tips", "USB-C Cable",
    "Daypack", "Rain Jacket", "Tent", "Sleeping Bag", "Hiking Boots", "Water Bottle",
)  # fmt: skip
CATALOG_COLOURS = ("black", "white", "sand", "navy", "olive", "red", "grey")


def _catalog_rows(count: int) -> list[tuple[str, str]]:
    """(SKU, name) of `count` products, the same ones on every run: the first 100 of
    the 10,000 are the 100."""
    rows = [
        (
            f"{line[:3]}-{model[:3]}-{k:02d}-{colour[:3]}".upper(),
            f"{line} {model} {kind}, {colour}",
        )
        for line in CATALOG_LINES
        for model in CATALOG_MODELS
        for k, kind in enumerate(CATALOG_KINDS)
        for colour in CATALOG_COLOURS
    ]
    random.Random(17).shuffle(rows)
    return rows[:count]


def _catalog_queries(count: int) -> list[str]:
    """What experts type, as the console sends it (every pause of 150 ms): partial words
    of a name, two words, a SKU prefix, and a few that match nothing."""
    pick, products = random.Random(4), _catalog_rows(10_000)
    queries: list[str] = []
    while len(queries) < count:
        sku, name = pick.choice(products)
        words = name.replace(",", "").split()
        word = pick.choice(words)
        shape = pick.random()
        if shape < 0.5:
            queries.append(word[: pick.randint(2, len(word))].lower())
        elif shape < 0.75:
            first = pick.randrange(len(words) - 1)
            queries.append(f"{words[first]} {words[first + 1][:2]}".lower())
        elif shape < 0.92:
            queries.append(sku[: pick.randint(3, 9)].lower())
        else:
            queries.append(pick.choice(["zq", "xylo", "kettle", "hdmi", "sku-00"]))
    return queries


def _catalog_fill(total: int) -> None:
    have = CatalogProduct.objects.count()
    CatalogProduct.objects.bulk_create(
        CatalogProduct(
            sku=sku,
            name=name,
            price=f"{19 + n % 380}.{n % 100:02d}",
            url=f"https://shop.example/p/{sku.lower()}",
            image_url=f"https://shop.example/img/{sku.lower()}.jpg",
            in_stock=n % 9 != 0,
        )
        for n, (sku, name) in enumerate(_catalog_rows(total)[have:], start=have)
    )
    # What autovacuum does a minute after a feed load: the planner's row estimates.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_catalogproduct")


def _catalog_figures(queries: list[str], expert: Expert) -> dict[str, Any]:
    """The selector's own time (database round trip and ORM, no HTTP) and the queries
    one search over HTTP costs (Django's test client, the product's middleware)."""
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(expert.user)

    def search(query: str) -> None:
        response = client.get("/console/catalog/search/", {"q": query})
        assert response.status_code == 200, response.status_code

    for query in queries[:50]:
        catalog_search(query=query)
    timings = []
    for query in queries:
        started = time.perf_counter()
        catalog_search(query=query)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    counts = {_count(lambda q=q: search(q)) for q in queries[:5]}
    return {
        "selector_p50_ms": round(timings[len(timings) // 2], 2),
        "selector_p99_ms": round(timings[int(len(timings) * 0.99)], 2),
        "queries_per_search": max(counts),
        "queries_per_search_flat_over_queries": len(counts) == 1,
    }


def catalog(products: int, experts: int, queries: int, drop_indexes: bool = False):
    """Grow the catalog to `products` and measure; `drop_indexes` first drops the
    search indexes of catalog/migrations/0002 (the baseline: the same query, a plain
    scan). Also makes the experts who search over HTTP: many, as the type-ahead is
    limited per expert."""
    _catalog_fill(products)
    if drop_indexes:
        with connection.cursor() as cursor:
            for index in ("catalog_name_trgm", "catalog_sku_prefix", "catalog_in_stock_first"):
                cursor.execute(f"DROP INDEX {index}")
            cursor.execute("ANALYZE catalog_catalogproduct")
    searchers = _create_experts(experts, prefix=f"cat{products}{drop_indexes:d}-")
    wanted = _catalog_queries(queries)
    return {
        "products": CatalogProduct.objects.count(),
        "cookies": [_session_cookie(e.user) for e in searchers],
        "queries": wanted,
        **_catalog_figures(wanted, searchers[0]),
    }


def main() -> None:
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    spec = json.loads(os.environ["BENCH_TASK"])
    result = globals()[spec["name"]](**spec["args"])
    print("BENCH_RESULT " + json.dumps(result), flush=True)
