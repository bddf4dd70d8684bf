"""The shop reports orders, signed; an order within the window after a chat counts
for that chat and its expert, once, and shows in the staff metrics."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from backoffice import metrics
from chat import services as chat_services
from sales.models import Order

pytestmark = pytest.mark.django_db
SECRET = "shop-secret-123"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.ORDER_WEBHOOK_SECRET = SECRET
    settings.ORDER_ATTRIBUTION_DAYS = 7


@pytest.fixture
def chat(make_expert, make_visitor):
    expert = make_expert(name="Anna de Vries")
    return chat_services.conversation_start(visitor=make_visitor(), topic="Earbuds?"), expert


def report(client, payload, *, secret=SECRET, signature=None):
    body = json.dumps(payload).encode()
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        "/api/orders/",
        body,
        content_type="application/json",
        HTTP_X_SIGNATURE=signature if signature is not None else f"sha256={digest}",
    )


def order(chat_id, **fields):
    return {
        "order_id": "NW-1001",
        "amount": "149.00",
        "currency": "EUR",
        "ordered_at": (timezone.now() + timedelta(hours=2)).isoformat(),
        "chat_id": chat_id,
        **fields,
    }


def test_an_order_after_a_chat_counts_for_the_chat_and_its_expert_once(client, chat):
    conversation, expert = chat
    first = report(client, order(conversation.pk))
    again = report(client, order(conversation.pk))  # the shop retries
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == {"order_id": "NW-1001", "attributed": True}
    stored = Order.objects.get()
    assert (stored.conversation_id, stored.expert_id) == (conversation.pk, expert.pk)
    figures = metrics.service_metrics(metrics.period_ending_today(30))
    assert (figures["orders_attributed"], figures["assisted_revenue"]) == (1, 149)
    [anna] = [row for row in figures["experts"] if row["name"] == "Anna de Vries"]
    assert anna["revenue"] == 149


def test_an_order_outside_the_window_or_for_no_chat_is_kept_but_counts_for_nobody(client, chat):
    conversation, _expert = chat
    late = (timezone.now() + timedelta(days=8)).isoformat()
    assert report(client, order(conversation.pk, ordered_at=late)).json()["attributed"] is False
    assert report(client, order(None, order_id="NW-1002")).json()["attributed"] is False
    assert report(client, order(999_999, order_id="NW-1003")).json()["attributed"] is False
    assert Order.objects.filter(conversation__isnull=True).count() == 3


@pytest.mark.parametrize("signature", ["", "sha256=00", "md5=abc"])
def test_an_unsigned_or_forged_report_is_refused_and_stores_nothing(client, chat, signature):
    answer = report(client, order(chat[0].pk), signature=signature)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "bad_signature"
    assert report(client, order(chat[0].pk), secret="guessed").status_code == 401
    assert not Order.objects.exists()


def test_no_secret_configured_means_no_report_is_accepted(client, chat, settings):
    settings.ORDER_WEBHOOK_SECRET = ""
    assert report(client, order(chat[0].pk), secret="").status_code == 401


def test_bad_figures_and_a_changed_order_are_refused_clearly(client, chat):
    bad = report(client, order(chat[0].pk, amount="lots", currency="EURO"))
    assert bad.status_code == 400
    assert "amount" in bad.json()["error"]["message"]
    assert "currency" in bad.json()["error"]["message"]
    report(client, order(chat[0].pk))
    changed = report(client, order(chat[0].pk, amount="1.00"))
    assert changed.status_code == 409 and changed.json()["error"]["code"] == "conflict"
    assert Order.objects.get().amount == 149


def test_a_shop_over_its_limit_is_told_when_to_retry(client, chat, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api.orders": "1/60"}
    assert report(client, order(chat[0].pk)).status_code == 201
    refused = report(client, order(chat[0].pk, order_id="NW-1002"))
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert Order.objects.count() == 1
