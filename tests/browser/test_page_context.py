"""The expert sees which shop page the customer is on, and the pages they moved
through during the chat (issue 17, context for the expert)."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import go_on_shift, log_in, start_chat

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_the_console_shows_the_page_and_product_the_customer_looks_at(
    browser, live_server_url, shop_url, make_expert_account, screenshot_dir
):
    make_expert_account()
    console = browser.new_context(viewport={"width": 1366, "height": 850}).new_page()
    log_in(console, live_server_url, "anna@shop.test")
    go_on_shift(console, live_server_url)

    shopper = browser.new_context().new_page()
    start_chat(shopper, f"{shop_url}?product=STR-BUDS", "Do these stay in?", "Sam")
    pane = console.get_by_test_id("chat-pane").first
    expect(pane.get_by_test_id("pane-page")).to_be_visible(timeout=10_000)
    expect(pane.get_by_test_id("pane-page-title")).to_have_text("STR-BUDS · Other shop")
    expect(pane.get_by_test_id("pane-page")).to_contain_text("STR-BUDS")

    # The shopper opens another product page during the chat: the pane follows live.
    shopper.get_by_test_id("product-link").first.click()
    expect(pane.get_by_test_id("pane-page-title")).to_contain_text("AUR-ANC2", timeout=10_000)
    pane.get_by_test_id("pane-page").locator("summary").click()
    trail = pane.get_by_test_id("pane-trail").locator("li")
    expect(trail).to_have_count(2)
    expect(trail.first).to_contain_text("AUR-ANC2")
    expect(trail.first.locator("a")).to_have_attribute("href", f"{shop_url}?product=AUR-ANC2")
    expect(trail.last).to_contain_text("STR-BUDS")
    console.screenshot(path=screenshot_dir / "console-page-context.png")


def test_a_returning_customers_earlier_chats_are_on_the_pane(
    browser, live_server_url, shop_url, make_expert_account, screenshot_dir
):
    """So the next expert does not ask again: topic, when, who, the summary, the rating."""
    from datetime import timedelta

    from django.utils import timezone

    from chat.models import Conversation

    # On shift but not at the console yet: the chat waits until she opens it.
    anna = make_expert_account(on_shift=True)
    shopper = browser.new_context().new_page()
    start_chat(shopper, shop_url, "The left earbud crackles", "Sam")
    expect(shopper.get_by_test_id("queue-position")).to_be_visible(timeout=10_000)
    visitor = Conversation.objects.get(topic="The left earbud crackles").visitor
    Conversation.objects.create(
        visitor=visitor,
        expert=anna,
        topic="Which ear tips for small ears?",
        status=Conversation.Status.RESOLVED,
        resolution_summary="Size S tips, sent a link",
        rating=5,
        created_at=timezone.now() - timedelta(days=3),
    )

    console = browser.new_context(viewport={"width": 1366, "height": 850}).new_page()
    log_in(console, live_server_url, "anna@shop.test")
    console.goto(f"{live_server_url}/console/")
    pane = console.get_by_test_id("chat-pane").first
    earlier = pane.get_by_test_id("pane-earlier")
    expect(earlier).to_be_visible(timeout=10_000)
    earlier.locator("summary").click()
    chat = earlier.get_by_test_id("earlier-chat")
    expect(chat).to_have_count(1)
    expect(chat).to_contain_text("Which ear tips for small ears?")
    expect(chat).to_contain_text("Size S tips, sent a link")
    expect(chat).to_contain_text("★★★★★")
    console.screenshot(path=screenshot_dir / "console-earlier-chats.png")
