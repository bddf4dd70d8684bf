"""docs/security.md's permission matrix is the code's: every staff route with the
right it needs, and a signed-in user without that right is refused."""

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver

DOC = Path(__file__).resolve().parent.parent / "docs" / "security.md"


def staff_routes(patterns=None, prefix="") -> dict[str, str]:
    """'/route/' -> permission, for every view behind community.permissions.staff_required."""
    found = {}
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            found |= staff_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            permission = getattr(pattern.callback, "required_permission", None)
            if permission:
                found["/" + prefix + str(pattern.pattern)] = permission
    return found


def documented_routes() -> dict[str, str]:
    return dict(re.findall(r"^\| `(/staff[^`]*)` \| `([a-z_.]+)` \|", DOC.read_text(), re.M))


def test_the_matrix_in_docs_lists_exactly_the_staff_routes_and_their_rights():
    assert documented_routes() == staff_routes()


@pytest.mark.django_db
def test_every_staff_route_refuses_a_signed_in_user_without_the_right(client):
    """An expert (or anyone signed in) without staff rights gets 403, never the page."""
    user = get_user_model().objects.create_user(username="eva", password="pw-123456")
    client.force_login(user)
    for route in staff_routes():
        url = re.sub(r"<int:[a-z_]+>", "1", route)
        url = re.sub(r"<[a-z]+:[a-z_]+>", "x", url)
        assert client.get(url).status_code in (403, 405), url
        assert client.post(url).status_code == 403, url
