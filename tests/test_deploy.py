"""Production settings pass Django's deployment checks; pages carry a CSP."""

import gzip
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def production_env(**variables: str) -> dict[str, str]:
    """The environment with only the documented production variables; DEBUG unset."""
    unset = ("DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    inherited = {k: v for k, v in os.environ.items() if k not in unset}
    return {**inherited, "SECRET_KEY": secrets.token_urlsafe(50), **variables}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args, "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")},
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "chat.example.com",
        "DATABASE_URL": "sqlite:///:memory:",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": "", "ALLOWED_HOSTS": "x"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_debug_is_off_unless_set():
    shown = manage(
        "shell", "-c", "from django.conf import settings; print(settings.DEBUG)",
        env=production_env(ALLOWED_HOSTS="chat.example.com", DATABASE_URL="sqlite:///:memory:"),
    )  # fmt: skip
    assert shown.stdout.strip() == "False", shown.stderr


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    static_root = tmp_path_factory.mktemp("static")
    env = production_env(
        ALLOWED_HOSTS="chat.example.com",
        DATABASE_URL="sqlite:///:memory:",
        STATIC_ROOT=str(static_root),
    )
    collected = manage("collectstatic", "--noinput", env=env)
    assert collected.returncode == 0, collected.stderr
    return static_root, env


def test_production_static_files_have_hashed_names(collected_static):
    """Before: /static/console.js kept its name across deploys and browsers kept the
    old script."""
    static_root, env = collected_static
    shown = manage(
        "shell", "-c", "from django.templatetags.static import static; print(static('console.js'))",
        env=env,
    )  # fmt: skip
    url = shown.stdout.strip()
    assert re.fullmatch(r"/static/console\.[0-9a-f]{12}\.js", url), shown
    hashed = (static_root / url.removeprefix("/static/")).read_text()
    assert "Live" in hashed and hashed == (static_root / "console.js").read_text()


def test_the_widget_shops_download_is_minified_and_within_its_budget(collected_static):
    """The widget loads on every shop page: 15,000 bytes gzipped at most (issue 6)."""
    static_root, _ = collected_static
    source = (ROOT / "frontend" / "widget.js").read_text()
    served = (static_root / "widget.js").read_text()
    assert "// " not in served and len(served) < 0.9 * len(source)
    assert "BrandChat" in served and ".pn{" in served  # the API and the CSS survived
    assert len(gzip.compress(served.encode(), compresslevel=9, mtime=0)) <= 15_000


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy(client):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy


def image_sources(response) -> list[str]:
    policy = response["Content-Security-Policy"]
    [directive] = [d.split()[1:] for d in policy.split("; ") if d.startswith("img-src ")]
    return directive


@pytest.mark.django_db
def test_product_images_from_the_brands_cdn_may_show_where_product_cards_do(
    client, settings, make_expert
):
    from tests.conftest import create_staff

    settings.CATALOG_IMAGE_ORIGINS = ["https://images.brand.example", "https://*.cdn.example"]
    assert image_sources(client.get("/accounts/login/")) == ["'self'", "data:"]
    client.force_login(make_expert().user)
    assert image_sources(client.get("/console/"))[2:] == settings.CATALOG_IMAGE_ORIGINS
    client.force_login(create_staff(username="sam@shop.test"))
    assert image_sources(client.get("/staff/monitor/"))[2:] == settings.CATALOG_IMAGE_ORIGINS


@pytest.mark.parametrize(
    ("value", "debug", "origins"),
    [
        (
            "https://images.brand.example, https://*.cdn.example/",
            False,
            ["https://images.brand.example", "https://*.cdn.example"],
        ),
        ("HTTPS://Images.Brand.example:8443", False, ["https://images.brand.example:8443"]),
        ("http://localhost:8001", True, ["http://localhost:8001"]),
        ("", False, []),
    ],
)
def test_catalog_image_origins_are_read_as_origins(monkeypatch, value, debug, origins):
    from config.settings import env_csp_origins

    monkeypatch.setenv("CATALOG_IMAGE_ORIGINS", value)
    assert env_csp_origins("CATALOG_IMAGE_ORIGINS", allow_http=debug) == origins


@pytest.mark.parametrize(
    ("value", "debug"),
    [
        ("http://images.brand.example", False),
        ("*", False),
        ("https://*", False),
        ("https://*.example", False),
        ("https://images.brand.example/products", False),
        ("https://images.brand.example; script-src *", False),
        ("'unsafe-inline'", True),
    ],
)
def test_anything_but_an_origin_in_catalog_image_origins_is_refused(monkeypatch, value, debug):
    """It could widen or break the policy: refused, as is plain http in production."""
    from config.settings import env_csp_origins

    monkeypatch.setenv("CATALOG_IMAGE_ORIGINS", value)
    with pytest.raises(RuntimeError, match="is not a"):
        env_csp_origins("CATALOG_IMAGE_ORIGINS", allow_http=debug)


def test_production_refuses_to_start_with_a_plain_http_image_origin():
    shown = manage(
        "check", env=production_env(ALLOWED_HOSTS="x", CATALOG_IMAGE_ORIGINS="http://cdn.example")
    )
    assert shown.returncode != 0 and "CATALOG_IMAGE_ORIGINS" in shown.stderr
