"""Whatever staff type or a crafted request sends, a bad value is a field error on the
page (400 for filters, an error message on the page for actions), never a 500, and
nothing changes. Redirects after an action never leave the site."""

import pytest

from community.models import ShiftSlot
from tests.community.test_permissions import assert_nothing_changed, world  # noqa: F401
from tests.conftest import create_staff

pytestmark = pytest.mark.django_db

HUGE = str(10**30)


@pytest.fixture
def staff_client(client, world):  # noqa: F811
    client.force_login(create_staff(username="lead", email="lead@example.com"))
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/staff/metrics/?days=²",
        f"/staff/metrics/?days={HUGE}",
        "/staff/metrics/?days=0&format=csv",
        "/staff/audit/?page=²",
        f"/staff/audit/?page={HUGE}",
        "/staff/redemptions/?product=²",
        f"/staff/redemptions/?product={HUGE}",
        "/staff/redemptions/?status=lost",
    ],
)
def test_bad_filters_are_a_400_with_the_field_error_on_the_page(staff_client, url):
    response = staff_client.get(url)
    assert response.status_code == 400
    assert 'data-testid="form-errors"' in response.content.decode()


def bad_actions(world):  # noqa: F811
    expert = f"/staff/experts/{world['expert'].pk}/action/"
    return [
        (expert, {"action": "adjust", "amount": HUGE, "reason": "x"}, "Points:"),
        (expert, {"action": "adjust", "amount": "²", "reason": "x"}, "Points:"),
        (expert, {"action": "adjust", "reason": "x"}, "Points:"),
        (expert, {"action": "reverse", "entry": "²", "reason": "x"}, "Ledger entry:"),
        (expert, {"action": "reverse", "entry": HUGE, "reason": "x"}, "Ledger entry:"),
        (expert, {"action": "limit", "limit": "²"}, "Chat limit:"),
        (expert, {"action": "limit", "limit": HUGE}, "Chat limit:"),
        (expert, {"action": "promote"}, "Action:"),
        (
            f"/staff/reports/{world['report'].pk}/action/",
            {"action": "hid", "reason": "x"},
            "Action:",
        ),
        (f"/staff/applications/{world['application'].pk}/action/", {"action": "acept"}, "Action:"),
        (
            "/staff/redemptions/action/",
            {"action": "reject", "redemption": ["²"], "note": "x"},
            "Redemptions:",
        ),
        (
            "/staff/redemptions/action/",
            {"action": "reject", "redemption": [HUGE], "note": "x"},
            "Redemptions:",
        ),
        (
            "/console/shifts/",
            {
                "action": "publish",
                "starts_at": "2030-01-01T10:00",
                "ends_at": "2030-01-01T12:00",
                "capacity": HUGE,
            },
            "Experts needed:",
        ),
        ("/console/shifts/", {"action": "publish", "starts_at": "soon"}, "Starts:"),
        ("/console/shifts/", {"action": "sign_up", "slot": "²"}, "Shift:"),
    ]


def test_bad_action_inputs_show_a_field_error_and_change_nothing(staff_client, world):  # noqa: F811
    for url, data, error in bad_actions(world):
        response = staff_client.post(url, data, follow=True)
        # A refused shift comes back at once with what was typed: 400, not a redirect.
        refused_in_place = data.get("action") == "publish"
        assert response.status_code == (400 if refused_in_place else 200), (url, data)
        assert error in response.content.decode(), (url, data)
        assert_nothing_changed(world)
        assert not ShiftSlot.objects.exists()


def test_a_good_period_and_shift_still_work(staff_client):
    assert staff_client.get("/staff/metrics/?days=7").status_code == 200
    staff_client.post(
        "/console/shifts/",
        {
            "action": "publish",
            "starts_at": "2030-01-01T10:00",
            "ends_at": "2030-01-01T12:00",
            "capacity": "2",
        },
    )
    slot = ShiftSlot.objects.get()
    assert (slot.starts_at.hour, slot.capacity) == (9, 2)  # 10:00 in Amsterdam is 09:00 UTC


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "http:/evil"])
def test_next_never_leaves_the_site(staff_client, world, target):  # noqa: F811
    expert = world["expert"]
    response = staff_client.post(
        f"/staff/experts/{expert.pk}/action/",
        {"action": "limit", "limit": "2", "next": target},
    )
    assert response["Location"] == "/staff/experts/"
    response = staff_client.post(
        "/staff/redemptions/action/", {"action": "approve", "next": target}
    )
    assert response["Location"] == "/staff/redemptions/"
    kept = staff_client.post(
        f"/staff/experts/{expert.pk}/action/",
        {"action": "limit", "limit": "3", "next": "/staff/experts/?page=2"},
    )
    assert kept["Location"] == "/staff/experts/?page=2"
