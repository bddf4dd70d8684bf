"""The shop and the staff approval queue over HTTP: who may do what, and that a
refusal changes nothing."""

import pytest

from points import selectors as points_selectors
from rewards.models import Redemption

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(make_expert, make_product, fund):
    expert = fund(make_expert(), 500)
    product = make_product(stock=5)
    from rewards import services

    redemption = services.redemption_place(
        expert=expert, product_id=product.pk, shipping_address="Damrak 1", request_key="r"
    )
    return redemption


def test_expert_redeems_from_the_shop_once_per_form(client, make_expert, make_product, fund):
    expert = fund(make_expert(), 500)
    product = make_product(stock=5)
    client.force_login(expert.user)
    form = {"shipping_address": "Damrak 1, Amsterdam", "request_key": "form-1"}
    for _ in range(2):  # a double submit of the same form
        response = client.post(f"/console/shop/{product.pk}/redeem/", form)
        assert response.status_code == 302
    assert Redemption.objects.filter(expert=expert).count() == 1
    assert points_selectors.balance(expert=expert) == 400


@pytest.mark.parametrize("who", ["anonymous", "expert"])
@pytest.mark.parametrize("action", ["approve", "reject", "ship", "deliver"])
def test_only_staff_act_on_redemptions(client, pending, make_expert, who, action):
    if who == "expert":
        client.force_login(make_expert().user)
    response = client.post(
        "/staff/redemptions/action/", {"action": action, "redemption": [pending.pk], "note": "x"}
    )
    if who == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.status == "pending"
    assert points_selectors.balance(expert=pending.expert) == 400


@pytest.mark.parametrize("url", ["/staff/redemptions/", "/staff/leaderboard/", "/staff/"])
def test_staff_pages_refuse_experts(client, make_expert, url):
    client.force_login(make_expert().user)
    assert client.get(url).status_code == 403


def test_staff_approves_in_bulk_and_rejects_with_a_reason(client, pending, staff, make_product):
    from rewards import services

    second = services.redemption_place(
        expert=pending.expert,
        product_id=make_product().pk,
        shipping_address="x",
        request_key="second",
    )
    client.force_login(staff)
    client.post("/staff/redemptions/action/", {"action": "approve", "redemption": [pending.pk]})
    client.post(
        "/staff/redemptions/action/",
        {"action": "reject", "redemption": [second.pk], "note": "Out of stock locally"},
    )
    pending.refresh_from_db()
    second.refresh_from_db()
    assert pending.status == "approved"
    assert (second.status, second.decision_reason) == ("rejected", "Out of stock locally")
    assert points_selectors.balance(expert=pending.expert) == 400


def test_another_expert_cannot_cancel(client, pending, make_expert):
    client.force_login(make_expert().user)
    client.post(f"/console/redemptions/{pending.pk}/cancel/")
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_statement_csv_lists_entries_with_running_balance(client, pending):
    client.force_login(pending.expert.user)
    response = client.get("/console/points.csv")
    lines = response.content.decode().strip().splitlines()
    assert lines[0].startswith("Date,Kind,Points,Balance")
    assert [line.split(",")[2:4] for line in lines[1:]] == [["500", "500"], ["-100", "400"]]


def test_shipping_says_which_reward_went_to_whom(client, pending, staff):
    """Before: "Done." and nothing to tell one shipment from the next."""
    client.force_login(staff)
    client.post("/staff/redemptions/action/", {"action": "approve", "redemption": [pending.pk]})
    answer = client.post(
        "/staff/redemptions/action/",
        {"action": "ship", "redemption": [pending.pk], "note": "PostNL 3S123"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    name, expert = pending.product.name, pending.expert.display_name
    assert f"Marked {name} for {expert} as shipped" in answer.content.decode()


@pytest.mark.parametrize(
    "form",
    [
        {"shipping_address": "Damrak 1 " * 80, "request_key": "form-1"},  # 720 characters
        {"shipping_address": "Damrak 1", "request_key": "k" * 65},
    ],
)
def test_an_oversized_redemption_form_is_refused_and_holds_nothing(
    client, make_expert, make_product, fund, form
):
    """Before: a 720-character address was stored, and a long key was cut to 64 silently."""
    expert = fund(make_expert(), 500)
    product = make_product(stock=5)
    client.force_login(expert.user)
    page = client.post(f"/console/shop/{product.pk}/redeem/", form, follow=True)
    assert "at most" in page.content.decode()
    assert not Redemption.objects.exists()
    assert points_selectors.balance(expert=expert) == 500


def test_the_admin_cannot_edit_what_the_services_own(admin_client, make_expert):
    """Suspension and the chat limit go through services that audit them."""
    expert = make_expert()
    page = admin_client.get(f"/admin/community/expert/{expert.pk}/change/").content.decode()
    for field in ("suspended_at", "max_concurrent_chats", "open_chat_count", "on_shift"):
        assert f'name="{field}"' not in page
    assert 'name="display_name"' in page
