"""An expert finds a product in the catalog and drops its card into the chat; the
customer's widget shows it as a card whose link names the chat."""

import time

import pytest
from playwright.sync_api import expect

from config.limits import limit_retry_after
from tests.browser.helpers import PASSWORD, go_on_shift, log_in, start_chat
from tests.conftest import create_staff

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_product_card_reaches_the_customer(
    browser, live_server_url, shop_url, make_expert_account, screenshot_dir
):
    from catalog.models import CatalogProduct
    from chat.models import Conversation

    for sku, name in (("STR-BUDS", "Stride Buds"), ("STR-TIPS-S", "Stride ear tips, size S")):
        CatalogProduct.objects.create(
            sku=sku, name=name, price="149.00", url=f"https://shop.example/p/{sku}"
        )
    anna = make_expert_account()
    console = browser.new_context(viewport={"width": 1366, "height": 850}).new_page()
    log_in(console, live_server_url, "anna@shop.test")
    go_on_shift(console, live_server_url)

    shopper = browser.new_context(
        viewport={"width": 390, "height": 844}, reduced_motion="reduce"
    ).new_page()  # a still screenshot, not one mid fade-in
    start_chat(shopper, shop_url, "Earbuds that stay in while running?", "Sam")
    pane = console.get_by_test_id("chat-pane").first
    pane.get_by_test_id("product-button").click()
    pane.get_by_test_id("product-query").fill("stride")
    results = pane.get_by_test_id("product-result")
    expect(results).to_have_count(2)
    console.screenshot(path=screenshot_dir / "console-product-search.png")
    results.first.click()
    sent = pane.get_by_test_id("product-card-link")
    expect(sent).to_have_count(1)
    card = shopper.get_by_test_id("product-card")
    expect(card).to_contain_text("Stride", timeout=5_000)
    expect(card).to_contain_text("149")
    chat_id = Conversation.objects.get(topic="Earbuds that stay in while running?").pk
    expect(card).to_have_attribute("href", f"https://shop.example/p/STR-BUDS?bx_chat={chat_id}")
    shopper.screenshot(path=screenshot_dir / "widget-product-card.png")

    # With the minute's searches used up, the expert reads why nothing was found.
    if time.time() % 60 > 55:  # the limit counts per clock minute: not its last seconds
        time.sleep(60.1 - time.time() % 60)
    limit_retry_after("expert.catalog", str(anna.pk), cost=120)
    pane.get_by_test_id("product-button").click()
    pane.get_by_test_id("product-query").fill("tips")
    expect(pane.get_by_test_id("composer-error")).to_contain_text(
        "You searched the catalog many times in a short time."
    )
    expect(results).to_have_count(0)

    # Staff watching the chat see the card too, not its text.
    create_staff(username="lead@shop.test", email="lead@shop.test", password=PASSWORD)
    monitor = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    log_in(monitor, live_server_url, "lead@shop.test")
    monitor.goto(f"{live_server_url}/staff/monitor/")
    monitor.get_by_test_id("monitor-chat").first.click()
    shown = monitor.get_by_test_id("chat-view-messages").locator(".msg__card a")
    expect(shown).to_have_text("Stride Buds")
    expect(shown).to_have_attribute("href", f"https://shop.example/p/STR-BUDS?bx_chat={chat_id}")
