"""An expert saves a reply on their replies page and uses it in a chat by typing "/"."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import go_on_shift, log_in, start_chat

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_saved_reply_goes_into_the_chat_with_the_customers_name(
    browser, live_server_url, shop_url, make_expert_account, screenshot_dir
):
    from community.models import SavedReply

    make_expert_account()
    SavedReply.objects.create(
        shortcut="warranty",
        body="Every pair has a two-year warranty.",
        body_nl="Elk paar heeft twee jaar garantie.",
    )
    console = browser.new_context(viewport={"width": 1366, "height": 850}).new_page()
    log_in(console, live_server_url, "anna@shop.test")

    console.goto(f"{live_server_url}/console/replies/")
    console.get_by_label("Shortcut").fill("size")
    console.get_by_role("textbox", name="Reply").fill("Hi {name}, size S tips fit most small ears.")
    console.get_by_test_id("reply-save").click()
    expect(console.get_by_test_id("reply-item")).to_have_count(2)
    console.screenshot(path=screenshot_dir / "saved-replies.png", full_page=True)

    go_on_shift(console, live_server_url)
    shopper = browser.new_context(locale="nl-NL").new_page()  # a Dutch shopper
    start_chat(shopper, shop_url, "Which tips for small ears?", "Sam Jansen")
    pane = console.get_by_test_id("chat-pane").first
    composer = pane.get_by_test_id("composer-input")
    composer.click()
    composer.press_sequentially("/")
    expect(pane.get_by_test_id("reply-pick")).to_have_count(2)  # own and the team's
    composer.press_sequentially("si")
    expect(pane.get_by_test_id("reply-pick")).to_have_count(1)
    console.screenshot(path=screenshot_dir / "console-reply-picker.png")
    composer.press("Enter")  # picks the reply: it does not send "/si"
    expect(composer).to_have_value("Hi Sam, size S tips fit most small ears.")
    composer.press("Enter")
    expect(shopper.get_by_test_id("message-list")).to_contain_text(
        "Hi Sam, size S tips fit most small ears."
    )
    # The team's reply goes in in the shopper's language, though the console is English.
    composer.press_sequentially("/war")
    expect(pane.get_by_test_id("reply-pick")).to_contain_text("Elk paar heeft twee jaar garantie.")
    console.screenshot(path=screenshot_dir / "console-reply-picker-dutch-chat.png")
    console.set_viewport_size({"width": 390, "height": 844})
    composer.scroll_into_view_if_needed()
    console.screenshot(path=screenshot_dir / "console-reply-picker-dutch-chat-phone.png")
    composer.press("Enter")
    expect(composer).to_have_value("Elk paar heeft twee jaar garantie.")
