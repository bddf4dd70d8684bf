"""The one socket client of the signed-in pages (frontend/live.js): the monitor
reconnects as soon as the browser is back online, and the console shows a refusal
against the request it answers (by the request's id), not the oldest one of its type."""

import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import free_port, serve_shop, start_daphne, stop
from tests.browser.helpers import PASSWORD, go_on_shift, log_in, start_chat
from tests.browser.test_several_processes import Balancer
from tests.conftest import create_staff

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_the_monitor_reconnects_at_once_when_the_browser_is_back_online(browser, live_server_url):
    """Before: the monitor had a socket of its own that did not listen for `online`;
    back on the network it waited out its backoff (here 4-8 s, at worst 30 s)."""
    create_staff(username="lead@shop.test", email="lead@shop.test", password=PASSWORD)
    server_port = int(live_server_url.rsplit(":", 1)[1])
    front = Balancer([server_port])  # the network between the browser and the server
    base = f"http://127.0.0.1:{front.port}"
    try:
        context = browser.new_context()
        monitor = context.new_page()
        log_in(monitor, base, "lead@shop.test")
        monitor.goto(f"{base}/staff/monitor/")
        status = monitor.get_by_test_id("monitor-connection")
        expect(status).to_have_attribute("data-state", "open")

        front.cut()  # the connection drops and every reconnect is refused
        expect(status).to_have_attribute("data-state", "reconnecting")
        deadline = time.monotonic() + 20
        while front.refused < 3:  # after 1, 2 and 4 s: the next try is 4-8 s away
            assert time.monotonic() < deadline, f"only {front.refused} reconnects tried"
            time.sleep(0.02)
        front.backends = [server_port]
        context.set_offline(True)  # the browser noticed, and is back: `online`
        context.set_offline(False)
        expect(status).to_have_attribute("data-state", "open", timeout=2_000)
        expect(monitor.get_by_test_id("stat-queue")).to_have_text("0")
    finally:
        front.close()


@pytest.fixture
def quiet_server(server_env):
    """A server of this test's own whose consoles ping once a minute, so nothing
    but the test's own frames is on the socket while it runs."""
    shop_port = free_port()
    env = {
        **server_env,
        "WIDGET_ALLOWED_ORIGINS": f"http://localhost:{shop_port}",
        "CHAT_HEARTBEAT_SECONDS": "60",
        "CHAT_CONSOLE_LEASE_SECONDS": "120",
    }
    process, port = start_daphne(env)
    base = f"http://127.0.0.1:{port}"
    shop = serve_shop(shop_port, base)
    yield base, f"http://localhost:{shop_port}/"
    shop.shutdown()
    shop.server_close()
    stop(process)


def test_the_console_shows_a_refusal_against_the_request_it_answers(
    browser, quiet_server, make_expert_account, screenshot_dir
):
    """Two resolves in flight: the first succeeds (its `chat.removed` comes through the
    channel layer, after the second's refusal), the second is refused. Before: errors
    were matched to requests by type and order, so the refusal went to the first
    chat and the second stayed "Resolving…" with no word of what went wrong."""
    from chat.models import Conversation

    base, shop_url = quiet_server
    make_expert_account(max_concurrent_chats=2)
    console = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    log_in(console, base, "anna@shop.test")
    go_on_shift(console, base)
    for topic, name in (("Which strap fits a small wrist?", "Sam"), ("Is it waterproof?", "Noor")):
        start_chat(browser.new_context().new_page(), shop_url, topic, name)
    expect(console.get_by_test_id("chat-pane")).to_have_count(2)
    first = Conversation.objects.get(topic="Which strap fits a small wrist?").pk
    second = Conversation.objects.get(topic="Is it waterproof?").pk

    # The second chat ended elsewhere a moment ago; the console has not heard yet.
    Conversation.objects.filter(pk=second).update(status=Conversation.Status.RESOLVED)
    console.evaluate(
        """([first, second]) => {
          for (const [id, summary] of [[first, "Sport strap, size S"], [second, "Yes, IP68"]]) {
            const pane = `[data-testid="chat-pane"][data-conversation-id="${id}"]`;
            document.querySelector(`${pane} [data-testid="resolve-button"]`).click();
            document.querySelector('[data-testid="resolve-summary"]').value = summary;
            document.querySelector('[data-testid="resolve-confirm"]').click();
          }
        }""",
        [first, second],
    )

    expect(console.get_by_test_id("chat-pane")).to_have_count(1)  # the first is resolved
    pane = console.locator(f'[data-testid="chat-pane"][data-conversation-id="{second}"]')
    expect(pane.get_by_test_id("resolve-error")).to_have_text("This chat has already ended.")
    expect(pane.get_by_test_id("resolve-confirm")).to_be_enabled()
    expect(pane.get_by_test_id("resolve-confirm")).to_have_text("Resolve chat")
    console.screenshot(
        path=screenshot_dir / "console-refusal-by-request-id.png", animations="disabled"
    )
    assert Conversation.objects.get(pk=first).status == Conversation.Status.RESOLVED
