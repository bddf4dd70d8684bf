"""A shopper opens the widget and chats with an expert, another only looks; the shop's
checkout carries BrandChat.attribution() to its server, which reports the order with a
signed call; staff see the conversion of chatted vs not-chatted shoppers, in English
at desktop width and in Dutch on a phone."""

import hashlib
import hmac
import json
import re
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ORDER_WEBHOOK_SECRET
from tests.browser.helpers import PASSWORD, go_on_shift, log_in, open_widget, start_chat
from tests.conftest import create_staff

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def report_order(base_url: str, order: dict) -> dict:
    """What the shop's server does at checkout (docs/integration.md)."""
    body = json.dumps(order).encode()
    signature = hmac.new(ORDER_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        f"{base_url}/api/orders/",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-Signature": f"sha256={signature}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def wait_for_count(queryset, count: int, timeout: float = 10) -> int:
    """The widget's frames are handled by the server process while the test goes on."""
    deadline = time.monotonic() + timeout
    while (found := queryset.count()) != count and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def test_staff_see_that_the_shopper_who_chatted_ordered_and_the_one_who_looked_did_not(
    browser, live_server_url, shop_url, make_expert_account, screenshot_dir
):
    from chat.models import Conversation
    from sales.models import Order, WidgetOpen

    make_expert_account()
    console = browser.new_context(viewport={"width": 1366, "height": 850}).new_page()
    log_in(console, live_server_url, "anna@shop.test")
    go_on_shift(console, live_server_url)

    looker = browser.new_context(viewport={"width": 1366, "height": 850}).new_page()
    open_widget(looker, shop_url)
    expect(looker.get_by_test_id("prechat-form")).to_be_visible()
    shopper = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    start_chat(shopper, shop_url, "Earbuds that stay in while running?", "Sam")
    expect(shopper.get_by_test_id("panel-title")).to_have_text("Anna de Vries")
    expect(console.get_by_test_id("chat-pane")).to_have_count(1)
    assert wait_for_count(WidgetOpen.objects.all(), 2) == 2
    assert wait_for_count(WidgetOpen.objects.filter(conversation__isnull=False), 1) == 1

    # The checkout page hands the attribution to the shop's server: never the token.
    attribution = shopper.evaluate("BrandChat.attribution()")
    token = shopper.evaluate("localStorage.getItem('bx.visitor')")
    chat = Conversation.objects.get()
    assert attribution["chat"] == chat.pk
    assert token and token not in json.dumps(attribution)
    assert looker.evaluate("BrandChat.attribution()")["chat"] is None
    answer = report_order(
        live_server_url,
        {
            "order_id": "SHOP-7001",
            "amount": "149.00",
            "currency": "EUR",
            "ordered_at": chat.created_at.isoformat(),
            "chat_id": attribution["chat"],
            "visitor_ref": attribution["ref"],
        },
    )
    assert answer == {"order_id": "SHOP-7001", "attributed": True}
    assert Order.objects.get().expert.display_name == "Anna de Vries"

    create_staff(username="lead@shop.test", email="lead@shop.test", password=PASSWORD)
    desktop = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    page = desktop.new_page()
    log_in(page, live_server_url, "lead@shop.test")
    page.goto(f"{live_server_url}/staff/metrics/?days=7")
    tile = page.get_by_test_id("metric-conversion")
    expect(tile.locator(".stat__value")).to_have_text("100% vs 0%")
    expect(page.get_by_test_id("metric-conversion-counts")).to_have_text(
        "Chatted: 1 of 1 ordered. Not chatted: 0 of 1."
    )
    expect(tile).to_contain_text("within 7 days of opening it")
    expect(page.get_by_test_id("expert-conversion")).to_have_text("1 of 1 (100%)")
    expect(page.get_by_test_id("metric-sales")).to_contain_text("149 EUR")
    tile.screenshot(path=screenshot_dir / "staff-metrics-conversion-tile-en.png")

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="nl-NL")
    page = phone.new_page()
    log_in(page, live_server_url, "lead@shop.test")
    page.goto(f"{live_server_url}/staff/metrics/?days=7")
    expect(page.locator("h1")).to_have_text("Servicecijfers")
    tile = page.get_by_test_id("metric-conversion")
    expect(tile.locator(".stat__value")).to_have_text("100% vs 0%")
    expect(page.get_by_test_id("metric-conversion-counts")).to_contain_text("1")
    box = tile.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # no sideways scrolling
    expect(page.get_by_test_id("expert-conversion")).to_contain_text("(100%)")
    page.screenshot(path=screenshot_dir / "staff-metrics-conversion-390-nl.png", full_page=True)


@pytest.mark.parametrize("width", [1366, 390])
def test_the_metrics_page_with_demo_data_shows_believable_conversion(
    browser, live_server_url, screenshot_dir, width
):
    from django.core.management import call_command

    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    page = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB").new_page()
    log_in(page, live_server_url, "staff@demo.test", "staff-demo-2026")
    page.goto(f"{live_server_url}/staff/metrics/")
    value = page.get_by_test_id("metric-conversion").locator(".stat__value")
    expect(value).to_have_text(re.compile(r"^\d+% vs \d+%$"))
    chatted, not_chatted = (int(n) for n in re.findall(r"\d+", value.inner_text()))
    assert 10 <= chatted <= 30 and 2 <= not_chatted <= 10  # about 19% and 6%
    page.screenshot(path=screenshot_dir / f"staff-metrics-conversion-{width}.png", full_page=True)
