"""Payloads in every field people can type into come back escaped on every page."""

import pytest
from django.utils.html import escape

from chat import services as chat_services
from chat.models import Visitor
from community import services as community_services
from points import services as points_services
from rewards import services as rewards_services
from rewards.models import Product
from tests.conftest import create_staff

pytestmark = pytest.mark.django_db

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ESCAPED = escape(PAYLOAD)  # &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img ...


def test_payloads_render_as_text_on_every_page(client, make_expert):
    staff = create_staff(username="boss")
    expert = make_expert(name=f"Anna {PAYLOAD}")
    visitor = Visitor.objects.create(name=f"Sam {PAYLOAD}", email="sam@example.com")
    chat = chat_services.conversation_start(visitor=visitor, topic=f"Topic {PAYLOAD}")
    chat_services.message_post(
        conversation_id=chat.pk, visitor=visitor, body=PAYLOAD, client_id="c"
    )
    chat_services.message_post(
        conversation_id=chat.pk, expert=expert, body=f"Answer {PAYLOAD}", client_id="e"
    )
    chat_services.message_report(conversation_id=chat.pk, seq=4, visitor=visitor, reason=PAYLOAD)
    chat_services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary=PAYLOAD)
    chat_services.followup_send(conversation_id=chat.pk, expert=expert, body=f"Follow-up {PAYLOAD}")
    chat_services.offline_message_leave(
        visitor=visitor, name=PAYLOAD, email="o@example.com", body=PAYLOAD
    )
    points_services.points_adjust(
        expert=expert, amount=500, reason=PAYLOAD, staff_member=staff, idempotency_key="k"
    )
    product = Product.objects.create(
        name=f"Cap {PAYLOAD}", description=PAYLOAD, points_cost=10, stock=5
    )
    redemption = rewards_services.redemption_place(
        expert=expert, product_id=product.pk, shipping_address=PAYLOAD, request_key="r"
    )
    rewards_services.redemption_reject(
        redemption_id=redemption.pk, staff_member=staff, reason=PAYLOAD
    )
    community_services.application_submit(
        name=f"Noor {PAYLOAD}",
        email="noor@example.com",
        motivation=PAYLOAD,
        product_areas=PAYLOAD,
        availability=PAYLOAD,
    )
    community_services.expert_suspend(expert=expert, staff_member=staff, reason=PAYLOAD)
    community_services.expert_reinstate(expert=expert, staff_member=staff, reason=PAYLOAD)

    pages = {
        expert.user: [
            "/console/",
            f"/console/chats/{chat.pk}/",
            "/console/points/",
            "/console/shop/",
            "/console/shifts/",
        ],
        staff: [
            "/staff/",
            "/staff/experts/",
            "/staff/reports/",
            "/staff/audit/",
            "/staff/applications/",
            "/staff/redemptions/?status=rejected",
            "/staff/metrics/",
            "/staff/leaderboard/",
        ],
    }
    # Filled over /ws/staff/ once open: the page itself names nobody.
    filled_by_the_socket = {"/staff/leaderboard/"}
    for user, urls in pages.items():
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url  # an error page has no payload to escape
            html = response.content.decode()
            assert "<script>alert" not in html and "<img src=x" not in html, url
            # And the payloads are there, as text, where they belong.
            if url not in filled_by_the_socket:
                assert ESCAPED in html, url
