"""The built wheel works outside the checkout: migrations and the Kafka pom travel as package data."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def run(*cmd: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    res = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd, timeout=600,
                         env={**os.environ, **(env or {})})
    assert res.returncode == 0, f"{cmd}: {res.stdout[-2000:]}\n{res.stderr[-3000:]}"
    return res


def test_a_wheel_installed_in_a_fresh_venv_upgrades_a_database_and_finds_its_broker_pom(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", dist, ROOT, cwd=tmp_path)
    wheel = next(dist.glob("newsstream-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    # the dependencies come from the test's own environment (a path line, so that its editable
    # install of this checkout is not picked up); newsstream itself only from the wheel
    site = Path(run(py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path)
                .stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(py, "-m", "pip", "install", "--no-deps", "--quiet", wheel, cwd=tmp_path)
    where = tmp_path / "elsewhere"
    where.mkdir()
    located = run(py, "-c", "import pipeline, migrations; print(pipeline.__file__); print(migrations.__file__)",
                  cwd=where).stdout.split()
    assert all(str(env_dir) in path for path in located), located  # not the checkout
    cli = env_dir / "bin" / "newsstream"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSSTREAM_")}
    res = subprocess.run([str(cli), "db", "upgrade", "--database-url", f"sqlite:///{where / 'news.db'}"],
                         capture_output=True, text=True, cwd=where, env=clean, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    current = run(cli, "db", "current", "--database-url", f"sqlite:///{where / 'news.db'}", cwd=where)
    assert "(head)" in current.stdout, current.stdout
    status = subprocess.run([str(cli), "broker", "status"], capture_output=True, text=True, cwd=where, timeout=60,
                            env={**clean, "NEWSSTREAM_BROKER_HOME": str(where / ".kafka")})
    assert status.returncode == 3 and "not running" in status.stdout, status  # 3: not running (LSB status)
    pom = run(py, "-c", "from pipeline.bus.broker import POM; print(POM, POM.exists())", cwd=where).stdout.split()
    assert pom[1] == "True" and str(env_dir) in pom[0]
