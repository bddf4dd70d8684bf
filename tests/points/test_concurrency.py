"""Awards under real parallel transactions on PostgreSQL."""

import pytest
from django.db import connection

from chat import services as chat_services
from chat.models import Visitor
from points import selectors, services
from points.models import LedgerEntry
from tests.chat.test_concurrency import run_in_parallel

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.fail("concurrency tests need PostgreSQL (set DATABASE_URL)")


def test_twenty_concurrent_resolves_of_one_chat_award_once(make_expert):
    expert = make_expert()
    chat = chat_services.conversation_start(visitor=Visitor.objects.create(), topic="Pairing")
    chat_services.message_post(
        conversation_id=chat.pk,
        expert=expert,
        body="Hold both buttons ten seconds, then pair.",
        client_id="a",
    )

    def resolve():
        try:
            chat_services.conversation_resolve(
                conversation_id=chat.pk, expert=expert, summary="done"
            )
            return "resolved"
        except Exception as error:  # noqa: BLE001 - the losers get a refusal
            return getattr(error, "code", repr(error))

    outcomes = run_in_parallel([resolve] * 20)
    assert outcomes.count("resolved") == 1 and outcomes.count("chat_closed") == 19
    assert LedgerEntry.objects.filter(kind="chat_resolved").count() == 1
    assert selectors.balance(expert=expert) == 10


def test_twenty_concurrent_awards_from_one_source_award_once(make_expert):
    """Retries of the award itself (not only of resolve) are idempotent."""
    expert = make_expert()
    chat = chat_services.conversation_start(visitor=Visitor.objects.create(), topic="Pairing")
    chat_services.message_post(
        conversation_id=chat.pk,
        expert=expert,
        body="Hold both buttons ten seconds, then pair.",
        client_id="a",
    )
    chat_services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="done")
    chat.refresh_from_db()
    run_in_parallel([lambda: services.points_award_for_resolved_chat(conversation=chat)] * 20)
    assert LedgerEntry.objects.filter(kind="chat_resolved").count() == 1
    assert selectors.balance(expert=expert) == 10


def test_parallel_awards_to_one_expert_all_count(make_expert, django_user_model):
    expert = make_expert()
    staff = django_user_model.objects.create_user(username="staff", is_staff=True)
    run_in_parallel(
        [
            lambda n=n: services.points_adjust(
                expert=expert, amount=n, reason="bonus", staff_member=staff, idempotency_key=f"k{n}"
            )
            for n in range(1, 31)
        ]
    )
    assert selectors.balance(expert=expert) == sum(range(1, 31))
    assert selectors.audit_mismatches() == []
