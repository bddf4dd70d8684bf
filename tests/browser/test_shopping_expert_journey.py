"""The shopping expert, end to end (issue 17): a shopper on a product page of the demo
shop asks a question in Dutch on a phone; the expert, at a desktop, sees the product,
sends a product card and a saved reply; the shopper opens the card, sends a photo of
their old earbuds (its location gone), and orders; staff see the assisted order and
the conversion on the metrics page, on a phone in Dutch and at a desktop in English."""

import re
from io import BytesIO

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.helpers import PASSWORD, go_on_shift, log_in, open_widget, start_chat
from tests.browser.test_conversion import report_order, wait_for_count
from tests.browser.test_photos import snapshot
from tests.chat.test_photos import jpeg_with_location
from tests.conftest import create_staff

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 850}
# Where the widget lives, for waiting on what it shows (its shadow root).
WIDGET = "document.querySelector('brand-expert-widget').shadowRoot"


def right_edge(locator) -> float:
    box = locator.bounding_box()
    return box["x"] + box["width"]


def test_a_shopper_on_a_product_page_is_helped_to_an_order(
    browser, live_server_url, demo_shop_url, make_expert_account, screenshot_dir, tmp_path
):
    from catalog import services as catalog_services
    from chat.models import Conversation
    from community.management.commands.load_demo import DEMO_CATALOG
    from community.models import SavedReply
    from sales.models import Order, WidgetOpen

    # The brand's feed: the demo shop's products, their pages the shop's product pages.
    catalog_services.catalog_load(
        rows=[
            {"sku": sku, "name": name, "price": price, "url": f"{demo_shop_url}?product={sku}"}
            for sku, name, price in DEMO_CATALOG
        ]
    )
    anna = make_expert_account()
    # Anna answers Dutch shoppers often, in her own words.
    SavedReply.objects.create(
        expert=anna,
        shortcut="vleugels",
        body="Hoi {name}, met de vleugeltjes blijven ze ook bij een marathon zitten.",
    )

    console = browser.new_context(viewport=DESKTOP, locale="en-GB").new_page()
    log_in(console, live_server_url, "anna@shop.test")
    go_on_shift(console, live_server_url)

    # Another shopper only looks: the conversion has someone to compare with.
    looker = browser.new_context(viewport=DESKTOP).new_page()
    open_widget(looker, demo_shop_url)
    expect(looker.get_by_test_id("prechat-form")).to_be_visible()

    # A shopper on the Stride Buds page asks, in Dutch, on a phone.
    shopper = browser.new_context(
        viewport=PHONE, locale="nl-NL", reduced_motion="reduce"
    ).new_page()  # still screenshots, not ones mid fade-in
    question = "Blijven deze oordopjes zitten tijdens het hardlopen?"
    start_chat(shopper, f"{demo_shop_url}?product=STR-BUDS", question, "Sam Jansen")
    title = shopper.get_by_test_id("panel-title")
    expect(title).to_have_text("Anna de Vries")
    # Her whole name, beside the Dutch "end chat" button, on a phone.
    assert title.evaluate("(h2) => h2.scrollWidth <= h2.clientWidth")
    expect(shopper.get_by_test_id("composer")).to_have_attribute(
        "placeholder", re.compile("bericht", re.IGNORECASE)
    )
    chat = Conversation.objects.get(topic=question)

    # The expert sees the product the shopper is looking at.
    pane = console.get_by_test_id("chat-pane").first
    expect(pane.get_by_test_id("pane-topic")).to_have_text(question)
    expect(pane.get_by_test_id("pane-page-title")).to_have_text(
        "Stride Buds · Northwind Audio · Wireless headphones"
    )
    expect(pane.get_by_test_id("pane-page")).to_contain_text("Looking at")
    sku = pane.get_by_test_id("pane-page").locator("[data-role=page-product]")
    expect(sku).to_have_text("STR-BUDS")
    # However long the page's title, the product stays in sight in the pane's one line.
    assert right_edge(sku) <= right_edge(pane.get_by_test_id("pane-page"))

    # ... finds it in the catalog and drops its card into the chat,
    pane.get_by_test_id("product-button").click()
    pane.get_by_test_id("product-query").fill("stride")
    results = pane.get_by_test_id("product-result")
    expect(results).to_have_count(3)  # the buds and two sizes of ear tips
    console.screenshot(path=screenshot_dir / "journey-console-product-search-1366-en.png")
    results.filter(has_text="STR-BUDS").click()
    sent = pane.get_by_test_id("product-card-link")
    expect(sent).to_have_text("Stride Buds")
    # A card of its own in Anna's teal bubbles, not teal on teal.
    expect(pane.locator(".msg__card")).to_have_css("background-color", "rgb(255, 255, 255)")

    # ... then a saved reply, with the shopper's first name filled in.
    composer = pane.get_by_test_id("composer-input")
    composer.click()
    composer.press_sequentially("/vl")
    expect(pane.get_by_test_id("reply-pick")).to_have_count(1)
    composer.press("Enter")
    reply = "Hoi Sam, met de vleugeltjes blijven ze ook bij een marathon zitten."
    expect(composer).to_have_value(reply)
    composer.press("Enter")
    expect(pane.get_by_test_id("pane-messages")).to_contain_text(reply)
    console.screenshot(path=screenshot_dir / "journey-console-card-and-reply-1366-en.png")

    # The shopper gets both: a card whose link names the chat, and the reply.
    card = shopper.get_by_test_id("product-card")
    expect(card).to_contain_text("Stride Buds")
    expect(card).to_contain_text("149,00")  # in Dutch: € 149,00
    product_page = f"{demo_shop_url}?product=STR-BUDS&bx_chat={chat.pk}"
    expect(card).to_have_attribute("href", product_page)
    expect(shopper.get_by_test_id("message-list")).to_contain_text(reply)
    shopper.screenshot(path=screenshot_dir / "journey-widget-card-and-reply-390-nl.png")

    # She opens the card: the product page, where the chat carries on.
    with shopper.expect_popup() as opened:
        card.click()
    product = opened.value
    expect(product).to_have_url(product_page)
    expect(product.locator(".hero")).to_contain_text("Stride Buds")  # its page, its price
    expect(product.locator(".hero .price")).to_have_text("€149")
    expect(product.get_by_test_id("launcher")).to_be_visible()
    product.screenshot(path=screenshot_dir / "journey-shop-product-page-390-nl.png")
    product.get_by_test_id("launcher").click()
    expect(product.get_by_test_id("message-list")).to_contain_text(reply)
    expect(product.get_by_test_id("product-card")).to_have_count(1)
    trail = pane.get_by_test_id("pane-trail").locator("li")
    expect(trail).to_have_count(2)  # the expert sees she followed the link
    expect(trail.first.locator("a")).to_have_attribute("href", product_page)

    # She sends a photo of her old earbuds, taken with her phone: its location goes.
    old_buds = tmp_path / "IMG_2041.jpg"
    old_buds.write_bytes(jpeg_with_location(image=snapshot((1600, 1200), "#d9e2e8", "#2f3a44")))
    with product.expect_file_chooser() as chooser:
        product.get_by_test_id("attach").click()
    chooser.value.set_files(old_buds)
    expect(product.get_by_test_id("photo")).to_have_count(1)
    expect(product.get_by_test_id("photo-sending")).to_have_count(0)
    product.wait_for_function(
        f"() => {WIDGET}.querySelector('[data-testid=photo] img').naturalWidth > 0"
    )
    # Her upright photo is shown whole, not cut to a landscape strip.
    shown, natural = (
        product.get_by_test_id("photo")
        .locator("img")
        .evaluate(
            "(img) => [img.clientWidth / img.clientHeight, img.naturalWidth / img.naturalHeight]"
        )
    )
    assert shown == pytest.approx(natural, rel=0.02)
    product.screenshot(path=screenshot_dir / "journey-widget-photo-390-nl.png")
    # On a desktop the panel is narrower than a phone's screen: her name still fits.
    product.set_viewport_size(DESKTOP)
    assert product.get_by_test_id("panel-title").evaluate(
        "(h2) => h2.scrollWidth <= h2.clientWidth"
    )
    product.wait_for_function(  # the shorter list still ends with her photo
        f"() => {{ const l = {WIDGET}.querySelector('[data-testid=message-list]');"
        " return l.scrollHeight - l.scrollTop - l.clientHeight < 2; }"
    )
    product.screenshot(path=screenshot_dir / "journey-widget-photo-1366-nl.png")
    product.set_viewport_size(PHONE)

    thumbnail = pane.get_by_test_id("photo")
    expect(thumbnail).to_have_count(1)
    console.wait_for_function(
        "() => document.querySelector('[data-testid=photo]').naturalWidth > 0"
    )
    console.screenshot(path=screenshot_dir / "journey-console-photo-1366-en.png")
    with console.expect_popup() as opened:
        thumbnail.click()
    full_size = opened.value
    expect(full_size).to_have_url(re.compile("/photos/"))
    served = full_size.request.get(full_size.url)
    assert served.headers["content-type"] == "image/jpeg"
    image = Image.open(BytesIO(served.body()))
    assert image.size == (1200, 1600)  # upright, as her phone meant it
    assert not image.getexif()  # no location, no camera
    full_size.close()

    # Anna closes the chat with a summary; the shopper rates it.
    pane.get_by_test_id("resolve-button").click()
    console.get_by_test_id("resolve-summary").fill("Stride Buds for running; the wings hold.")
    console.get_by_test_id("resolve-confirm").click()
    product.get_by_test_id("rating-star-5").click()
    product.get_by_test_id("rating-submit").click()
    expect(product.get_by_test_id("rating-thanks")).to_be_visible()
    product.screenshot(path=screenshot_dir / "journey-widget-rated-390-nl.png")

    # She checks out: the shop's checkout hands BrandChat.attribution() to its server,
    # which reports the order, signed.
    attribution = product.evaluate("BrandChat.attribution()")
    assert attribution["chat"] == chat.pk
    answer = report_order(
        live_server_url,
        {
            "order_id": "NW-20417",
            "amount": "149.00",
            "currency": "EUR",
            "ordered_at": chat.created_at.isoformat(),
            "chat_id": attribution["chat"],
            "visitor_ref": attribution["ref"],
        },
    )
    assert answer == {"order_id": "NW-20417", "attributed": True}
    assert Order.objects.get().expert == anna
    assert wait_for_count(WidgetOpen.objects.all(), 2) == 2

    # Staff see the assisted order and the conversion, on a phone and at a desk.
    create_staff(username="lead@shop.test", email="lead@shop.test", password=PASSWORD)
    for viewport, locale, headline in (
        (PHONE, "nl-NL", "Servicecijfers"),
        (DESKTOP, "en-GB", "Service metrics"),
    ):
        page = browser.new_context(viewport=viewport, locale=locale).new_page()
        log_in(page, live_server_url, "lead@shop.test")
        page.goto(f"{live_server_url}/staff/metrics/?days=7")
        expect(page.locator("h1")).to_have_text(headline)
        expect(page.get_by_test_id("metric-csat").locator(".stat__value")).to_have_text("100%")
        expect(page.get_by_test_id("metric-resolution").locator(".stat__value")).to_have_text(
            "100%"
        )
        expect(page.get_by_test_id("metric-sales").locator(".stat__value")).to_have_text("149 EUR")
        expect(page.get_by_test_id("metric-conversion").locator(".stat__value")).to_have_text(
            re.compile(r"^100%\s+\w+\s+0%$")
        )
        expert_row = page.get_by_test_id("metrics-experts").locator("tr", has_text="Anna de Vries")
        expect(expert_row).to_contain_text("149")
        expect(expert_row.get_by_test_id("expert-conversion")).to_contain_text("(100%)")
        width = viewport["width"]
        # Every tile's name fits its tile, in Dutch at 390 px too.
        assert not page.evaluate(
            "[...document.querySelectorAll('.stat__label')]"
            ".filter((label) => label.scrollWidth > label.clientWidth)"
            ".map((label) => label.textContent)"
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
        page.screenshot(
            path=screenshot_dir / f"journey-staff-metrics-{width}-{locale[:2]}.png", full_page=True
        )
        page.context.close()
