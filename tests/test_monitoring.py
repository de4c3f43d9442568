"""monitoring/: Prometheus configs, alert rules (promtool check + promtool unit tests), the console
dashboard and the Grafana dashboard agree with each other and with docker-compose.yml.

The helpers that pull every PromQL expression out of the dashboards and rules live here; the
integration test (test_monitoring_integration.py) evaluates them against a real Prometheus.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
MON = ROOT / "monitoring"
RULES = MON / "rules" / "newsstream.rules.yml"
RULE_TESTS = MON / "rules" / "newsstream.test.yml"
CONSOLE = MON / "consoles" / "newsstream.html"
GRAFANA = MON / "grafana" / "dashboards" / "newsstream.json"
CONSUMER_JOB, PRODUCER_JOB, SUPERVISOR_JOB = "newsstream-consumer", "newsstream-producer", "newsstream-supervisor"


def tool(name: str) -> str:
    """Path of a Prometheus tool; skip when absent, except in CI (CI=true) where that is a failure."""
    path = shutil.which(name)
    if path is None:
        msg = f"{name} is not installed (Debian: apt-get install prometheus)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the monitoring tests must run in CI: {msg}")
        pytest.skip(msg)
    return path


# -- the expressions, pulled out of the files so the tests cannot drift from them ----------------
_STRING = r'"((?:[^"\\]|\\.)*)"'


def _uncommented(template: str) -> str:
    return re.sub(r"\{\{-?\s*/\*.*?\*/\s*-?\}\}", "", template, flags=re.S)


def console_graph_exprs(text: str | None = None) -> list[str]:
    """Expressions of every PromConsole.Graph (``expr: "..."`` or ``expr: ["...", ...]``)."""
    text = _uncommented(CONSOLE.read_text() if text is None else text)
    out: list[str] = []
    for m in re.finditer(r'expr:\s*(\[(?:\s*"(?:[^"\\]|\\.)*"\s*,?)+\s*\]|"(?:[^"\\]|\\.)*")', text):
        out.extend(re.findall(_STRING, m.group(1)))
    return out


def console_exprs(text: str | None = None) -> list[str]:
    """Every expression of the console page: graphs, (args "...") drilldowns and query "..." tables."""
    text = _uncommented(CONSOLE.read_text() if text is None else text)
    return (console_graph_exprs(text) + re.findall(r'\(args\s+' + _STRING, text)
            + re.findall(r'\bquery\s+' + _STRING, text))


def grafana_exprs() -> list[str]:
    """Every panel's expression; a selector on a dashboard variable (``{family=~"$family"}``) is left
    out, since the console page, which has no variables, shows all."""
    dash = json.loads(GRAFANA.read_text())
    return [re.sub(r'\{\w+=~"\$\w+"\}', "", t["expr"]) for p in dash["panels"] for t in p.get("targets", [])]


def test_grafana_filters_events_by_family() -> None:
    dash = json.loads(GRAFANA.read_text())
    assert [v["name"] for v in dash["templating"]["list"]] == ["family"]
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    assert any('newsstream_events_extracted_total{family=~"$family"}' in e for e in exprs)


def alert_rules() -> list[dict]:
    spec = yaml.safe_load(RULES.read_text())
    return [r for g in spec["groups"] for r in g["rules"] if "alert" in r]


_SPLIT = re.compile(r"\s(?:and|or|unless)(?:\s+(?:on|ignoring)\s*\([^)]*\))?\s|==|!=|>=|<=|>|<")


def operands(expr: str) -> list[str]:
    """The series an alert compares: ``A > 0 and on (x) B == 0`` gives [A, B], ``absent(C == 1)``
    gives [C]. Alerts are meant to be empty while all is well, so the integration test checks
    that each of these inner series has data instead (numbers alone are left out)."""
    parts, depth, start, i, quote = [], 0, 0, 0, ""
    while i < len(expr):
        c = expr[i]
        if quote:
            quote = "" if c == quote and expr[i - 1] != "\\" else quote
        elif c in "\"'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0 and (m := _SPLIT.match(expr, i)):
            parts.append(expr[start:i])
            start = i = m.end()
            continue
        i += 1
    parts.append(expr[start:])
    out: list[str] = []
    for part in (p.strip() for p in parts):
        if re.fullmatch(r"[-+]?[0-9.eE+]+", part):
            continue
        if m := re.fullmatch(r"absent\((.*)\)", part, re.S):
            out.extend(operands(m.group(1)))
        else:
            out.append(part)
    return out


# -- static checks --------------------------------------------------------------------------------
def test_the_expression_helpers_find_every_kind_of_expression() -> None:
    page = '''{{/* expr: "not this" */}} {{ template "prom_query_drilldown" (args "sum(up{job='x'})" "/s") }}
      {{ range query "up{job=~'a.*'} == 1" }}{{ end }}
      new PromConsole.Graph({expr: ["rate(a_total[1m])", "b[5m] > 1"], name: "x"});
      new PromConsole.Graph({expr: "c", name: "y"});'''
    assert console_graph_exprs(page) == ["rate(a_total[1m])", "b[5m] > 1", "c"]
    assert console_exprs(page) == ["rate(a_total[1m])", "b[5m] > 1", "c", "sum(up{job='x'})", "up{job=~'a.*'} == 1"]
    assert operands('sum by (g) (lag) > 0\n and sum by (g) (deriv(lag[5m])) > 0') == [
        "sum by (g) (lag)", "sum by (g) (deriv(lag[5m]))"]
    assert operands('up{job="c"} == 0 and on (job, instance) max_over_time(up{job="c"}[1h]) == 1') == [
        'up{job="c"}', 'max_over_time(up{job="c"}[1h])']
    assert operands('absent(up{job="c"} == 1)') == ['up{job="c"}']
    assert operands('sum(rate(x{a=~"b|c"}[5m])) * 60 > 1') == ['sum(rate(x{a=~"b|c"}[5m])) * 60']


def test_promtool_accepts_the_rules_and_both_prometheus_configs() -> None:
    promtool = tool("promtool")
    res = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SUCCESS: 7 rules found" in res.stdout
    res = subprocess.run([promtool, "check", "config", str(MON / "prometheus.yml")], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    # the docker variant names its rules by their path inside the container: syntax only here
    res = subprocess.run([promtool, "check", "config", "--syntax-only", str(MON / "prometheus.docker.yml")],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr


def test_promtool_unit_tests_of_every_alert_pass() -> None:
    promtool = tool("promtool")
    res = subprocess.run([promtool, "test", "rules", str(RULE_TESTS)], capture_output=True, text=True,
                         timeout=120, cwd=RULE_TESTS.parent)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SUCCESS" in res.stdout


def test_every_alert_has_a_unit_test_that_fires_it_and_one_that_does_not() -> None:
    spec = yaml.safe_load(RULE_TESTS.read_text())
    fired: set[str] = set()
    quiet: set[str] = set()
    for case in spec["tests"]:
        for check in case.get("alert_rule_test", []):
            (fired if check["exp_alerts"] else quiet).add(check["alertname"])
    names = {r["alert"] for r in alert_rules()}
    assert names == {"NewsstreamConsumerLagGrowing", "NewsstreamDeadLetterRateHigh", "NewsstreamNoArticlesProcessed",
                     "NewsstreamTargetDown", "NewsstreamNoConsumer", "NewsstreamEndToEndLatencyHigh",
                     "NewsstreamWorkerCrashLooping"}
    assert fired == names
    # NoArticlesProcessed's healthy workers (busy, idle) sit beside the stuck one in its firing case:
    # promtool fails that case if they fire too
    assert quiet == names - {"NewsstreamNoArticlesProcessed"}


def test_the_console_and_grafana_dashboards_show_the_same_expressions() -> None:
    graphs, console, grafana = console_graph_exprs(), console_exprs(), grafana_exprs()
    assert len(graphs) >= 18 and len(set(grafana)) >= 30
    assert set(graphs) <= set(grafana), set(graphs) - set(grafana)
    assert set(grafana) <= set(console), set(grafana) - set(console)


def test_the_dashboards_cover_what_the_issue_asks_for() -> None:
    text = "\n".join(console_graph_exprs())
    for metric in ["newsstream_articles_produced_total", "newsstream_articles_processed_total",
                   "kafka_consumergroup_lag", "newsstream_end_to_end_latency_seconds_bucket",
                   "newsstream_stage_duration_seconds",
                   "newsstream_articles_failed_total", "newsstream_dlq_messages_total",
                   "newsstream_entities_extracted_total", "newsstream_events_extracted_total",
                   "newsstream_stories_created_total", "newsstream_story_articles"]:  # issue 15
        assert metric in text, metric
    assert "histogram_quantile(0.95" in text and "histogram_quantile(0.99" in text


def test_local_config_scrapes_one_port_per_worker_and_the_producer() -> None:
    spec = yaml.safe_load((MON / "prometheus.yml").read_text())
    jobs = {j["job_name"]: [t for sc in j["static_configs"] for t in sc["targets"]] for j in spec["scrape_configs"]}
    assert jobs[CONSUMER_JOB] == [f"127.0.0.1:{p}" for p in range(9108, 9112)]
    assert jobs[PRODUCER_JOB] == ["127.0.0.1:9106", "127.0.0.1:8088"]  # produce's and serve-ingest's defaults
    assert jobs[SUPERVISOR_JOB] == ["127.0.0.1:9107"]  # consume --workers N: the metrics port - 1
    assert spec["rule_files"] == ["rules/newsstream.rules.yml"]


def test_docker_config_has_the_same_jobs_and_rules_and_compose_mounts_them() -> None:
    local = yaml.safe_load((MON / "prometheus.yml").read_text())
    docker = yaml.safe_load((MON / "prometheus.docker.yml").read_text())
    assert {j["job_name"] for j in docker["scrape_configs"]} == {j["job_name"] for j in local["scrape_configs"]}
    assert [Path(r).name for r in docker["rule_files"]] == [Path(r).name for r in local["rule_files"]]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    prom_mounts = dict(v.rsplit(":", 1)[0].split(":", 1) for v in compose["prometheus"]["volumes"])
    assert prom_mounts["./monitoring/rules"] == str(Path(docker["rule_files"][0]).parent)
    console_dir = next(a.split("=", 1)[1] for a in compose["prometheus"]["command"]
                       if a.startswith("--web.console.templates="))
    assert prom_mounts["./monitoring/consoles/newsstream.html"] == f"{console_dir}/newsstream.html"
    graf_mounts = dict(v.rsplit(":", 1)[0].split(":", 1) for v in compose["grafana"]["volumes"])
    provider = yaml.safe_load((MON / "grafana/provisioning/dashboards/newsstream.yml").read_text())
    assert graf_mounts["./monitoring/grafana/dashboards"] == provider["providers"][0]["options"]["path"]


def test_grafana_panels_use_the_provisioned_datasource() -> None:
    ds = yaml.safe_load((MON / "grafana/provisioning/datasources/prometheus.yml").read_text())["datasources"][0]
    dash = json.loads(GRAFANA.read_text())
    assert dash["uid"] == "newsstream"
    for panel in dash["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": ds["uid"]}, panel["title"]
        assert panel["targets"], panel["title"]


def test_make_monitor_runs_the_prometheus_script() -> None:
    res = subprocess.run(["make", "-n", "monitor"], capture_output=True, text=True, cwd=ROOT, timeout=30)
    assert res.returncode == 0, res.stderr
    assert "monitoring/prometheus.sh" in res.stdout
    helptext = subprocess.run([str(MON / "prometheus.sh"), "--help"], capture_output=True, text=True, timeout=30)
    assert helptext.returncode == 0 and "--listen" in helptext.stdout
    ignored = subprocess.run(["git", "check-ignore", "-q", ".newsstream/prometheus/data"], cwd=ROOT, timeout=30)
    assert ignored.returncode == 0, ".newsstream/ (Prometheus's storage) must be git-ignored"


def test_grafana_has_the_console_s_panels_laid_out_without_overlap() -> None:
    dash = json.loads(GRAFANA.read_text())
    headings = re.findall(r"<h4>([^<]+)</h4>", CONSOLE.read_text())
    graphs = [p["title"] for p in dash["panels"] if p["type"] == "timeseries"]
    assert graphs == [h.replace("&lt;", "<").replace("&gt;", ">") for h in headings]
    cells: dict[tuple[int, int], str] = {}
    for panel in dash["panels"]:
        g = panel["gridPos"]
        assert g["x"] >= 0 and g["x"] + g["w"] <= 24, panel["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


# -- issue 18.8 -----------------------------------------------------------------------------------
def _expected_consumers_expr() -> str:
    (expr,) = [e for e in console_exprs() if e.startswith("count(max_over_time(up{job='newsstream-consumer'}")]
    return expr


def test_both_dashboards_open_on_the_last_15_minutes() -> None:
    assert json.loads(GRAFANA.read_text())["time"] == {"from": "now-15m", "to": "now"}
    script = _uncommented(CONSOLE.read_text())
    assert "PromConsole.TimeControl._initialValues.duration = 900" in script
    assert "PromConsole.graphDefaults.duration = 900" in script
    assert script.index("graphDefaults.duration = 900") < script.index("new PromConsole.Graph(")
    # prom_content_head creates the range control, which shows the duration it finds then (it showed
    # "1h" above 15-minute graphs when this came later: docs/dashboard.png)
    assert script.index("_initialValues.duration = 900") < script.index('template "prom_content_head"')


def test_batch_size_and_messages_per_second_are_not_on_one_axis() -> None:
    dash = json.loads(GRAFANA.read_text())
    for panel in dash["panels"]:
        exprs = [t["expr"] for t in panel.get("targets", [])]
        mixed = any("batch_size" in e for e in exprs) and any("messages_consumed" in e for e in exprs)
        assert not mixed, panel["title"]
    for m in re.finditer(r"new PromConsole\.Graph\(\{(.*?)\}\);", CONSOLE.read_text(), re.S):
        assert not ("batch_size" in m.group(1) and "messages_consumed" in m.group(1)), m.group(1)
    assert "Batch size" in re.findall(r"<h4>([^<]+)</h4>", CONSOLE.read_text())
    per_worker = [e for e in grafana_exprs() if e.startswith("sum by (instance)")]
    assert len(per_worker) >= 2 and all("{job='newsstream-consumer'}" in e for e in per_worker), per_worker


def test_consumers_up_counts_the_consumers_that_run_not_the_configured_ports(tmp_path: Path) -> None:
    """2 workers running out of 4 scraped ports read "2 / 2"; a crashed one "1 / 2"; a clean stop "1 / 1"."""
    promtool = tool("promtool")
    expr = _expected_consumers_expr()
    assert expr in grafana_exprs()

    def series(instance: str, up: str, stopping: str) -> list[dict]:
        labels = f'job="newsstream-consumer",instance="{instance}"'
        return [{"series": f"up{{{labels}}}", "values": up},
                {"series": f"newsstream_stopping{{{labels}}}", "values": stopping}]

    never = [{"series": f'up{{job="newsstream-consumer",instance="127.0.0.1:{p}"}}', "values": "0x20"}
             for p in (9110, 9111)]
    cases = [
        ("two running", series("127.0.0.1:9108", "1x20", "0x20") + series("127.0.0.1:9109", "1x20", "0x20"), 2),
        ("one crashed", series("127.0.0.1:9108", "1x20", "0x20") + series("127.0.0.1:9109", "1x10 0x10", "0x10"),
         2),
        ("one stopped cleanly", series("127.0.0.1:9108", "1x20", "0x20")
         + series("127.0.0.1:9109", "1x10 0x10", "0x9 1 stale"), 1),
    ]
    spec = {"rule_files": [], "evaluation_interval": "1m", "tests": [
        {"name": name, "interval": "1m", "input_series": inputs + never,
         "promql_expr_test": [{"expr": expr, "eval_time": "15m", "exp_samples": [{"labels": "{}", "value": want}]}]}
        for name, inputs, want in cases]}
    path = tmp_path / "consumers.test.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    res = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr


def test_a_clean_stop_waits_for_one_last_scrape_that_reads_newsstream_stopping() -> None:
    """What every process calls when it stops cleanly: the final sample reaches Prometheus (a real HTTP
    scrape here), bounded, and a process nobody scrapes does not wait."""
    import threading
    import time
    import urllib.request

    from prometheus_client import CollectorRegistry

    from pipeline.metrics import Metrics

    idle = Metrics(registry=CollectorRegistry())
    idle.serve(0)
    started = time.monotonic()
    assert idle.stopping() is False and time.monotonic() - started < 0.5  # never scraped: no wait

    m = Metrics(registry=CollectorRegistry())
    port = m.serve(0)
    url = f"http://127.0.0.1:{port}/metrics"
    assert b"newsstream_stopping 0.0" in urllib.request.urlopen(url, timeout=5).read()
    m.articles_produced.labels("file").inc(425)
    seen: list[bytes] = []
    scraper = threading.Timer(1.0, lambda: seen.append(urllib.request.urlopen(url, timeout=5).read()))
    scraper.start()
    started = time.monotonic()
    assert m.stopping(timeout=5) is True
    assert 0.9 < time.monotonic() - started < 4
    scraper.join()
    assert b"newsstream_stopping 1.0" in seen[0]
    assert b'newsstream_articles_produced_total{source="file"} 425.0' in seen[0]
    started = time.monotonic()
    assert m.stopping(timeout=0.5) is False and time.monotonic() - started < 2  # bounded: nobody came
