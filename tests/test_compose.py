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
