"""`make stack` as CI runs it: nginx in front of two Daphne processes on unix
sockets, the job worker and the scheduler, DEBUG off, on PostgreSQL and Redis."""

import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from deploy.stack import Stack
from tests.browser.conftest import free_port
from tests.browser.helpers import go_on_shift, log_in, open_widget, send_from_widget
from tests.browser.test_several_processes import OwnRedis

pytestmark = [pytest.mark.browser]

EXPERT, EXPERT_PASSWORD = "anna@demo.test", "expert-demo-2026"  # load_demo's


@pytest.fixture(scope="module")
def stack_redis():
    redis = OwnRedis()  # stopped and started below; never the shared one
    yield redis
    redis.stop()


@pytest.fixture(scope="module")
def stack(stack_redis):
    from django.conf import settings

    database = settings.DATABASES["default"]
    base = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}"
    subprocess.run(
        ["psql", f"{base}/postgres", "-qc", "DROP DATABASE IF EXISTS stack_ci WITH (FORCE)"],
        check=True,
    )
    running = Stack(
        port=free_port(),
        database_url=f"{base}/stack_ci",
        redis_url=stack_redis.url,
        # Not under pytest's private tmp: nginx's workers must be able to reach it.
        run_dir=Path(tempfile.mkdtemp(prefix="stack-ci-")),
    )
    running.start()
    yield running
    running.stop()
    shutil.rmtree(running.run_dir, ignore_errors=True)


def websockets_per_daphne(run_dir: Path) -> list[int]:
    """Open connections accepted on each Daphne's unix socket. nginx closes HTTP
    requests to them at once, so what stays open is a WebSocket."""
    paths = [str(run_dir / f"daphne-{n}.sock") for n in (1, 2)]
    counts = [0, 0]
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) == 8 and fields[5] == "03" and fields[7] in paths:  # connected
            counts[paths.index(fields[7])] += 1
    return counts


def wait_for_sockets(run_dir: Path, total: int) -> list[int]:
    deadline = time.monotonic() + 10
    while sum(counts := websockets_per_daphne(run_dir)) != total:
        assert time.monotonic() < deadline, counts
        time.sleep(0.1)
    return counts


def test_a_chat_through_nginx_with_each_side_on_its_own_daphne(browser, stack):
    anna = browser.new_context().new_page()
    log_in(anna, stack.url, EXPERT, EXPERT_PASSWORD)
    go_on_shift(anna, stack.url)
    console_on = wait_for_sockets(stack.run_dir, 1).index(1)

    shop = f"http://localhost:{stack.port}/shop/"
    for _attempt in range(8):  # nginx balances round robin: land the widget on the other
        sam = browser.new_context().new_page()
        open_widget(sam, shop)  # its socket opens with the panel
        if wait_for_sockets(stack.run_dir, 2)[1 - console_on] == 1:
            break
        sam.context.close()
        wait_for_sockets(stack.run_dir, 1)
        urllib.request.urlopen(f"{stack.url}/healthz").close()  # moves the turn on
    assert websockets_per_daphne(stack.run_dir)[1 - console_on] == 1

    sam.get_by_test_id("topic-input").fill("Does the case fit the Crusher Evo?")
    sam.get_by_test_id("name-input").fill("Sam")
    sam.get_by_test_id("start-button").click()
    pane = anna.get_by_test_id("chat-pane").first
    expect(pane).to_contain_text("Does the case fit the Crusher Evo?")
    pane.get_by_test_id("composer-input").fill("It does, snugly.")
    pane.get_by_test_id("send-button").click()
    expect(sam.get_by_test_id("message").filter(has_text="It does, snugly.")).to_have_count(1)
    send_from_widget(sam, "Great, thanks!")
    expect(pane.get_by_test_id("message").filter(has_text="Great, thanks!")).to_have_count(1)
    # Static files come from nginx with hashed names (DEBUG is off).
    scripts = anna.eval_on_selector_all("script[src]", "els => els.map(e => e.src)")
    assert any("/static/console." in src and src.count(".") >= 2 for src in scripts), scripts


def test_failed_logins_are_limited_on_the_real_client_address(browser, stack):
    """A client that sends its own X-Forwarded-For does not get a fresh count:
    nginx overwrites it with the peer's address."""
    locked = []
    for attempt in range(11):
        context = browser.new_context(extra_http_headers={"X-Forwarded-For": f"10.9.8.{attempt}"})
        page = context.new_page()
        page.goto(f"{stack.url}/accounts/login/")
        page.fill("input[name=login]", f"nobody{attempt}@demo.test")  # never one account's limit
        page.fill("input[name=password]", "wrong-password")
        page.locator("form button[type=submit]").first.click()
        page.wait_for_load_state()
        locked.append("Too many failed login attempts" in page.content())
        context.close()
    assert locked == [False] * 10 + [True]


def test_readyz_follows_redis_going_away_and_coming_back(stack, stack_redis):
    def ready() -> int:
        try:
            with urllib.request.urlopen(f"{stack.url}/readyz", timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as refused:
            return refused.code

    assert ready() == 200
    stack_redis.stop()
    assert ready() == 503
    stack_redis.start()
    deadline = time.monotonic() + 30
    while ready() != 200:
        assert time.monotonic() < deadline
        time.sleep(0.5)
