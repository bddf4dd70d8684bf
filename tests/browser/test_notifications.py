"""Browser notifications in the expert console: asked for only after the expert says
yes to an explanation in the page, and raised once per new chat while the console's
tab is in the background; and the opt-in to the "shoppers are waiting" email."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import log_in, start_chat

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

# The tab's visibility, switched by the test: a headless page is always "visible".
HIDDEN_SWITCH = """
Object.defineProperty(document, "hidden", { get: () => window.__hidden === true });
Object.defineProperty(document, "visibilityState", {
  get: () => (window.__hidden === true ? "hidden" : "visible"),
});
"""

# The browser's Notification with every one constructed recorded (the permission is
# granted to the context, so they are real).
RECORDED = """
window.__notifications = [];
window.__closed = [];
window.Notification = class extends window.Notification {
  constructor(title, options) {
    super(title, options);
    window.__notifications.push({ title: title, tag: options.tag, body: options.body });
    window.__last = this;
  }
  close() {
    window.__closed.push(this.tag);
    super.close();
  }
};
"""

# The browser's question, answered "Allow" and counted: what the expert sees of it is
# the browser's own prompt, which a headless page cannot show.
PROMPT = """
window.__asked = 0;
let permission = "default";
window.Notification = class {
  static get permission() { return permission; }
  static requestPermission() {
    window.__asked += 1;
    permission = "granted";
    return Promise.resolve(permission);
  }
};
"""


@pytest.fixture
def expert_user(make_expert_account):
    return make_expert_account(first_name="Anna").user


def test_a_new_chat_in_a_background_tab_raises_one_notification_that_opens_it(
    browser, live_server_url, shop_url, expert_user
):
    from chat.models import Conversation

    context = browser.new_context(viewport={"width": 1366, "height": 850})
    context.grant_permissions(["notifications"], origin=live_server_url)
    context.add_init_script(HIDDEN_SWITCH + RECORDED)
    console = context.new_page()
    log_in(console, live_server_url, "anna@shop.test")
    console.goto(f"{live_server_url}/console/")
    expect(console.get_by_test_id("notify-offer")).to_be_hidden()  # already allowed
    console.get_by_test_id("shift-toggle").click()
    expect(console.get_by_test_id("shift-toggle")).to_have_attribute("aria-checked", "true")

    shopper = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    start_chat(shopper, shop_url, "Earbuds for running", "Sam Jansen")
    expect(console.get_by_test_id("chat-pane")).to_have_count(1)
    console.evaluate("window.__hidden = true")  # the expert switched to another tab
    start_chat(
        browser.new_context().new_page(), shop_url, "Headphones for a long flight", "Ravi Kumar"
    )
    expect(console.get_by_test_id("chat-pane")).to_have_count(2)

    second = Conversation.objects.get(topic="Headphones for a long flight")
    # Only for the chat that came in while the expert looked elsewhere; first name only.
    assert console.evaluate("window.__notifications") == [
        {
            "title": "New chat: Headphones for a long flight",
            "tag": f"chat-{second.pk}",
            "body": "Ravi",
        }
    ]

    console.evaluate("window.__hidden = false; window.__last.dispatchEvent(new Event('click'))")
    pane = console.locator(f'[role="tabpanel"][aria-labelledby="pane-tab-{second.pk}"]')
    expect(pane.get_by_test_id("composer-input")).to_be_focused()
    expect(pane.get_by_test_id("pane-new")).to_be_hidden()  # seen

    # One left on screen goes away when the expert comes back to the tab.
    console.evaluate("window.__hidden = true")
    start_chat(browser.new_context().new_page(), shop_url, "Spare ear tips", "Kim")
    expect(console.get_by_test_id("chat-pane")).to_have_count(3)
    third = Conversation.objects.get(topic="Spare ear tips")
    console.evaluate("window.__hidden = false")
    console.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    assert console.evaluate("window.__closed") == [f"chat-{second.pk}", f"chat-{third.pk}"]


def test_the_browser_is_asked_only_after_the_expert_says_yes(
    browser, live_server_url, expert_user, screenshot_dir
):
    context = browser.new_context(viewport={"width": 1366, "height": 850})
    context.add_init_script(PROMPT)
    console = context.new_page()
    log_in(console, live_server_url, "anna@shop.test")
    console.goto(f"{live_server_url}/console/")
    offer = console.get_by_test_id("notify-offer")
    expect(offer).to_contain_text("while this tab is in the background")
    console.screenshot(path=screenshot_dir / "console-notify-offer-1366.png")
    assert console.evaluate("window.__asked") == 0  # an explanation first, no prompt

    offer.get_by_test_id("notify-not-now").click()
    expect(offer).to_be_hidden()
    console.reload()
    expect(console.get_by_test_id("connection-status")).to_have_attribute("data-state", "open")
    expect(offer).to_be_hidden()  # "Not now" is remembered
    assert console.evaluate("window.__asked") == 0

    phone = browser.new_context(viewport={"width": 390, "height": 844})
    phone.add_init_script(PROMPT)
    console = phone.new_page()
    log_in(console, live_server_url, "anna@shop.test")
    console.goto(f"{live_server_url}/console/")
    offer = console.get_by_test_id("notify-offer")
    expect(offer).to_be_visible()
    console.screenshot(path=screenshot_dir / "console-notify-offer-390.png")
    offer.get_by_test_id("notify-allow").click()
    expect(offer).to_be_hidden()
    assert console.evaluate("window.__asked") == 1


@pytest.mark.parametrize("width", [1366, 390])
def test_the_expert_turns_the_waiting_email_on(
    browser, live_server_url, expert_user, screenshot_dir, width
):
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_init_script(PROMPT)
    page = context.new_page()
    log_in(page, live_server_url, "anna@shop.test")
    page.goto(f"{live_server_url}/console/")
    page.get_by_test_id("notification-settings").click()
    box = page.get_by_label("Email me when shoppers are waiting")
    expect(box).not_to_be_checked()
    box.check()
    page.get_by_label("Language of these emails").select_option("nl")
    page.get_by_test_id("alerts-save").click()
    expect(page.get_by_text("We email you when shoppers wait")).to_be_visible()
    expect(page.get_by_label("Email me when shoppers are waiting")).to_be_checked()
    expect(page.get_by_test_id("notify-allow")).to_be_visible()
    page.screenshot(path=screenshot_dir / f"notification-settings-{width}.png", full_page=True)

    expert_user.expert.refresh_from_db()
    assert (expert_user.expert.waiting_alerts, expert_user.expert.language) == (True, "nl")
