"""Small steps the browser tests share."""

from playwright.sync_api import Page, expect

PASSWORD = "pw-123456"


def log_in(page: Page, base_url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url(lambda url: "/accounts/login" not in url)


def open_widget(page: Page, shop_url: str) -> None:
    page.goto(shop_url)
    launcher = page.get_by_test_id("launcher")
    expect(launcher).to_be_visible()
    launcher.click()
    expect(page.get_by_test_id("panel")).to_be_visible()


def start_chat(page: Page, shop_url: str, topic: str, name: str = "") -> None:
    open_widget(page, shop_url)
    page.get_by_test_id("topic-input").fill(topic)
    if name:
        page.get_by_test_id("name-input").fill(name)
    page.get_by_test_id("start-button").click()


def send_from_widget(page: Page, text: str) -> None:
    composer = page.get_by_test_id("composer")
    composer.fill(text)
    page.get_by_test_id("send-button").click()


def go_on_shift(page: Page, base_url: str) -> None:
    """Open the signed-in expert's console and switch their shift on."""
    page.goto(f"{base_url}/console/")
    switch = page.get_by_test_id("shift-toggle")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")
