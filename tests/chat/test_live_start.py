"""A widget's `chat.start` on its event loop (conversation_start_live): the same rules
as `conversation_start`, written in one transaction on an async connection, and the
queue served afterwards by drains the starts of one process share. Real PostgreSQL."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections

from catalog.models import CatalogProduct
from chat import selectors, services
from chat.models import Conversation, Message, Visitor
from config.errors import ServiceError
from realtime import async_db

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.fail("the event-loop start needs PostgreSQL (set DATABASE_URL)")


def start_live(**arguments) -> Conversation:
    return asyncio.run(services.conversation_start_live(**arguments))


def refusal(**arguments) -> ServiceError:
    with pytest.raises(ServiceError) as refused:
        start_live(**arguments)
    return refused.value


def test_a_burst_on_one_socket_loop_is_served_first_come_first_served_within_the_cap(
    make_expert,
):
    """Thirty customers of one process at once, three experts: the nine queued first
    are served, and each customer's reply already says whether they were."""
    experts = [make_expert(name=f"E{n}") for n in range(3)]
    visitors = [Visitor.objects.create(name=f"v{n}") for n in range(30)]

    async def burst():
        return await asyncio.gather(
            *(
                services.conversation_start_live(visitor=v, topic=f"q{n}")
                for n, v in enumerate(visitors)
            )
        )

    replies = {c.pk: c for c in asyncio.run(burst())}

    queue = list(Conversation.objects.order_by("queued_at", "pk"))
    assert [c.status for c in queue] == ["active"] * 9 + ["waiting"] * 21
    assert [replies[c.pk].status for c in queue] == [c.status for c in queue]
    assert all(replies[c.pk].expert_id == c.expert_id for c in queue)
    for expert in experts:
        expert.refresh_from_db()
        assert expert.open_chat_count == 3
    for chat in queue:
        lines = list(chat.messages.order_by("seq").values_list("seq", "sender", "body"))
        assert lines[0] == (1, "customer", chat.topic)
        assert chat.last_seq == len(lines)
    events = queue[0].messages.order_by("seq").values_list("system_event", flat=True)
    assert list(events) == ["", "joined"]


def test_thread_and_loop_starts_of_one_visitor_at_once_open_one_chat(make_expert):
    """Both paths take the same visitor lock: a double click that reaches two
    processes, or a socket and a page, still opens one chat."""
    make_expert()
    visitor = Visitor.objects.create()

    def thread_start():
        try:
            return services.conversation_start(visitor=visitor, topic="hi")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(thread_start) for _ in range(4)]
        futures += [pool.submit(start_live, visitor=visitor, topic="hi") for _ in range(4)]
        started = {f.result().pk for f in futures}

    assert len(started) == 1
    assert Conversation.objects.filter(visitor=visitor).count() == 1
    assert Message.objects.filter(sender="customer").count() == 1


def test_a_refused_start_writes_nothing(settings):
    """The network's limit is counted before the transaction: its refusal leaves no
    chat, no message and no new name."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "widget.chat": "1/3600"}
    first, second = Visitor.objects.create(), Visitor.objects.create(name="Old")
    start_live(visitor=first, topic="q", network="198.51.100.7")

    refused = refusal(
        visitor=second, topic="q", name="New", email="new@example.com", network="198.51.100.7"
    )

    assert refused.code == "rate_limited"
    assert not Conversation.objects.filter(visitor=second).exists()
    assert Message.objects.count() == 1
    second.refresh_from_db()
    assert (second.name, second.email) == ("Old", "")


def test_starts_that_start_nothing_do_not_use_up_the_networks_chat_limit(settings):
    """The limit is counted before the transaction and given back when no chat comes
    of it: a double click (the open chat again), a start refused by the cap on
    waiting chats, or one for a visitor erased meanwhile."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "widget.chat": "2/3600"}
    settings.CHAT_MAX_WAITING_PER_NETWORK = 1
    network = "198.51.100.8"
    customer = Visitor.objects.create()
    first = start_live(visitor=customer, topic="q", network=network)
    for _ in range(3):
        assert start_live(visitor=customer, topic="again", network=network).pk == first.pk
    assert refusal(visitor=Visitor.objects.create(), topic="q", network=network).code == (
        "rate_limited"  # the network's one waiting chat
    )
    erased = Visitor.objects.create()
    Visitor.objects.filter(pk=erased.pk).delete()
    assert refusal(visitor=erased, topic="q", network=network).code == "not_found"

    services.conversation_leave(conversation_id=first.pk, visitor=customer)
    other = Visitor.objects.create()
    second = start_live(visitor=other, topic="q", network=network)
    services.conversation_leave(conversation_id=second.pk, visitor=other)

    assert second.pk != first.pk
    refused = refusal(visitor=Visitor.objects.create(), topic="q", network=network)
    assert refused.message.startswith("Too many attempts from your network")  # two counted


def test_the_visitor_hourly_limit_says_when_to_try_again(settings):
    settings.CHAT_NEW_CHATS_PER_VISITOR_PER_HOUR = 2
    visitor = Visitor.objects.create()
    for _ in range(2):
        chat = start_live(visitor=visitor, topic="q")
        services.conversation_leave(conversation_id=chat.pk, visitor=visitor)

    refused = refusal(visitor=visitor, topic="q")

    assert refused.code == "rate_limited"
    assert 3590 <= refused.retry_after <= 3600
    assert "You started many chats" in refused.message
    assert Conversation.objects.filter(visitor=visitor).count() == 2


def test_the_network_cap_on_waiting_chats_holds_and_other_networks_still_start(settings):
    settings.CHAT_MAX_WAITING_PER_NETWORK = 2
    for _ in range(2):
        start_live(visitor=Visitor.objects.create(), topic="q", network="203.0.113.9")

    refused = refusal(visitor=Visitor.objects.create(), topic="q", network="203.0.113.9")
    other = start_live(visitor=Visitor.objects.create(), topic="q", network="203.0.113.10")

    assert refused.code == "rate_limited"
    assert refused.retry_after == settings.CHAT_ABANDON_AFTER_SECONDS
    assert other.status == "waiting"
    assert Conversation.objects.filter(customer_network="203.0.113.9").count() == 2


def test_a_start_keeps_the_name_and_email_given_and_returns_the_open_chat_after(make_expert):
    make_expert()
    visitor = Visitor.objects.create()

    chat = start_live(visitor=visitor, topic="Which size?", name="Ann", email="ann@example.com")
    again = start_live(visitor=visitor, topic="hello?", name="Bob")

    assert again.pk == chat.pk and chat.status == "active"
    assert chat.topic == "Which size?" and Message.objects.count() == 2  # + "joined"
    visitor.refresh_from_db()
    assert (visitor.name, visitor.email) == ("Ann", "ann@example.com")


@pytest.mark.parametrize(
    ("fields", "code"),
    [({"topic": "   "}, "bad_field"), ({"topic": "q", "email": "not-an-address"}, "bad_field")],
)
def test_bad_fields_are_refused_before_anything_is_written(fields, code):
    assert refusal(visitor=Visitor.objects.create(), **fields).code == code
    assert not Conversation.objects.exists()


def test_a_visitor_erased_meanwhile_gets_a_clear_error():
    visitor = Visitor.objects.create()
    Visitor.objects.filter(pk=visitor.pk).delete()
    assert refusal(visitor=visitor, topic="q").code == "not_found"
    assert not Conversation.objects.exists()


def test_the_history_a_socket_reads_on_its_loop_is_what_the_thread_reads(make_expert):
    """Each widget and console that follows a new chat reads its history; on the
    event loop it must show the same lines, authors, whispers and hidden placeholders."""
    expert = make_expert(name="Jo Expert")
    staff = get_user_model().objects.create_user(
        username="staff@test.example", first_name="Sam", last_name="Staff", is_staff=True
    )
    visitor = Visitor.objects.create(name="Ann")
    chat = services.conversation_start(visitor=visitor, topic="Which size?")
    services.message_post(conversation_id=chat.pk, expert=expert, body="Size M", client_id="e1")
    services.message_post(conversation_id=chat.pk, visitor=visitor, body="rude", client_id="c1")
    services.staff_whisper(conversation_id=chat.pk, staff_member=staff, body="careful")
    services.message_hide(conversation_id=chat.pk, seq=4, staff_member=staff, reason="rude")
    CatalogProduct.objects.create(
        sku="STR-BUDS", name="Stride Buds", price="149.00", url="https://shop.example/p/stride"
    )
    services.message_post(
        conversation_id=chat.pk, expert=expert, body="", client_id="e2", product="STR-BUDS"
    )

    for reader in (True, False):
        arguments = {"conversation_id": chat.pk, "last_seq": 0, "for_customer": reader}
        live = asyncio.run(selectors.messages_after_live(**arguments))
        assert live == selectors.messages_after(**arguments)
        authors = {line["author"] for line in live}
        assert "Jo Expert" in authors and (reader or "Sam Staff" in authors)
        assert any(line.get("hidden") for line in live)
        assert live[-1]["card"]["name"] == "Stride Buds"


def test_a_start_on_connections_the_database_dropped_begins_on_a_new_one(make_expert):
    """After a database restart the idle connections are gone: the start's first
    round trip finds out, and it runs again on a new connection, once."""
    make_expert()
    visitors = [Visitor.objects.create() for _ in range(2)]

    async def two_starts_with_a_restart_between():
        first = await services.conversation_start_live(visitor=visitors[0], topic="q")
        idle = async_db._per_loop[asyncio.get_running_loop()].idle
        _, killer = await async_db._connect()
        await killer.execute(
            "SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid",
            [[conn.info.backend_pid for _, conn in idle]],
        )
        await killer.close()
        second = await services.conversation_start_live(visitor=visitors[1], topic="q")
        return first, second

    first, second = asyncio.run(two_starts_with_a_restart_between())

    assert first.status == second.status == "active"
    assert Conversation.objects.count() == 2


def test_a_chat_whose_process_died_before_its_drain_is_served_by_the_presence_job(make_expert):
    """The start committed, then its Daphne died before the drain: the chat would wait,
    unstamped, until someone else's chat changed the queue."""
    from datetime import timedelta

    from django.utils import timezone

    from chat.jobs import presence_heal

    expert = make_expert(name="Anna")
    long_ago = timezone.now() - timedelta(seconds=30)
    orphan = Conversation.objects.create(
        visitor=Visitor.objects.create(),
        topic="Is the strap replaceable?",
        created_at=long_ago,
        queued_at=long_ago,  # as conversation_start_live commits it, for a drain to stamp
        customer_seen_at=timezone.now(),
    )

    assert presence_heal.call() == {"started chats no drain served": 1}

    orphan.refresh_from_db()
    assert (orphan.status, orphan.expert_id) == ("active", expert.pk)
    assert presence_heal.call() == {}
