"""Reproduce docs/dashboard.png: a demo-like run watched by Prometheus, then a headless Chromium
screenshot of the console dashboard.

    .venv/bin/python monitoring/screenshot.py [--seconds 150] [--range SECONDS] [--out docs/dashboard.png]

It starts everything it needs on free ports and stops it again: a throwaway Kafka broker (the
code of `newsstream broker start`), Prometheus (monitoring/prometheus.sh with the project's rules
and console), two consumer workers of one group (`newsstream consume --workers 2`) writing to a
temporary SQLite file, and one producer (`newsstream produce`) fed in waves through named pipes: the
sample articles, variants of them, a few bad records (rejected) and a few undecodable messages
(dead-lettered). The page opens on the dashboard's own default range (15 minutes) unless
``--range`` asks for another. Needs Debian's `prometheus` and `chromium` (apt-get install prometheus chromium).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
MON = ROOT / "monitoring"
sys.path.insert(0, str(ROOT))

from pipeline.bus.broker import LocalBroker, free_port, two_free_ports  # noqa: E402
from pipeline.bus.clients import ensure_topic, send_all  # noqa: E402
from pipeline.config import load_settings  # noqa: E402

TOPIC = "news.dashboard"
PEOPLE = ["Ana Ruiz", "Tomas Berg", "Leila Haddad", "Kofi Mensah", "Mei Tanaka", "Pavel Novak", "Sara Lund"]
CITIES = ["Lisbon", "Nairobi", "Oslo", "Quito", "Ghent", "Osaka", "Tunis", "Krakow", "Lima", "Accra"]


def variants(start: int, n: int) -> list[str]:
    base = [json.loads(x) for x in (ROOT / "samples" / "articles.jsonl").read_text().splitlines() if x.strip()]
    out = []
    for i in range(start, start + n):
        rec = dict(base[i % len(base)])
        rec["id"] = f"dash-{i}-{uuid.uuid4().hex[:6]}"
        rec["title"] = f"{rec.get('title', 'Report')} ({i})"
        rec["body"] = (f"{CITIES[i % len(CITIES)].upper()} – {PEOPLE[i % len(PEOPLE)]} met officials of the "
                       f"port authority in {CITIES[(i + 3) % len(CITIES)]} on Monday and criticised the plan. "
                       + rec["body"])
        out.append(json.dumps(rec))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=150, help="how long articles flow before the screenshot")
    ap.add_argument("--range", type=float, metavar="SECONDS",
                    help="the graphs' range (default: none in the URL, so the dashboard's own 15 minutes)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "dashboard.png"))
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium or not shutil.which("prometheus"):
        sys.exit("needs chromium and prometheus: apt-get install chromium prometheus")

    tmp = Path(tempfile.mkdtemp(prefix="newsstream-dash-"))
    broker = LocalBroker(tmp / "kafka", port=free_port(), controller_port=free_port(),
                         jars_dir=ROOT / ".kafka" / "jars")
    procs: list[subprocess.Popen] = []
    try:
        print("starting a Kafka broker", flush=True)
        broker.start(timeout=120)
        ensure_topic(load_settings(bootstrap_servers=broker.bootstrap), TOPIC, partitions=3)
        ensure_topic(load_settings(bootstrap_servers=broker.bootstrap), TOPIC + ".dlq", partitions=1)
        base_port = two_free_ports()  # `consume --workers 2`: worker i serves the metrics port + i
        ports = {"consumer": [base_port, base_port + 1], "producer": free_port(), "prometheus": free_port(),
                 "supervisor": free_port()}
        config = yaml.safe_load((MON / "prometheus.yml").read_text())
        config["global"].update(scrape_interval="2s", evaluation_interval="2s")
        config["rule_files"] = [str(MON / "rules" / "newsstream.rules.yml")]
        targets = {"newsstream-consumer": [f"127.0.0.1:{p}" for p in ports["consumer"]],
                   "newsstream-producer": [f"127.0.0.1:{ports['producer']}"],
                   "newsstream-supervisor": [f"127.0.0.1:{ports['supervisor']}"],
                   "prometheus": [f"127.0.0.1:{ports['prometheus']}"]}
        for job in config["scrape_configs"]:
            job["static_configs"] = [{"targets": targets[job["job_name"]]}]
        (tmp / "prometheus.yml").write_text(yaml.safe_dump(config))
        base = f"http://127.0.0.1:{ports['prometheus']}"
        procs.append(subprocess.Popen([str(MON / "prometheus.sh"), "--config", str(tmp / "prometheus.yml"),
                                       "--listen", base[7:], "--state", str(tmp / "prom")],
                                      start_new_session=True))
        cli = [sys.executable, "-m", "newsstream_cli"]
        kafka = ["--bootstrap-servers", broker.bootstrap, "--topic", TOPIC]
        db = f"sqlite:///{tmp / 'news.db'}"
        env = {**os.environ, "NEWSSTREAM_STATE_DIR": str(tmp / "state")}  # a seen-set of its own
        subprocess.run([*cli, "db", "upgrade", "--database-url", db], check=True, cwd=ROOT)
        log = (tmp / "processes.log").open("w")
        procs.append(subprocess.Popen([*cli, "consume", *kafka, "--group", "dashboard", "--database-url", db,
                                       "--metrics-port", str(base_port), "--workers", "2", "--batch-size", "16",
                                       "--supervisor-metrics-port", str(ports["supervisor"]),
                                       "--no-migrate"], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env))
        waves = max(3, int(args.seconds // 10))
        fifos = []
        for i in range(waves):
            fifos.append(tmp / f"wave{i}.jsonl")
            os.mkfifo(fifos[-1])
        procs.append(subprocess.Popen([*cli, "produce", *kafka, "--metrics-port", str(ports["producer"]),
                                       "--no-progress", str(ROOT / "samples"), *map(str, fifos), "-"],
                                      stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                      env=env))
        kafka_settings = load_settings(bootstrap_servers=broker.bootstrap)
        started = time.monotonic()
        n = 0
        for i, fifo in enumerate(fifos):
            size = 10 + (i * 7) % 25  # uneven waves make the graphs readable
            lines = variants(n, size)
            n += size
            if i % 3 == 1:
                lines.append(json.dumps({"title": "a record without a body"}))
            if i % 4 == 2:
                send_all(kafka_settings, TOPIC, [(b"poison", b"{not json"),
                                                 (b"poison", json.dumps({"schema_version": 9, "id": "x"}).encode())])
            writer = threading.Thread(target=lambda f=fifo, ls=lines: f.write_text("\n".join(ls) + "\n"),
                                      daemon=True)
            writer.start()
            writer.join(timeout=60)
            print(f"wave {i + 1}/{waves}: {len(lines)} records", flush=True)
            time.sleep(max(0.0, started + (i + 1) * args.seconds / waves - time.monotonic()))
        time.sleep(5)
        url = f"{base}/consoles/newsstream.html"
        if args.range:  # the console's range control reads #pctc{"duration": ...}
            hash_ = urllib.parse.quote(json.dumps({"duration": int(args.range), "endTime": 0}, separators=(",", ":")))
            url += f"#pctc{hash_}"
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run",
                        f"--user-data-dir={tmp / 'chromium'}", "--window-size=1400,2700",
                        "--virtual-time-budget=10000", f"--screenshot={out}", url],
                       check=True, timeout=120, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stored = json.loads(urllib.request.urlopen(
            f"{base}/api/v1/query?query=sum(newsstream_articles_processed_total)", timeout=10).read())
        print(f"{out} written from {url}; Prometheus counts "
              f"{stored['data']['result'][0]['value'][1] if stored['data']['result'] else 0} articles stored")
        return 0
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                if p.stdin:
                    p.stdin.close()
                if p is procs[0]:
                    os.killpg(p.pid, signal.SIGTERM)
                else:
                    p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
