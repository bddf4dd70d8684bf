"""A Daphne serving pages does not pile up PostgreSQL connections: Django runs each
HTTP request's code in a thread of its own, and a connection left open there stayed
open until the garbage collector found it (with survivors frozen, until a thaw), so a
busy process ran PostgreSQL out of connections ("too many clients already")."""

import http.client

import pytest
from django.db import connection

from tests.browser.conftest import start_daphne, stop
from tests.conftest import session_cookie_for

pytestmark = pytest.mark.django_db(transaction=True)


def connections_to_the_database() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_pages_served_one_after_another_leave_no_connections_behind(server_env, make_expert):
    assert connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)"
    cookie = session_cookie_for(make_expert().user).decode()
    process, port = start_daphne(server_env)
    try:
        before = connections_to_the_database()
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(300):
            client.request("GET", "/console/points/", headers={"Cookie": cookie})
            response = client.getresponse()
            response.read()
            assert response.status == 200
        client.close()
        assert connections_to_the_database() - before <= 1
    finally:
        stop(process)
