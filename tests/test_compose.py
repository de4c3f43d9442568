"""docker-compose.yml: the services people with Docker get, and files it mounts."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"


def test_compose_has_every_service_and_consumers_can_scale() -> None:
    spec = yaml.safe_load(COMPOSE.read_text())
    services = spec["services"]
    assert {"kafka", "postgres", "prometheus", "grafana", "migrate", "producer", "consumer"} <= set(services)
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert "broker,controller" in services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]
    consumer = services["consumer"]
    assert "container_name" not in consumer and "ports" not in consumer  # --scale consumer=N needs both absent
    assert consumer["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["db", "upgrade"]


def test_files_the_compose_file_mounts_exist() -> None:
    spec = yaml.safe_load(COMPOSE.read_text())
    for name, svc in spec["services"].items():
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0]
            if src.startswith("./"):
                assert (ROOT / src).exists(), f"{name} mounts {src}, which is missing"


def test_docker_compose_config_accepts_it() -> None:
    docker = shutil.which("docker")
    if not docker:
        pytest.skip("the docker CLI is not installed")
    if subprocess.run([docker, "compose", "version"], capture_output=True).returncode:
        pytest.skip("the docker CLI has no compose plugin here")
    res = subprocess.run([docker, "compose", "-f", str(COMPOSE), "config", "--quiet"], capture_output=True,
                         text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr


def test_compose_publishes_only_on_this_host_and_grafana_asks_for_a_password() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    for name, svc in services.items():
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"
    grafana = services["grafana"]["environment"]
    assert grafana["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert "GRAFANA_ADMIN_PASSWORD" in grafana["GF_SECURITY_ADMIN_PASSWORD"]


def test_the_producer_keeps_its_state_in_a_writable_volume() -> None:
    spec = yaml.safe_load(COMPOSE.read_text())
    volumes = spec["services"]["producer"]["volumes"]
    assert any(v.split(":")[1] == "/var/lib/newsstream" and v.split(":")[0] in spec["volumes"] for v in volumes)
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "NEWSSTREAM_STATE_DIR=/var/lib/newsstream/state" in dockerfile
    assert "chown -R newsstream /var/lib/newsstream" in dockerfile  # the image's user (uid 10001) can write it


def test_the_image_installs_the_built_wheel_and_the_context_leaves_local_state_out() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install -e" not in dockerfile and "pip wheel" in dockerfile and "/dist/*.whl" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".kafka", ".newsstream", ".git"} <= set(ignored)


def test_the_package_says_its_license_once_and_its_version_once() -> None:
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["license"] == "MIT" and (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert "version" not in meta and "version" in meta["dynamic"]
