"""A shopper on another site chats with an expert; a fourth shopper queues and is
served when the expert resolves a chat. Real Daphne, database, layer and Chromium."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import log_in, send_from_widget, start_chat

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

XSS = '<img src=x onerror="window.__xss = 1"><script>window.__xss = 2</script>'


def test_widget_chat_queue_and_resolve(
    browser, live_server_url, shop_url, make_expert_account, screenshot_dir
):
    make_expert_account()
    console_context = browser.new_context(viewport={"width": 1440, "height": 900})
    console = console_context.new_page()
    log_in(console, live_server_url, "anna@shop.test")
    console.goto(f"{live_server_url}/console/")
    console.get_by_test_id("shift-toggle").click()
    expect(console.get_by_test_id("load-indicator")).to_contain_text("0")

    shoppers = []
    for n, (topic, name) in enumerate(
        [
            ("Which earbuds for running?", "Sam"),
            ("Battery drains overnight", "Noor"),
            ("Pairing with my laptop", "Lotte"),
        ]
    ):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        start_chat(page, shop_url, topic, name)
        expect(page.get_by_test_id("message-list")).to_contain_text("Anna de Vries")
        shoppers.append(page)
        expect(console.get_by_test_id("chat-pane")).to_have_count(n + 1)
    sam = shoppers[0]
    sam_pane = console.get_by_test_id("chat-pane").filter(has_text="Which earbuds for running?")

    # Live both ways, with hostile text shown as text.
    send_from_widget(sam, XSS)
    expect(sam_pane.get_by_test_id("pane-messages")).to_contain_text("<img src=x onerror=")
    sam_pane.get_by_test_id("composer-input").fill("The Stride Sport stays put. <b>Promise</b>")
    sam_pane.get_by_test_id("send-button").click()
    expect(sam.get_by_test_id("message-list")).to_contain_text("<b>Promise</b>")
    assert sam.evaluate("window.__xss") is None
    assert console.evaluate("window.__xss") is None

    # Sam reports the expert's message; it lands in the staff reports queue.
    from chat.models import MessageReport

    reply = sam.get_by_test_id("message").filter(has_text="<b>Promise</b>")
    reply.get_by_test_id("report-message").click()
    expect(reply.get_by_test_id("report-message")).to_have_text("Reported, thank you")
    assert MessageReport.objects.filter(message__body__contains="Promise").count() == 1

    # A fourth shopper waits in line with a visible position.
    fourth_context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    fourth = fourth_context.new_page()
    start_chat(fourth, shop_url, "Do you ship to Belgium?", "Jesse")
    expect(fourth.get_by_test_id("queue-position")).to_contain_text("1")
    fourth.screenshot(path=screenshot_dir / "widget-phone-queue.png")
    sam.screenshot(path=screenshot_dir / "widget-desktop-chat.png")
    console.screenshot(path=screenshot_dir / "console-three-chats.png")

    # Resolving Sam's chat frees the slot: the fourth shopper is served at once.
    sam_pane.get_by_test_id("resolve-button").click()
    console.get_by_test_id("resolve-summary").fill("Recommended the Stride Sport.")
    console.get_by_test_id("resolve-confirm").click()
    expect(fourth.get_by_test_id("message-list")).to_contain_text("Anna de Vries", timeout=10_000)
    expect(
        console.get_by_test_id("chat-pane").filter(has_text="Do you ship to Belgium?")
    ).to_have_count(1)
    expect(sam.get_by_test_id("rating")).to_be_visible()
    sam.get_by_test_id("rating-star-5").click()
    sam.get_by_test_id("rating-submit").click()
    expect(sam.get_by_test_id("rating-thanks")).to_be_visible()
    expect(sam.get_by_test_id("apply-link")).to_be_visible()  # happy customers are asked
    fourth.screenshot(path=screenshot_dir / "widget-phone-chat.png")
    sam.screenshot(path=screenshot_dir / "widget-desktop-rating.png")

    for page in [console, fourth, *shoppers]:
        page.context.close()


def test_widget_works_on_a_host_page_with_a_strict_csp(browser, live_server_url, strict_shop_port):
    """What a host must allow: the chat host for scripts and connections. No inline
    styles or scripts (documented in the README)."""
    from tests.browser.conftest import serve_shop

    port = strict_shop_port
    ws_base = live_server_url.replace("http://", "ws://")
    policy = (
        f"default-src 'none'; script-src {live_server_url}; "
        f"connect-src {live_server_url} {ws_base}; style-src 'self'"
    )
    shop = serve_shop(port, live_server_url, csp=policy)
    try:
        page = browser.new_context().new_page()
        violations = []
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.goto(f"http://127.0.0.1:{port}/")  # in WIDGET_ALLOWED_ORIGINS (server_env)
        launcher = page.get_by_test_id("launcher")
        expect(launcher).to_be_visible()
        assert launcher.bounding_box()["width"] >= 40  # styled, not a bare button
        launcher.click()
        expect(page.get_by_test_id("panel")).to_be_visible()
        expect(page.get_by_test_id("offline-form")).to_be_visible()  # nobody on shift
        assert violations == []
    finally:
        shop.shutdown()
        shop.server_close()
