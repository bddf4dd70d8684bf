"""End-to-end fixtures: the product under Daphne against the test database and
the real channel layer, a shop page served from another origin, and headless
Chromium driven by Playwright."""

import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.db import connection

from community.models import Expert
from tests.browser.helpers import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listening on {port}")


@pytest.fixture(scope="session")
def shop_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def strict_shop_port() -> int:
    """A second shop, with a strict CSP; the widget compares origins with their port."""
    return free_port()


# The shop's order reports to the server under test are signed with this.
ORDER_WEBHOOK_SECRET = "browser-shop-secret"


@pytest.fixture(scope="session")
def server_env(
    django_db_setup, django_db_blocker, shop_port, strict_shop_port, tmp_path_factory
) -> dict[str, str]:
    """The environment of a production-like Daphne on the test database."""
    with django_db_blocker.unblock():
        database = connection.settings_dict
        db_url = (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}/"
            f"{database['NAME']}"
            if connection.vendor == "postgresql"
            else f"sqlite:///{database['NAME']}"
        )
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DATABASE_URL": db_url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "WIDGET_ALLOWED_ORIGINS": (
            f"http://localhost:{shop_port},http://127.0.0.1:{strict_shop_port}"
        ),
        "DEBUG": "1",
        "LOG_LEVEL": "WARNING",
        "ORDER_WEBHOOK_SECRET": ORDER_WEBHOOK_SECRET,
        "PHOTO_ROOT": str(tmp_path_factory.mktemp("photos")),
    }
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    return env


def start_daphne(env: dict[str, str], port: int | None = None) -> tuple[subprocess.Popen, int]:
    port = port or free_port()
    command = ["daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]
    process = subprocess.Popen([sys.executable, "-m", *command], cwd=ROOT, env=env)
    wait_for_port(port, process)
    return process, port


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # open sockets can hold a graceful stop
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def live_server_url(server_env):
    """Daphne serving config.asgi on the test database, like production would. Its own
    demo shop (/shop/ at localhost, the chat at 127.0.0.1) embeds the widget too."""
    port = free_port()
    env = {
        **server_env,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "WIDGET_ALLOWED_ORIGINS": f"{server_env['WIDGET_ALLOWED_ORIGINS']},http://localhost:{port}",
    }
    process, port = start_daphne(env, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def serve_shop(port: int, widget_base: str, csp: str | None = None) -> ThreadingHTTPServer:
    """Someone else's shop on another origin, embedding the widget with one script tag,
    optionally under the shop's own Content-Security-Policy."""
    # Hostile CSS for the widget to withstand (a strict CSP would block it anyway).
    hostile = (
        ""
        if csp
        else (
            "<style>body{font:16px serif;background:#fafafa}"
            "button{all:unset}div{color:red!important}</style>"
        )
    )

    def page(product: str) -> bytes:
        # A product page names its product to the widget, as a shop may (data-product-sku).
        title = f"{product} · Other shop" if product else "Other shop"
        sku = f" data-product-sku='{product}'" if product else ""
        return (
            "<!doctype html><html lang=en><head><meta name=viewport content='width=device-width'>"
            f"<title>{title}</title>{hostile}</head><body>"
            "<h1>A shop on another origin</h1><p>Hostile CSS above must not reach the widget.</p>"
            "<a href='?product=AUR-ANC2' data-testid='product-link'>Aurora ANC 2</a>"
            f"<script src='{widget_base}/static/widget.js' async{sku}></script></body></html>"
        ).encode()

    class Shop(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            if csp:
                self.send_header("Content-Security-Policy", csp)
            self.end_headers()
            query = parse_qs(urlsplit(self.path).query)
            self.wfile.write(page("".join(query.get("product", []))[:20].replace("'", "")))

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Shop)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="session")
def demo_shop_url(live_server_url) -> str:
    """The product's demo shop (templates/shop.html): a brand's web shop on another origin."""
    return live_server_url.replace("127.0.0.1", "localhost") + "/shop/"


@pytest.fixture(scope="session")
def shop_url(live_server_url, shop_port):
    server = serve_shop(shop_port, live_server_url)
    yield f"http://localhost:{shop_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    """Module-scoped: Playwright's sync API holds an event loop in this thread while
    it runs, which async tests elsewhere must not inherit. Meanwhile the ORM calls
    the tests make here are still plain synchronous ones, hence the flag, which the
    servers under test never get (see server_env)."""
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def wait_for_idle_database(timeout: float = 10) -> None:
    """Until no other connection to the test database is inside a statement or a
    transaction for a moment: what the server does as the browser's sockets close."""
    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state IS NOT NULL AND state <> 'idle'"
            )
            busy = cursor.fetchone()[0]
        now = time.monotonic()
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= 0.2:
            return
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def _servers_quiet_before_the_flush(request, _django_db_helper):
    """After each test, its pages close and the servers finish what the closing sockets
    started before the database is emptied: a server writing while the flush truncates
    every table can deadlock it, and the next test then starts on the last one's rows.
    Depends on the database fixture, so it is torn down before the flush."""
    yield
    if "browser" in request.fixturenames:
        for context in request.getfixturevalue("browser").contexts:
            context.close()
    if connection.vendor == "postgresql" and request.node.get_closest_marker("django_db"):
        wait_for_idle_database()


@pytest.fixture
def make_expert_account(django_user_model):
    """Makes an expert who signs in with an address and PASSWORD: Anna de Vries,
    anna@shop.test, unless told otherwise. Off shift with no console open (unlike
    make_expert's): these tests sign in and go on shift in the browser."""

    def make(
        email: str = "anna@shop.test", name: str = "Anna de Vries", first_name: str = "", **fields
    ) -> Expert:
        user = django_user_model.objects.create_user(
            username=email, email=email, password=PASSWORD, first_name=first_name
        )
        return Expert.objects.create(user=user, display_name=name, **fields)

    return make


@pytest.fixture
def screenshot_dir() -> Path:
    path = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "artifacts" / "screenshots"))
    path.mkdir(parents=True, exist_ok=True)
    return path
