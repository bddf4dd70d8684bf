"""Two Daphne processes on one PostgreSQL and one Redis: chats, the queue, the cap
and the leaderboard work across them, and killing one (kill -9) loses nothing."""

import asyncio
import os
import signal
import subprocess
import threading
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import free_port, serve_shop, start_daphne, stop
from tests.browser.helpers import go_on_shift, log_in, send_from_widget, start_chat

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


class Balancer:
    """A TCP front door like a load balancer: each connection goes to the first
    backend that accepts it, so when one process dies clients land on the other."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.open_writers: set = set()
        self.refused = 0  # connections closed at once for want of a backend
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._serve, args=(ready,), daemon=True).start()
        ready.wait(5)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._connect, "127.0.0.1", self.port)
        )
        ready.set()
        self.loop.run_forever()

    async def _connect(self, client_reader, client_writer) -> None:
        self.open_writers.add(client_writer)
        for backend in self.backends:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", backend)
                break
            except OSError:
                continue
        else:
            self.refused += 1
            client_writer.close()
            return
        await asyncio.gather(self._pipe(client_reader, writer), self._pipe(reader, client_writer))

    @staticmethod
    async def _pipe(reader, writer) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def cut(self) -> None:
        """The backend goes away: refuse new connections and drop the open ones."""
        self.backends = []

        def drop() -> None:
            for writer in self.open_writers:
                writer.close()

        self.loop.call_soon_threadsafe(drop)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)


@pytest.fixture
def own_shop_port():
    """A shop of these tests' own (the session's shop keeps its port)."""
    return free_port()


@pytest.fixture
def two_servers(server_env, own_shop_port):
    env = {**server_env, "WIDGET_ALLOWED_ORIGINS": f"http://localhost:{own_shop_port}"}
    first, first_port = start_daphne(env)
    second, second_port = start_daphne(env)
    yield (first, first_port), (second, second_port)
    stop(first)
    stop(second)


@pytest.fixture
def experts(make_expert_account):
    return [
        make_expert_account(max_concurrent_chats=1),
        make_expert_account("bram@shop.test", "Bram Jansen", max_concurrent_chats=1),
    ]


def test_chat_queue_cap_and_leaderboard_across_two_processes(
    browser, two_servers, own_shop_port, experts
):
    (_, first_port), (_, second_port) = two_servers
    on_first, on_second = f"http://127.0.0.1:{first_port}", f"http://127.0.0.1:{second_port}"
    shop = serve_shop(own_shop_port, on_first)  # shoppers talk to the first process
    shop_url = f"http://localhost:{own_shop_port}/"
    try:
        anna = browser.new_context().new_page()  # Anna's console is on the second process
        log_in(anna, on_second, "anna@shop.test")
        anna.goto(f"{on_second}/console/")
        anna.get_by_test_id("shift-toggle").click()
        bram = browser.new_context().new_page()  # Bram watches from the first
        log_in(bram, on_first, "bram@shop.test")
        bram.goto(f"{on_first}/console/")
        expect(bram.get_by_test_id("leaderboard-row")).to_have_count(2)

        sam = browser.new_context().new_page()
        start_chat(sam, shop_url, "Which earbuds for the gym?", "Sam")
        expect(anna.get_by_test_id("chat-pane")).to_have_count(1)
        send_from_widget(sam, "Sweat-proof ones please")
        pane = anna.get_by_test_id("chat-pane").first
        expect(pane).to_contain_text("Sweat-proof ones please")
        pane.get_by_test_id("composer-input").fill("The Stride Sport is rated IPX7.")
        pane.get_by_test_id("send-button").click()
        expect(sam.get_by_test_id("message-list")).to_contain_text("IPX7")

        # Anna's cap is one chat: the next shopper waits, whichever process they use.
        noor = browser.new_context().new_page()
        start_chat(noor, shop_url, "Is there a student discount?", "Noor")
        expect(noor.get_by_test_id("queue-position")).to_contain_text("1")

        pane.get_by_test_id("resolve-button").click()
        anna.get_by_test_id("resolve-summary").fill("Stride Sport")
        anna.get_by_test_id("resolve-confirm").click()
        expect(noor.get_by_test_id("message-list")).to_contain_text("Anna de Vries")
        # The award made on the second process reaches a console on the first.
        anna_row = bram.locator(
            f'li[data-testid="leaderboard-row"][data-expert-id="{experts[0].pk}"]'
        )
        expect(anna_row).to_contain_text("10")
    finally:
        shop.shutdown()
        shop.server_close()


def test_killing_a_process_mid_chat_loses_and_doubles_nothing(
    browser, two_servers, own_shop_port, experts
):
    (first, first_port), (_, second_port) = two_servers
    front = Balancer([first_port, second_port])
    base = f"http://127.0.0.1:{front.port}"
    shop = serve_shop(own_shop_port, base)
    try:
        anna = browser.new_context().new_page()
        log_in(anna, base, "anna@shop.test")
        anna.goto(f"{base}/console/")
        anna.get_by_test_id("shift-toggle").click()
        sam = browser.new_context().new_page()
        start_chat(sam, f"http://localhost:{own_shop_port}/", "Pairing keeps failing", "Sam")
        pane = anna.get_by_test_id("chat-pane").first
        send_from_widget(sam, "before 1")
        expect(pane).to_contain_text("before 1")

        os.kill(first.pid, signal.SIGKILL)  # both sockets were on the first process
        first.wait(timeout=10)
        send_from_widget(sam, "during 2")  # queued in the widget until it reconnects
        pane.get_by_test_id("composer-input").fill("reply 3")
        pane.get_by_test_id("send-button").click()
        send_from_widget(sam, "after 4")

        for text in ("before 1", "during 2", "after 4"):
            expect(pane.get_by_test_id("message").filter(has_text=text)).to_have_count(
                1, timeout=30_000
            )
        expect(sam.get_by_test_id("message").filter(has_text="reply 3")).to_have_count(
            1, timeout=30_000
        )
        from chat.models import Message

        bodies = list(Message.objects.order_by("seq").values_list("body", flat=True))
        for text in ("before 1", "during 2", "reply 3", "after 4"):
            assert bodies.count(text) == 1, bodies
    finally:
        shop.shutdown()
        shop.server_close()
        front.close()


class OwnRedis:
    """A Redis of this test's own: a child process on a free port, never the machine's
    Redis (6379, REDIS_URL, TEST_REDIS_URL), so stopping and restarting it disturbs no
    one else. `stop` is an outage; `start` brings it back, empty, on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.start()

    def up(self) -> bool:
        import redis

        try:
            with redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=0.5) as client:
                return client.ping()
        except (redis.ConnectionError, redis.TimeoutError):
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
             "--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not self.up():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Redis did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop it, and wait until it is gone (nothing to do if it is already)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis():
    redis = OwnRedis()
    try:
        yield redis
    finally:
        redis.stop()


def test_redis_restart_mid_chat_loses_nothing_and_every_screen_catches_up(
    browser, server_env, own_shop_port, own_redis, experts, screenshot_dir
):
    """Two processes share the restarted Redis: the shoppers' widgets on one, the
    expert's console on the other. Messages arrive once each, and the state frames
    sent after the restart (queue, assignment) reach every screen."""
    env = {
        **server_env,
        "REDIS_URL": own_redis.url,
        "WIDGET_ALLOWED_ORIGINS": f"http://localhost:{own_shop_port}",
    }
    shop_side, shop_side_port = start_daphne(env)
    console_side, console_side_port = start_daphne(env)
    base = f"http://127.0.0.1:{console_side_port}"
    shop = serve_shop(own_shop_port, f"http://127.0.0.1:{shop_side_port}")
    shop_url = f"http://localhost:{own_shop_port}/"
    try:
        anna = browser.new_context().new_page()  # may hold one chat (experts fixture)
        log_in(anna, base, "anna@shop.test")
        anna.goto(f"{base}/console/")
        anna.get_by_test_id("shift-toggle").click()
        sam = browser.new_context().new_page()
        start_chat(sam, shop_url, "Bluetooth drops in the gym", "Sam")
        pane = anna.get_by_test_id("chat-pane").first
        send_from_widget(sam, "before the restart")
        expect(pane).to_contain_text("before the restart")

        own_redis.stop()
        # The widget keeps it pending (its socket needs the layer) and sends it on return.
        send_from_widget(sam, "while Redis is down")
        # Kept on purpose: the outage is the behaviour under test, and it lasts a
        # moment, as real ones do (the servers see their Redis connections fail).
        time.sleep(1)
        own_redis.start()
        back_at = time.monotonic()
        send_from_widget(sam, "after the restart")
        # Service resumes by itself; the expert catches up from the database.
        for text in ("while Redis is down", "after the restart"):
            expect(pane.get_by_test_id("message").filter(has_text=text)).to_have_count(
                1, timeout=45_000
            )
        print(f"\nexpert had both messages {time.monotonic() - back_at:.1f} s after Redis was back")
        pane.get_by_test_id("composer-input").fill("Got all three, Sam.")
        pane.get_by_test_id("send-button").click()
        expect(sam.get_by_test_id("message").filter(has_text="Got all three")).to_have_count(
            1, timeout=45_000
        )

        # State after the restart: Noor queues behind Sam, and is assigned once Anna
        # resolves Sam's chat on the other process.
        noor = browser.new_context().new_page()
        start_chat(noor, shop_url, "Which ear tips for running?", "Noor")
        expect(noor.get_by_test_id("queue-position")).to_be_visible(timeout=15_000)
        pane.get_by_test_id("resolve-button").click()
        anna.get_by_test_id("resolve-summary").fill("Re-paired")
        anna.get_by_test_id("resolve-confirm").click()
        expect(noor.get_by_test_id("panel-title")).to_contain_text("Anna", timeout=15_000)
        expect(anna.get_by_test_id("chat-pane").first).to_contain_text("Which ear tips")
        caught_up = time.monotonic() - back_at
        print(f"\nqueue and assignment seen {caught_up:.1f} s after Redis was back")
        noor.screenshot(path=screenshot_dir / "widget-assigned-after-redis-restart.png")
        for text in ("before the restart", "while Redis is down", "after the restart"):
            assert sam.get_by_test_id("message").filter(has_text=text).count() == 1
    finally:
        shop.shutdown()
        shop.server_close()
        stop(shop_side)
        stop(console_side)


def test_database_outage_gives_a_clear_error_and_service_resumes(
    browser, server_env, own_shop_port, experts
):
    """The app reaches PostgreSQL through a front door we can close: a real outage."""
    from chat.models import Message

    database = Balancer([5432])
    env = {
        **server_env,
        "DATABASE_URL": server_env["DATABASE_URL"].replace(":5432/", f":{database.port}/"),
        "WIDGET_ALLOWED_ORIGINS": f"http://localhost:{own_shop_port}",
    }
    server, port = start_daphne(env)
    base = f"http://127.0.0.1:{port}"
    shop = serve_shop(own_shop_port, base)
    try:
        anna = browser.new_context().new_page()
        log_in(anna, base, "anna@shop.test")
        anna.goto(f"{base}/console/")
        anna.get_by_test_id("shift-toggle").click()
        sam = browser.new_context().new_page()
        start_chat(sam, f"http://localhost:{own_shop_port}/", "Replacement ear tips", "Sam")
        pane = anna.get_by_test_id("chat-pane").first
        expect(pane).to_contain_text("Replacement ear tips")
        stored = Message.objects.count()

        database.cut()  # PostgreSQL is gone for the app, open connections included
        pane.get_by_test_id("composer-input").fill("Sending you a set today.")
        pane.get_by_test_id("send-button").click()
        send_from_widget(sam, "Size medium, please.")
        # The console's socket does not go through the database: it stays open, and
        # the server answers `unavailable` once the write rolled back. So the message
        # is failed, with a clear error (pending would mean the socket had dropped).
        mine = pane.get_by_test_id("message").filter(has_text="Sending you a set today.")
        expect(mine).to_have_attribute("data-status", "failed")
        expect(pane.get_by_test_id("composer-error")).to_contain_text("Try again")
        expect(anna.get_by_test_id("connection-status")).to_have_attribute("data-state", "open")
        assert Message.objects.count() == stored  # nothing half-written

        database.backends = [5432]  # back again: the same console carries on
        mine.get_by_test_id("message-retry").click()
        sent = sam.get_by_test_id("message").filter(has_text="Sending you a set today.")
        expect(sent).to_have_count(1, timeout=40_000)
        assert Message.objects.filter(body="Sending you a set today.").count() == 1
        # The widget sent Sam's message again by itself once the store was back.
        from_sam = pane.get_by_test_id("message").filter(has_text="Size medium, please.")
        expect(from_sam).to_have_count(1, timeout=40_000)
        assert Message.objects.filter(body="Size medium, please.").count() == 1
    finally:
        shop.shutdown()
        shop.server_close()
        stop(server)
        database.close()


@pytest.mark.parametrize("stop_signal", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "term"])
def test_a_console_on_a_stopped_process_gets_no_new_chats(
    browser, server_env, own_shop_port, experts, stop_signal
):
    """Before: the killed (or deployed) process never decremented its consoles'
    counter, and the next chat went to a console that was gone."""
    from django.utils import timezone

    from chat.models import Conversation
    from community.models import ConsoleLease

    env = {
        **server_env,
        "WIDGET_ALLOWED_ORIGINS": f"http://localhost:{own_shop_port}",
        "CHAT_HEARTBEAT_SECONDS": "1",
        "CHAT_CONSOLE_LEASE_SECONDS": "3",
    }
    doomed, doomed_port = start_daphne(env)
    survivor, survivor_port = start_daphne(env)
    on_doomed, on_survivor = f"http://127.0.0.1:{doomed_port}", f"http://127.0.0.1:{survivor_port}"
    shop = serve_shop(own_shop_port, on_survivor)
    shop_url = f"http://localhost:{own_shop_port}/"
    try:
        anna = browser.new_context().new_page()  # her console is on the doomed process
        log_in(anna, on_doomed, "anna@shop.test")
        go_on_shift(anna, on_doomed)
        # Kept on purpose: outlasting a lease (3 s) is the behaviour under test; her
        # heartbeats (every 1 s) must keep it alive meanwhile.
        time.sleep(4)
        sam = browser.new_context().new_page()
        start_chat(sam, shop_url, "Which case fits the Crusher?", "Sam")
        expect(anna.get_by_test_id("chat-pane")).to_have_count(1)  # she was reachable

        leases = ConsoleLease.objects.filter(expert=experts[0])
        renewed_until = max(leases.values_list("expires_at", flat=True))
        doomed.send_signal(stop_signal)
        doomed.wait(timeout=15)
        anna.close()  # nothing of hers reconnects
        stopped_at = time.monotonic()
        deadline = stopped_at + 10
        while leases.filter(expires_at__gt=timezone.now()).exists():
            assert time.monotonic() < deadline, "her lease outlived the process"
            time.sleep(0.2)
        gone_at = timezone.now()
        lease_gone_after = time.monotonic() - stopped_at
        print(f"\nlease gone {lease_gone_after:.1f} s after {stop_signal.name}")
        assert lease_gone_after < 3 + 1
        # With either signal it ran out when her last heartbeat said, rather than going
        # at once: Daphne runs no disconnect handlers on SIGTERM (docs/reliability.md).
        assert gone_at >= renewed_until

        noor = browser.new_context().new_page()
        start_chat(noor, shop_url, "Is there a student discount?", "Noor")
        expect(noor.get_by_test_id("queue-position")).to_be_visible()
        chat = Conversation.objects.get(topic="Is there a student discount?")
        assert chat.status == "waiting" and chat.expert_id is None
    finally:
        shop.shutdown()
        shop.server_close()
        stop(doomed)
        stop(survivor)


def test_the_customer_is_told_when_the_experts_console_is_gone_and_who_takes_over(
    browser, server_env, own_shop_port, experts, screenshot_dir
):
    """Before: the widget showed the expert's name and a green dot for the whole
    grace period after their console died, and the customer typed into nothing."""
    env = {
        **server_env,
        "WIDGET_ALLOWED_ORIGINS": f"http://localhost:{own_shop_port}",
        "CHAT_HEARTBEAT_SECONDS": "1",
        "CHAT_CONSOLE_LEASE_SECONDS": "3",
        "CHAT_DISCONNECT_GRACE_SECONDS": "6",
    }
    doomed, doomed_port = start_daphne(env)
    survivor, survivor_port = start_daphne(env)
    on_doomed, on_survivor = f"http://127.0.0.1:{doomed_port}", f"http://127.0.0.1:{survivor_port}"
    shop = serve_shop(own_shop_port, on_survivor)
    try:
        anna = browser.new_context().new_page()  # her console dies with its process
        log_in(anna, on_doomed, "anna@shop.test")
        go_on_shift(anna, on_doomed)
        sam = browser.new_context().new_page()
        start_chat(sam, f"http://localhost:{own_shop_port}/", "Left earbud is silent", "Sam")
        title, subtitle = sam.get_by_test_id("panel-title"), sam.get_by_test_id("panel-subtitle")
        expect(title).to_contain_text("Anna")
        expect(subtitle).to_have_text("Brand expert")

        bram = browser.new_context().new_page()  # on the surviving process
        log_in(bram, on_survivor, "bram@shop.test")
        go_on_shift(bram, on_survivor)

        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=15)
        killed_at = time.monotonic()
        # Her lease runs out (3 s) and a sweep (every 2 s) finds it.
        expect(subtitle).to_have_text(
            "Lost the connection · your chat keeps its place", timeout=15_000
        )
        told_after = time.monotonic() - killed_at
        expect(title).to_contain_text("Bram", timeout=30_000)  # after the grace period
        expect(subtitle).to_have_text("Brand expert")
        moved_after = time.monotonic() - killed_at
        expect(bram.get_by_test_id("chat-pane")).to_contain_text("Left earbud is silent")
        sam.screenshot(path=screenshot_dir / "widget-chat-moved-to-another-expert.png")
        print(f"\ncustomer told after {told_after:.1f} s; chat with Bram after {moved_after:.1f} s")
    finally:
        shop.shutdown()
        shop.server_close()
        stop(doomed)
        stop(survivor)


def test_after_a_redis_restart_with_no_socket_open_the_shift_switch_moves(
    browser, server_env, own_redis, experts
):
    """Before: the first broadcast after a restart went out on a dead pooled
    connection, and the `shift` answer was lost (6 of 8 restarts)."""
    server, port = start_daphne({**server_env, "REDIS_URL": own_redis.url})
    base = f"http://127.0.0.1:{port}"
    try:
        anna = browser.new_context().new_page()
        log_in(anna, base, "anna@shop.test")
        anna.goto(f"{base}/console/")
        toggle = anna.get_by_test_id("shift-toggle")
        toggle.click()
        expect(toggle).to_have_attribute("aria-checked", "true")
        toggle.click()
        expect(toggle).to_have_attribute("aria-checked", "false")
        anna.goto("about:blank")  # no socket open through the restart
        own_redis.stop()
        own_redis.start()
        anna.goto(f"{base}/console/")
        toggle.click()
        expect(toggle).to_have_attribute("aria-checked", "true")
    finally:
        stop(server)
