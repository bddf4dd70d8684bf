"""The catalog feed, the experts' search and product cards in chats."""

import json

import pytest
from django.core.management import CommandError, call_command

from catalog.models import CatalogProduct
from chat import selectors, services
from chat.models import Message
from config.errors import ServiceError

pytestmark = pytest.mark.django_db

ROW = {
    "sku": "STR-BUDS",
    "name": "Stride Buds",
    "price": "149.00",
    "url": "https://shop.example/p/stride",
}


def test_a_feed_loads_by_sku_and_a_second_load_updates(tmp_path, capsys):
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps([ROW, {**ROW, "sku": "STU-ONE", "name": "Studio One"}]))
    call_command("load_catalog", feed)
    assert "2 products added, 0 updated" in capsys.readouterr().out
    feed.write_text(json.dumps([{**ROW, "price": "139.00", "in_stock": "false"}]))
    call_command("load_catalog", feed)
    assert "0 products added, 1 updated" in capsys.readouterr().out
    stride = CatalogProduct.objects.get(sku="STR-BUDS")
    assert (str(stride.price), stride.in_stock) == ("139.00", False)


def test_a_feed_address_without_a_scheme_is_taken_as_https(tmp_path):
    """Before, it became http:// (and Django warned that 6.0 changes that)."""
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps([{**ROW, "url": "shop.example/p/stride"}]))
    call_command("load_catalog", feed)
    assert CatalogProduct.objects.get(sku="STR-BUDS").url == "https://shop.example/p/stride"


def test_a_feed_with_a_bad_row_changes_nothing_and_names_the_row(tmp_path):
    feed = tmp_path / "feed.csv"
    feed.write_text(
        "sku,name,price,url\n"
        "STR-BUDS,Stride Buds,149.00,https://shop.example/p/stride\n"
        "STU-ONE,Studio One,cheap,javascript:alert(1)\n"
    )
    with pytest.raises(CommandError) as refused:
        call_command("load_catalog", feed)
    assert "row 2" in str(refused.value) and "price" in str(refused.value)
    assert "url" in str(refused.value)
    assert not CatalogProduct.objects.exists()


def test_the_search_finds_by_sku_prefix_or_name_in_stock_first(client, make_expert):
    CatalogProduct.objects.create(**{**ROW, "in_stock": False})
    CatalogProduct.objects.create(**{**ROW, "sku": "STR-TIPS", "name": "Stride ear tips"})
    CatalogProduct.objects.create(**{**ROW, "sku": "STU-ONE", "name": "Studio One"})
    client.force_login(make_expert().user)
    found = client.get("/console/catalog/search/", {"q": "stride"}).json()["results"]
    assert [p["sku"] for p in found] == ["STR-TIPS", "STR-BUDS"]
    assert client.get("/console/catalog/search/", {"q": "stu"}).json()["results"][0]["sku"] == (
        "STU-ONE"
    )
    assert client.get("/console/catalog/search/", {"q": ""}).json() == {"results": []}


def test_only_experts_search_the_catalog(client, make_visitor):
    assert client.get("/console/catalog/search/", {"q": "stride"}).status_code == 302  # log in


@pytest.fixture
def chat(make_expert, make_visitor):
    expert = make_expert(name="Anna de Vries")
    conversation = services.conversation_start(visitor=make_visitor(name="Sam"), topic="Earbuds?")
    CatalogProduct.objects.create(**ROW)
    return conversation, expert


def test_a_product_card_is_a_message_with_its_card_and_the_chat_in_its_link(chat):
    conversation, expert = chat
    message, created = services.message_post(
        conversation_id=conversation.pk, expert=expert, body="x", client_id="c1", product="STR-BUDS"
    )
    assert created
    card = message.card
    assert card["url"] == f"https://shop.example/p/stride?bx_chat={conversation.pk}"
    assert (card["name"], card["price"], card["currency"]) == ("Stride Buds", "149.00", "EUR")
    assert message.body == f"Stride Buds {card['url']}"  # what transcripts show
    [replayed] = selectors.messages_after(
        conversation_id=conversation.pk, last_seq=0, for_customer=True
    )[-1:]
    assert replayed["card"] == card
    again, created = services.message_post(
        conversation_id=conversation.pk, expert=expert, body="x", client_id="c1", product="STR-BUDS"
    )
    assert (again.pk, created) == (message.pk, False)  # a retry is stored once


def test_customers_send_no_cards_and_unknown_products_are_refused(chat):
    conversation, expert = chat
    with pytest.raises(ServiceError) as refused:
        services.message_post(
            conversation_id=conversation.pk,
            visitor=conversation.visitor,
            body="x",
            client_id="c1",
            product="STR-BUDS",
        )
    assert refused.value.code == "forbidden"
    with pytest.raises(ServiceError) as refused:
        services.message_post(
            conversation_id=conversation.pk, expert=expert, body="x", client_id="c2", product="NOPE"
        )
    assert refused.value.code == "not_found"
    assert not Message.objects.filter(client_id__in=["c1", "c2"]).exists()


@pytest.mark.django_db(transaction=True)
def test_the_hourly_job_loads_the_feed_and_a_broken_feed_changes_nothing(tmp_path, settings):
    from catalog import jobs
    from tests.conftest import run_jobs

    settings.CATALOG_FEED = str(tmp_path / "feed.json")
    (tmp_path / "feed.json").write_text(json.dumps([ROW]))
    jobs.catalog_feed_load.enqueue()
    run_jobs()
    assert CatalogProduct.objects.get().price == 149
    (tmp_path / "feed.json").write_text("[{broken")
    jobs.catalog_feed_load.enqueue()
    run_jobs()
    assert CatalogProduct.objects.get().price == 149
