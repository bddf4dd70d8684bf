"""Times in the browser: the widget tells a customer abroad when the next expert comes
in their own time; expert pages keep the brand's time whatever the expert's computer
says."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import log_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

# 09:00 UTC in winter: 10:00 in Amsterdam, 04:00 in New York.
YEAR = datetime.now(UTC).year + 1
WINTER_MORNING = datetime(YEAR, 1, 15, 9, 0, tzinfo=UTC)


def test_the_offline_form_says_when_the_next_expert_comes_in_the_customers_time(
    browser, shop_url, make_expert_account, screenshot_dir
):
    """Before: "Friday 15 January, 10:00", Amsterdam time, to a shopper in New York."""
    from community.models import ShiftSlot

    anna = make_expert_account()
    slot = ShiftSlot.objects.create(
        starts_at=WINTER_MORNING, ends_at=WINTER_MORNING + timedelta(hours=4)
    )
    slot.experts.add(anna)
    for locale, words in (("en-US", "04:00 AM"), ("nl-NL", "04:00")):
        context = browser.new_context(
            timezone_id="America/New_York", locale=locale, viewport={"width": 390, "height": 844}
        )
        page = context.new_page()
        page.goto(shop_url)
        page.get_by_test_id("launcher").click()
        note = page.get_by_test_id("offline-next")
        expect(note).to_contain_text(words)
        expect(note).to_contain_text("January" if locale == "en-US" else "januari")
        expect(note).not_to_contain_text("10:00")
        expect(note).to_contain_text("(your time)" if locale == "en-US" else "15")
        context.close()


def test_an_experts_pages_keep_brand_time_on_a_computer_set_elsewhere(
    browser, live_server_url, make_expert_account
):
    """Before: the console wrote times in the computer's zone (04:00 here)."""
    from chat.models import Conversation, Message, Visitor

    anna = make_expert_account()
    chat = Conversation.objects.create(
        visitor=Visitor.objects.create(name="Sam"),
        topic="Which earbuds for running?",
        status=Conversation.Status.RESOLVED,
        expert=anna,
        created_at=WINTER_MORNING,
        assigned_at=WINTER_MORNING,
        resolved_at=WINTER_MORNING + timedelta(minutes=20),
        last_seq=1,
    )
    Message.objects.create(conversation=chat, seq=1, sender="customer", body="Hi")
    page = browser.new_context(timezone_id="America/New_York").new_page()
    log_in(page, live_server_url, "anna@shop.test")
    page.goto(f"{live_server_url}/console/chats/{chat.pk}/")
    started = page.locator(f'time[data-local][datetime^="{YEAR}-01-15"]').first
    expect(started).to_contain_text("10:00")
    assert page.evaluate("document.documentElement.dataset.timeZone") == "Europe/Amsterdam"
