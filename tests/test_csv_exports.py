"""Every CSV the product exports is safe to open in a spreadsheet app: no cell starts
with a character that makes it a formula."""

import csv
import io

import pytest

from config.csv_safe import FORMULA_STARTS
from points.models import LedgerEntry
from tests.conftest import create_staff

pytestmark = pytest.mark.django_db

HOSTILE = ['=HYPERLINK("http://evil.example")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def cells(response) -> list[str]:
    rows = csv.reader(io.StringIO(response.content.decode()))
    return [cell for row in rows for cell in row]


def assert_neutralised(found: list[str]) -> None:
    for text in HOSTILE:
        assert "'" + text in found
    assert not [cell for cell in found if cell.startswith(FORMULA_STARTS)]


def test_metrics_csv_neutralises_expert_names(client, make_expert):
    for name in HOSTILE:
        make_expert(name=name)
    client.force_login(create_staff(username="lead", email="lead@example.com"))
    assert_neutralised(cells(client.get("/staff/metrics/?days=7&format=experts-csv")))


def test_statement_csv_neutralises_memos_with_tabs_and_carriage_returns(client, make_expert):
    expert = make_expert()
    for n, memo in enumerate(HOSTILE):
        LedgerEntry.objects.create(
            expert=expert, amount=1, kind="adjustment", memo=memo, idempotency_key=f"k{n}"
        )
    client.force_login(expert.user)
    assert_neutralised(cells(client.get("/console/points.csv")))
