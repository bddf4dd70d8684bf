"""An expert whose chat led to an order sees the award in their points history, at
desktop and phone widths, once the order's return window has passed."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.helpers import log_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_the_award_is_in_the_experts_points_history(
    browser, live_server_url, make_expert, settings, screenshot_dir
):
    from chat import services as chat_services
    from chat.models import Conversation, Visitor
    from points import services
    from sales.services import order_record

    settings.POINTS_ASSISTED_SALE = 25
    expert = make_expert(name="Anna de Vries")  # on shift: the chat goes to her
    chat = chat_services.conversation_start(visitor=Visitor.objects.create(), topic="Earbuds?")
    # The order came an hour after the chat, and its 30 days ended an hour ago.
    started = timezone.now() - timedelta(days=30, hours=2)
    Conversation.objects.filter(pk=chat.pk).update(created_at=started)
    order_record(
        order_id="NW-1001", amount="149.00", currency="EUR",
        ordered_at=started + timedelta(hours=1), chat_id=chat.pk,
    )  # fmt: skip
    assert services.points_award_for_assisted_sales() == 1

    for size, viewport in (("desktop", (1366, 850)), ("phone", (390, 844))):
        page = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}
        ).new_page()
        log_in(page, live_server_url, expert.user.email)
        page.goto(f"{live_server_url}/console/points/")
        row = page.locator('[data-testid=ledger-entry][data-kind="assisted_sale"]')
        expect(row).to_contain_text("Chat-assisted sale")
        expect(row).to_contain_text(f"Order NW-1001 after chat #{chat.pk}")
        expect(row).to_contain_text("+25")
        expect(page.get_by_test_id("balance")).to_have_text("25")
        page.screenshot(path=screenshot_dir / f"points-assisted-sale-{size}.png")
        page.context.close()
