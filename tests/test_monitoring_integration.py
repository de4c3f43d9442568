"""A real Prometheus scrapes a real producer and consumer while articles flow; then every PromQL
expression of the Grafana dashboard, the console dashboard and the alert rules is evaluated through
Prometheus's HTTP API and must return data, and the console page must render its graphs.

Alert expressions are meant to be empty while all is well, so for them the series they compare
(tests.test_monitoring.operands) are evaluated instead; the whole alert expression must still
evaluate without error, and every rule must report health "ok".
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from pipeline.bus.broker import free_port, two_free_ports
from pipeline.config import Settings
from tests.conftest import SAMPLES
from tests.pipeline_helpers import send_raw
from tests.test_monitoring import (
    CONSUMER_JOB,
    MON,
    PRODUCER_JOB,
    RULES,
    SUPERVISOR_JOB,
    alert_rules,
    console_exprs,
    grafana_exprs,
    operands,
    tool,
)

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent
N_ARTICLES = 120
N_FIRST = 100
N_POISON = 3
WORKERS = 2


def generated_articles(n: int) -> list[dict]:
    """n distinct articles in the project's JSON schema, built from the sample articles."""
    base = [json.loads(line) for line in (SAMPLES / "articles.jsonl").read_text().splitlines() if line.strip()]
    people = ["Ana Ruiz", "Tomas Berg", "Leila Haddad", "Kofi Mensah", "Mei Tanaka", "Pavel Novak"]
    cities = ["Lisbon", "Nairobi", "Oslo", "Quito", "Ghent", "Osaka", "Tunis", "Krakow"]
    out = []
    for i in range(n):
        rec = dict(base[i % len(base)])
        rec["id"] = f"mon-{i}-{uuid.uuid4().hex[:8]}"
        rec["title"] = f"{rec.get('title', 'Report')} ({i})"
        rec["body"] = (f"{cities[i % len(cities)].upper()} – {people[i % len(people)]} met union leaders in "
                       f"{cities[(i + 3) % len(cities)]} on Monday. " + rec["body"])
        out.append(rec)
    return out


def api(base: str, path: str, **params: str) -> dict:
    url = f"{base}{path}" + ("?" + urllib.parse.urlencode(params) if params else "")
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


def query(base: str, expr: str) -> list[dict]:
    body = api(base, "/api/v1/query", query=expr)
    assert body["status"] == "success", (expr, body)
    return body["data"]["result"]


def scalar(base: str, expr: str) -> float | None:
    res = query(base, expr)
    return float(res[0]["value"][1]) if res else None


def wait_until(check, what: str, deadline: float):
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last is True or (last and not isinstance(last, (list, set, dict))):
            return last
        if isinstance(last, (list, set, dict)) and not last:
            return True
        time.sleep(1)
    pytest.fail(f"{what}: not reached before the deadline; last state: {last}")


def test_prometheus_sees_the_pipeline_and_every_dashboard_and_alert_expression_has_data(
        kafka_settings: Settings, tmp_path: Path) -> None:
    tool("promtool")
    tool("prometheus")
    s = kafka_settings
    cport, pport, prom_port = two_free_ports(), free_port(), free_port()
    base = f"http://127.0.0.1:{prom_port}"

    # the project's own config, pointed at this test's processes and scraped every second
    config = yaml.safe_load((MON / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [str(RULES)]
    sport = free_port()
    targets = {CONSUMER_JOB: [f"127.0.0.1:{cport + i}" for i in range(WORKERS)],  # one port per worker
               SUPERVISOR_JOB: [f"127.0.0.1:{sport}"],
               PRODUCER_JOB: [f"127.0.0.1:{pport}"], "prometheus": [f"127.0.0.1:{prom_port}"]}
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": targets[job["job_name"]]}]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))

    arts = generated_articles(N_ARTICLES)
    first, later = arts[:N_FIRST], arts[N_FIRST:]
    lines = [json.dumps(a) for a in first] + [json.dumps(first[0]),  # a duplicate
                                              json.dumps({"title": "no body at all"})]  # rejected
    (tmp_path / "feed.jsonl").write_text("\n".join(lines) + "\n")
    # then a named pipe: the producer blocks reading it (and stays scraped) until the test writes it
    fifo = tmp_path / "more.jsonl"
    os.mkfifo(fifo)
    send_raw(s.bootstrap_servers, s.topic, [(b"poison", b"{not json")] * N_POISON)

    cli = [sys.executable, "-m", "newsstream_cli"]
    kafka = ["--bootstrap-servers", s.bootstrap_servers, "--topic", s.topic]
    env = {**os.environ, "NEWSSTREAM_STATE_DIR": str(tmp_path / "state")}  # not the checkout's seen-set
    procs: list[subprocess.Popen] = []
    logs = {name: (tmp_path / f"{name}.log").open("w+") for name in ("prometheus", "consumer", "producer")}
    try:
        prom = subprocess.Popen([str(MON / "prometheus.sh"), "--config", str(tmp_path / "prometheus.yml"),
                                 "--listen", f"127.0.0.1:{prom_port}", "--state", str(tmp_path / "prom")],
                                stdout=logs["prometheus"], stderr=subprocess.STDOUT, cwd=ROOT,
                                start_new_session=True)
        procs.append(prom)
        consumer = subprocess.Popen([*cli, "consume", *kafka, "--group", s.group, "--database-url",
                                     f"sqlite:///{tmp_path / 'news.db'}", "--metrics-port", str(cport),
                                     "--workers", str(WORKERS), "--until-idle", "100", "--batch-size", "8",
                                     "--supervisor-metrics-port", str(sport)],
                                    stdout=logs["consumer"], stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        procs.append(consumer)
        # a file, a named pipe, then stdin: the producer stays up (and scraped) while stdin is open
        producer = subprocess.Popen([*cli, "produce", *kafka, "--metrics-port", str(pport), "--no-progress",
                                     str(tmp_path / "feed.jsonl"), str(fifo), "-"],
                                    stdin=subprocess.PIPE, stdout=logs["producer"], stderr=subprocess.STDOUT,
                                    cwd=ROOT, env=env)
        procs.append(producer)
        deadline = time.monotonic() + 110

        def ready() -> bool:
            try:
                return urllib.request.urlopen(f"{base}/-/ready", timeout=2).status == 200
            except OSError:
                return False

        wait_until(ready, "Prometheus ready", deadline)
        wait_until(lambda: (scalar(base, "sum(newsstream_articles_processed_total)") or 0) >= N_FIRST,
                   "the first file's articles stored", deadline)

        # the producer now waits on the pipe; what it sends next also serves the first file's
        # delivery reports, so Prometheus sees newsstream_articles_produced_total
        def write_more() -> None:
            with fifo.open("w") as f:  # blocks until the producer opens the pipe
                f.write("".join(json.dumps(a) + "\n" for a in later))

        writer = threading.Thread(target=write_more, daemon=True)
        writer.start()
        writer.join(timeout=30)
        assert not writer.is_alive(), "the producer never opened the named pipe"

        # what the user reads on the dashboard: every article stored, the poison dead-lettered, no lag
        def settled() -> dict:
            want = {"sum(newsstream_articles_processed_total)": N_ARTICLES,
                    "sum(newsstream_dlq_messages_total)": N_POISON,
                    "sum(newsstream_articles_rejected_total)": 1,
                    "sum(newsstream_duplicates_skipped_total)": 1,
                    "sum(newsstream_articles_produced_total) >= bool " + str(N_FIRST): 1,
                    "sum(kafka_consumergroup_lag)": 0,
                    f"sum(newsstream_consumer_lag_messages{{topic='{s.topic}'}})": 0}
            got = {e: scalar(base, e) for e in want}
            return {e: (got[e], v) for e, v in want.items() if got[e] != v}

        wait_until(settled, "Prometheus sees the articles stored and the lag back to 0", deadline)

        dashboards = sorted(set(grafana_exprs()) | set(console_exprs()))
        alerts = [r["expr"] for r in alert_rules()]
        inner = sorted({o for e in alerts for o in operands(e)})
        assert len(dashboards) >= 30 and len(inner) >= 8

        def empty_expressions() -> list[str]:
            return [e for e in dashboards + inner if not query(base, e)]

        wait_until(empty_expressions, "every dashboard expression and alert series returns data", deadline)
        for expr in alerts:  # empty while healthy, but they must evaluate
            query(base, expr)

        # the values are right, not just present
        # every worker process is a target of its own, and each partition's lag is reported once
        assert scalar(base, f"sum(up{{job='{CONSUMER_JOB}'}})") == WORKERS
        assert scalar(base, f"count(newsstream_build_info{{job='{CONSUMER_JOB}'}})") == WORKERS
        assert scalar(base, f"sum(up{{job='{PRODUCER_JOB}'}})") == 1
        assert scalar(base, "sum(newsstream_articles_produced_total)") > 0
        assert scalar(base, "sum by (reason) (newsstream_dlq_messages_total{reason='bad_json'})") == N_POISON
        assert scalar(base, "count(sum by (stage) (newsstream_stage_duration_seconds_count))") == 5
        assert scalar(base, "sum(newsstream_entities_extracted_total)") >= N_ARTICLES
        lag_series = query(base, "kafka_consumergroup_lag")
        assert {r["metric"]["consumergroup"] for r in lag_series} == {s.group}
        assert sorted(r["metric"]["partition"] for r in lag_series) == ["0", "1", "2"]
        p95 = scalar(base, "histogram_quantile(0.95, sum by (le) "
                           "(rate(newsstream_end_to_end_latency_seconds_bucket[5m])))")
        assert p95 is not None and 0 < p95 < 300

        rules = api(base, "/api/v1/rules")["data"]["groups"]
        health = {r["name"]: (r["health"], r.get("lastError", "")) for g in rules for r in g["rules"]}
        assert len(health) == len(alerts)
        assert all(h == "ok" for h, _err in health.values()), health
        firing = [a["labels"]["alertname"] for a in api(base, "/api/v1/alerts")["data"]["alerts"]
                  if a["state"] == "firing"]
        assert firing == [], f"alerts fire on a healthy pipeline: {firing}"

        page = urllib.request.urlopen(f"{base}/consoles/newsstream.html", timeout=10)
        assert page.status == 200
        html = page.read().decode()
        assert "error executing template" not in html
        source = (ROOT / "monitoring" / "consoles" / "newsstream.html").read_text()
        assert html.count("new PromConsole.Graph(") == source.count("new PromConsole.Graph(") >= 13  # all rendered
        for graph in ("g_throughput", "g_lag", "g_latency", "g_stages", "g_failures", "g_dlq", "g_entities",
                      "g_events", "g_event_types", "g_event_countries", "g_workers", "g_batch"):
            assert f'id="{graph}"' in html
        assert f"127.0.0.1:{cport}" in html and f"127.0.0.1:{cport + 1}" in html  # the workers table
        assert "en_core_web_sm" in html
        for asset in ("rickshaw.min.js", "prom_console.js"):  # the graph library this Prometheus serves
            src = next(part.split('"')[1] for part in html.split("src=")[1:] if asset in part.split('"')[1])
            assert urllib.request.urlopen(f"{base}{src}", timeout=10).status == 200, src

        assert producer.stdin is not None
        producer.stdin.close()
        assert producer.wait(timeout=60) == 0
        logs["producer"].seek(0)
        summary = logs["producer"].read().strip().splitlines()[-1]
        assert summary.startswith(f"sent {N_ARTICLES}, duplicates 1, rejected ") and "delivery failures 0" in summary
    except BaseException:
        for name, f in logs.items():
            f.flush()
            f.seek(0)
            sys.stderr.write(f"--- {name} log (tail)\n{f.read()[-3000:]}\n")
        raise
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                if p is procs[0]:
                    os.killpg(p.pid, signal.SIGTERM)
                else:
                    p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        for f in logs.values():
            f.close()
