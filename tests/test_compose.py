"""No container engine runs on CI machines, so compose.yaml is checked here: it runs
the same processes as `make stack` (deploy/stack.py), with the same commands."""

from pathlib import Path

import yaml

from deploy.stack import processes

ROOT = Path(__file__).resolve().parents[1]
SERVICES = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
SOCKETS = Path("/run/app")  # the volume the Daphnes and nginx share


def test_compose_runs_the_stacks_processes_and_nginx():
    app_services = set(SERVICES) - {"postgres", "redis", "migrate", "nginx"}
    assert app_services == set(processes(SOCKETS))
    assert SERVICES["nginx"]["depends_on"] == [s for s in processes(SOCKETS) if "daphne" in s]


def test_each_service_runs_the_stacks_command():
    for name, command in processes(SOCKETS).items():
        assert SERVICES[name]["command"] == ["python", *command[1:]], name


def test_nginx_in_compose_fills_every_placeholder_of_the_template():
    import re

    template = (ROOT / "deploy" / "nginx.conf").read_text()
    placeholders = set(re.findall(r"\{([a-z_]+)\}", template))
    filled = set(re.findall(r"s#\{([a-z_]+)\}#", " ".join(SERVICES["nginx"]["command"])))
    assert placeholders == filled
