"""Live standings and redemptions in the browser, across sessions, without reloads."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import PASSWORD, go_on_shift, log_in, send_from_widget, start_chat
from tests.conftest import create_staff

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_resolving_a_chat_moves_another_experts_leaderboard(
    browser, live_server_url, shop_url, make_expert_account, screenshot_dir
):
    anna_expert = make_expert_account()
    bram_expert = make_expert_account("bram@shop.test", "Bram Jansen")

    anna = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    log_in(anna, live_server_url, "anna@shop.test")
    anna.goto(f"{live_server_url}/console/")
    anna.get_by_test_id("shift-toggle").click()

    bram = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    log_in(bram, live_server_url, "bram@shop.test")
    bram.goto(f"{live_server_url}/console/")
    board = bram.get_by_test_id("leaderboard")
    expect(board.get_by_test_id("leaderboard-row")).to_have_count(2)

    shopper = browser.new_context().new_page()
    start_chat(shopper, shop_url, "Which earbuds stay in while running?", "Sam")
    pane = anna.get_by_test_id("chat-pane").first
    expect(pane).to_contain_text("Which earbuds stay in while running?")
    send_from_widget(shopper, "I run marathons.")
    pane.get_by_test_id("composer-input").fill("The Stride Sport: wing tips keep them in place.")
    pane.get_by_test_id("send-button").click()
    expect(shopper.get_by_test_id("message-list")).to_contain_text("wing tips")
    pane.get_by_test_id("resolve-button").click()
    anna.get_by_test_id("resolve-summary").fill("Stride Sport")
    anna.get_by_test_id("resolve-confirm").click()

    # Bram's page was never reloaded: Anna now leads with the resolved-chat award
    # (before it, both shared rank 1 with no points).
    row = 'li[data-testid="leaderboard-row"][data-expert-id="{}"]'
    anna_row, bram_row = (
        board.locator(row.format(anna_expert.pk)),
        board.locator(row.format(bram_expert.pk)),
    )
    expect(anna_row).to_have_attribute("data-rank", "1", timeout=5_000)
    expect(anna_row).to_contain_text("10")
    expect(bram_row).to_have_attribute("data-rank", "2")
    bram.screenshot(path=screenshot_dir / "console-leaderboard.png")


def test_redemption_is_approved_live(browser, live_server_url, make_expert_account, screenshot_dir):
    from points import services as points_services
    from rewards.models import Product

    expert = make_expert_account("eva@shop.test", "Eva Visser")
    staff = create_staff(username="staff@shop.test", email="staff@shop.test", password=PASSWORD)
    points_services.points_adjust(
        expert=expert,
        amount=500,
        reason="Welcome bonus",
        staff_member=staff,
        idempotency_key="welcome",
    )
    Product.objects.create(
        name="Voyager ANC, first batch",
        points_cost=400,
        stock=3,
        limited_edition=True,
        per_expert_limit=1,
    )

    # Two staff pages are open before the expert redeems: the queue and "all statuses".
    desk = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    log_in(desk, live_server_url, "staff@shop.test")
    desk.goto(f"{live_server_url}/staff/redemptions/")
    expect(desk.get_by_test_id("queue-empty")).to_be_visible()
    expect(desk.locator("[data-live-status]")).to_have_attribute("data-state", "open")
    overview = desk.context.new_page()
    overview.goto(f"{live_server_url}/staff/redemptions/?status=")
    expect(overview.locator("[data-live-status]")).to_have_attribute("data-state", "open")

    shop = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    log_in(shop, live_server_url, "eva@shop.test")
    shop.goto(f"{live_server_url}/console/shop/")
    card = shop.get_by_test_id("product-card").first
    card.get_by_test_id("redeem-address").fill("Damrak 1\n1012 LG Amsterdam")
    card.get_by_test_id("redeem-submit").click()
    mine = shop.get_by_test_id("my-redemption").first
    expect(mine.get_by_test_id("redemption-status")).to_contain_text("Waiting for approval")
    expect(shop.get_by_test_id("balance").first).to_contain_text("100")
    expect(card.get_by_test_id("stock")).to_contain_text("2")

    # The new redemption appears as a row with its actions, not as a "refresh" banner.
    row = desk.get_by_test_id("redemption-row").first
    expect(row).to_contain_text("Eva Visser", timeout=5_000)
    expect(row.get_by_test_id("row-address")).to_contain_text("Damrak 1")
    expect(desk.get_by_test_id("queue-empty")).to_be_hidden()
    expect(desk.locator("[data-row-count]")).to_have_text("1")
    expect(overview.get_by_test_id("redemption-row")).to_have_count(1)
    row.get_by_test_id("approve-submit").click()
    expect(desk.get_by_test_id("queue-empty")).to_be_visible()  # nothing pending any more

    # The other page redraws the row with what can be done next, without a reload.
    other = overview.get_by_test_id("redemption-row").first
    expect(other.get_by_test_id("row-status")).to_contain_text("Approved", timeout=5_000)
    expect(other.get_by_test_id("approve-submit")).to_have_count(0)
    expect(other.get_by_test_id("ship-submit")).to_be_visible()
    other.get_by_test_id("ship-note").fill("PostNL 3S123")
    other.get_by_test_id("ship-submit").click()
    expect(
        overview.get_by_text("Marked Voyager ANC, first batch for Eva Visser as shipped")
    ).to_be_visible()

    # The expert's page was not reloaded.
    expect(mine.get_by_test_id("redemption-status")).to_contain_text("Shipped", timeout=5_000)
    shop.screenshot(path=screenshot_dir / "shop-phone-shipped.png", full_page=True)
    overview.screenshot(path=screenshot_dir / "staff-redemptions.png")


@pytest.mark.parametrize("width", [320, 390])
def test_the_reward_shop_shows_real_pictures_and_fits_a_small_phone(
    browser, live_server_url, make_expert_account, screenshot_dir, width
):
    """Before: generated circles with clipped initials, and a layout that ran off at 320 px."""
    from community.management.commands.load_demo import _placeholder
    from rewards.models import Product

    make_expert_account()
    for name, colour in (
        ("Stride Sport earbuds", "#1d4ed8"),
        ("Voyager ANC, first batch", "#7c3aed"),
    ):
        product = Product(name=name, description="A long description " * 6, points_cost=250)
        product.image.save(
            f"{name.split()[0].lower()}.webp", _placeholder(name, colour), save=False
        )
        product.save()
    page = browser.new_context(viewport={"width": width, "height": 760}).new_page()
    log_in(page, live_server_url, "anna@shop.test")
    page.goto(f"{live_server_url}/console/shop/")
    pictures = page.locator("img")
    expect(pictures).to_have_count(2)
    for picture in pictures.all():
        picture.scroll_into_view_if_needed()
        expect(picture).to_have_js_property("complete", True)
        assert picture.evaluate("img => img.naturalWidth") == 480
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.screenshot(path=screenshot_dir / f"reward-shop-{width}.png", full_page=True)


def test_a_handed_over_chat_carries_a_note_only_experts_read(
    browser, live_server_url, shop_url, make_expert_account, screenshot_dir
):
    make_expert_account()
    make_expert_account("bram@shop.test", "Bram Jansen")  # goes on shift later
    anna = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    log_in(anna, live_server_url, "anna@shop.test")
    anna.goto(f"{live_server_url}/console/")
    anna.get_by_test_id("shift-toggle").click()
    shopper = browser.new_context().new_page()
    start_chat(shopper, shop_url, "My Voyager hinge broke again", "Sam")
    pane = anna.get_by_test_id("chat-pane").first
    expect(pane).to_contain_text("My Voyager hinge broke again")

    bram = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    log_in(bram, live_server_url, "bram@shop.test")
    go_on_shift(bram, live_server_url)

    pane.get_by_test_id("transfer-button").click()
    anna.get_by_test_id("transfer-note").fill("Second hinge in a month; order 1043.")
    anna.get_by_test_id("transfer-target").filter(has_text="Bram").click()
    note = bram.get_by_test_id("message").filter(has_text="order 1043")
    expect(note).to_contain_text("Note from Anna de Vries")
    expect(shopper.get_by_test_id("message-list")).to_contain_text("handed this chat to Bram")
    assert "order 1043" not in shopper.get_by_test_id("message-list").inner_text()
    bram.screenshot(path=screenshot_dir / "console-transfer-note.png")
