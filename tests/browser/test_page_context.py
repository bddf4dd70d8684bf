"""The expert sees which shop page the customer is on, and the pages they moved
through during the chat (issue 17, context for the expert)."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import PASSWORD, log_in, start_chat

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_the_console_shows_the_page_and_product_the_customer_looks_at(
    browser, live_server_url, shop_url, django_user_model, screenshot_dir
):
    from community.models import Expert

    user = django_user_model.objects.create_user(
        username="anna@shop.test", email="anna@shop.test", password=PASSWORD
    )
    Expert.objects.create(user=user, display_name="Anna de Vries")
    console = browser.new_context(viewport={"width": 1366, "height": 850}).new_page()
    log_in(console, live_server_url, "anna@shop.test")
    console.goto(f"{live_server_url}/console/")
    console.get_by_test_id("shift-toggle").click()
    expect(console.get_by_test_id("shift-toggle")).to_have_attribute("aria-checked", "true")

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
