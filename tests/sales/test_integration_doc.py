"""The order-reporting examples in docs/integration.md run as printed against a real
server: a shop developer who copies them gets a stored, signed, idempotent report."""

import contextlib
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sales.models import Order

pytestmark = pytest.mark.django_db(transaction=True)
DOC = (Path(__file__).resolve().parents[2] / "docs" / "integration.md").read_text()
SECRET = "shop-secret-from-the-docs"


def code_block(language: str) -> str:
    [block] = re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.DOTALL)
    return block


@pytest.fixture
def chat_server(live_server, settings, monkeypatch):
    settings.ORDER_WEBHOOK_SECRET = SECRET
    monkeypatch.setenv("CHAT_HOST", live_server.url)
    monkeypatch.setenv("ORDER_WEBHOOK_SECRET", SECRET)
    return live_server.url


def run_python_example() -> str:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code_block("python"), "docs/integration.md", "exec"), {})  # noqa: S102
    return printed.getvalue()


def test_the_python_example_reports_an_order_once(chat_server):
    assert run_python_example().strip() == "{'order_id': 'NW-1001', 'attributed': False}"
    assert run_python_example().strip() == "{'order_id': 'NW-1001', 'attributed': False}"
    order = Order.objects.get()
    assert (order.order_id, str(order.amount), order.currency) == ("NW-1001", "149.00", "EUR")
    assert order.visitor_ref == "0b6f2c1e-8d4a-4f4e-9d0a-5a7c1e2b3c4d"


def test_the_python_example_says_what_was_wrong_with_a_refused_report(chat_server, settings):
    settings.ORDER_WEBHOOK_SECRET = "another-secret"
    with pytest.raises(ValueError, match="bad_signature"):
        run_python_example()
    assert not Order.objects.exists()


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("openssl")), reason="no curl")
def test_the_curl_example_reports_an_order(chat_server):
    answer = subprocess.run(
        ["sh", "-c", code_block("sh")], capture_output=True, text=True, timeout=30, check=True
    )
    assert answer.stdout == '{"order_id": "NW-1001", "attributed": false}'
    assert Order.objects.get().visitor_ref == "0b6f2c1e-8d4a-4f4e-9d0a-5a7c1e2b3c4d"
