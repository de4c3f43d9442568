"""Brokers started at the same moment resolve Kafka's jars once, and none starts from a half-made directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# resolve the jars, then at once load the class a broker's first step runs (formatting its storage)
CHILD = """
import subprocess, sys
from pathlib import Path
from pipeline.bus.broker import LocalBroker
b = LocalBroker(Path(sys.argv[1]), jars_dir=Path(sys.argv[2]))
jars = b.ensure_jars()
res = subprocess.run(["java", "-cp", f"{jars}/*", "kafka.tools.StorageTool", "random-uuid"],
                     capture_output=True, text=True)
print(res.returncode, res.stdout.strip(), res.stderr.strip()[-300:])
sys.exit(res.returncode)
"""


@pytest.mark.kafka
def test_three_brokers_starting_at_once_share_one_resolution_of_the_jars(tmp_path: Path) -> None:
    jars = tmp_path / "jars"
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path / f"home{i}"), str(jars)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, (out, err[-2000:])  # the class loads: the directory was whole
        assert len(out.split()[1]) == 22, out  # a cluster id, as StorageTool prints it
    assert any(jars.glob("kafka_2.13-*.jar"))
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("jars")) == ["jars", "jars.lock"], \
        "no half-made directory left behind"
