"""A production-like stack on this machine: nginx in front of two Daphne processes on
unix sockets, the job worker and the scheduler, on PostgreSQL and Redis, DEBUG off.

    python deploy/stack.py [--port 8080]      (or: make stack)

It migrates, collects static files and loads the demo data, prints the addresses and
runs until Ctrl-C. tests/browser/test_stack.py drives the same code.
"""

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DAPHNES = 2


def processes(run_dir: Path) -> dict[str, list[str]]:
    """Every process of the stack besides nginx (compose.yaml mirrors this list)."""
    daphnes = {
        f"daphne-{n}": [
            PYTHON, "-m", "daphne", "-u", str(run_dir / f"daphne-{n}.sock"),
            "config.asgi:application",
        ]
        for n in range(1, DAPHNES + 1)
    }  # fmt: skip
    return {
        **daphnes,
        "worker": [PYTHON, "manage.py", "db_worker", "--queue-name", "*", "--no-reload"],
        "scheduler": [PYTHON, "manage.py", "scheduler"],
    }


def stack_env(*, port: int, database_url: str, redis_url: str, run_dir: Path) -> dict[str, str]:
    origin = f"http://127.0.0.1:{port}"
    return {
        **{k: v for k, v in os.environ.items() if k != "DEBUG"},
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": origin,
        "WIDGET_ALLOWED_ORIGINS": f"http://localhost:{port}",
        "SITE_URL": origin,
        "TRUSTED_PROXIES": "127.0.0.1/32",  # nginx; its unix-socket peers count as it
        "HTTPS": "0",  # plain HTTP on this machine; TLS is the operator's
        "STATIC_ROOT": str(run_dir / "static"),
        "SERVE_MEDIA": "0",  # nginx serves /media/
        "SAME_NETWORK_CHECKS": "0",  # shop and console share one machine here
        "PYTHONUNBUFFERED": "1",
    }


def nginx_conf(*, port: int, run_dir: Path, env: dict[str, str]) -> str:
    values = {
        "run_dir": str(run_dir),
        "mime_types": "/etc/nginx/mime.types",
        "listen": f"127.0.0.1:{port}",
        "static_root": env["STATIC_ROOT"],
        "media_root": str(ROOT / "media"),
        "upstream_servers": "\n".join(
            f"        server unix:{run_dir / f'daphne-{n}.sock'};" for n in range(1, DAPHNES + 1)
        ),
    }
    template = (ROOT / "deploy" / "nginx.conf").read_text()
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m[1], m[0]), template)


def ensure_database(database_url: str) -> None:
    """Create the stack's PostgreSQL database when it is missing."""
    base, name = database_url.rsplit("/", 1)
    exists = subprocess.run(
        ["psql", f"{base}/postgres", "-qAtc", f"SELECT 1 FROM pg_database WHERE datname='{name}'"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    if exists.stdout.strip() != "1":
        subprocess.run(["psql", f"{base}/postgres", "-qc", f'CREATE DATABASE "{name}"'], check=True)


@dataclass
class Stack:
    port: int
    database_url: str
    redis_url: str
    run_dir: Path
    running: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, demo: bool = True) -> None:
        try:
            self._start(demo=demo)
        except BaseException:
            self.stop()  # nothing half-started stays behind
            raise

    def _start(self, *, demo: bool) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists():
            raise SystemExit("nginx is not installed (Debian: apt-get install nginx)")
        (self.run_dir / "nginx-tmp").mkdir(parents=True, exist_ok=True)
        # Started as root, nginx's workers run as an unprivileged user: they must reach
        # the Daphne sockets and the static files in here.
        self.run_dir.chmod(0o755)
        env = stack_env(
            port=self.port,
            database_url=self.database_url,
            redis_url=self.redis_url,
            run_dir=self.run_dir,
        )
        ensure_database(self.database_url)
        manage = [PYTHON, "manage.py"]
        subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        subprocess.run(
            [*manage, "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        if demo:
            subprocess.run([*manage, "load_demo"], cwd=ROOT, env=env, check=True)
        conf = self.run_dir / "nginx.conf"
        conf.write_text(nginx_conf(port=self.port, run_dir=self.run_dir, env=env))
        logs = self.run_dir / "logs"
        logs.mkdir(exist_ok=True)
        for name, command in processes(self.run_dir).items():
            log = open(logs / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
            self.running[name] = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self.wait_for_daphnes()  # else nginx marks them down for its fail_timeout (10 s)
        self.running["nginx"] = subprocess.Popen([nginx, "-c", str(conf), "-p", str(self.run_dir)])
        self.wait_until_ready()

    def wait_for_daphnes(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        for n in range(1, DAPHNES + 1):
            path = str(self.run_dir / f"daphne-{n}.sock")
            while True:
                try:
                    with socket.socket(socket.AF_UNIX) as probe:
                        probe.connect(path)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"nothing listens on {path}") from None
                    time.sleep(0.1)

    def wait_until_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.running.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the stack did not become ready at {self.url}")

    def stop(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.running.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("STACK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/stack"),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("STACK_REDIS_URL", "redis://127.0.0.1:6379/1")
    )
    parser.add_argument("--run-dir", type=Path, default=ROOT / ".stack")
    options = parser.parse_args()
    stack = Stack(
        port=options.port,
        database_url=options.database_url,
        redis_url=options.redis_url,
        run_dir=options.run_dir.resolve(),
    )
    try:
        stack.start()
        print(
            f"\n  nginx → 2 Daphne processes, a job worker and the scheduler (DEBUG off)\n"
            f"  Demo shop with the widget: http://localhost:{options.port}/shop/\n"
            f"  Expert console:            {stack.url}/console/\n"
            f"  Staff pages:               {stack.url}/staff/\n"
            f"  Health:                    {stack.url}/readyz\n"
            f"  Logs (JSON lines):         {options.run_dir}/logs/\n",
            flush=True,
        )
        stop_signals = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)  # after the children started
        signal.sigwait(stop_signals)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
