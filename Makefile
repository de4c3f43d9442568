# newsstream — every set-up step is here; `make demo` and `make test` install what is missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
NS := $(BIN)/newsstream
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get
DEMO_DB ?= sqlite:///newsstream.db
DEMO_TOPIC ?= news.demo
PYTEST_ARGS ?= -n 2  # two test processes, each with its own broker and PostgreSQL (pyproject.toml)

.DEFAULT_GOAL := help
.PHONY: help sysdeps sysdeps-test venv demo demo-stop test lint bench clean monitor build docker

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

define apt_install
	echo "installing $(1) with apt-get"; ($(APT) update -qq || true) && $(APT) install -y -qq $(1) >/dev/null
endef

sysdeps: ## install Java 17 and Maven when missing (for the local Kafka broker)
	@command -v java >/dev/null || { $(call apt_install,openjdk-17-jre-headless); }
	@command -v mvn >/dev/null || { $(call apt_install,maven); }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { $(call apt_install,python3-venv); }

sysdeps-test: sysdeps ## also what the tests start: PostgreSQL server binaries, Prometheus (promtool)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(call apt_install,postgresql); }
	@command -v promtool >/dev/null || { $(call apt_install,prometheus); }

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed ## create .venv and install newsstream with its dev tools

demo: sysdeps venv ## run the main job: local broker -> produce samples -> consume -> SQLite -> summary
	$(NS) broker start
	$(NS) db upgrade --database-url $(DEMO_DB)
	$(NS) topics create --topic $(DEMO_TOPIC)
	$(NS) produce --topic $(DEMO_TOPIC) --no-progress samples/
	NEWSSTREAM_DATABASE_URL=$(DEMO_DB) $(NS) consume --topic $(DEMO_TOPIC) --group demo --until-idle 8 \
		--metrics-port 9108 --no-migrate
	$(NS) summary --database-url $(DEMO_DB)
	@echo
	@echo "Stored in newsstream.db (SQLite). While a consumer runs, its metrics are at http://127.0.0.1:9108/metrics"
	@echo "  (run: $(NS) consume --topic $(DEMO_TOPIC) --group demo)."
	@echo "The broker keeps running on 127.0.0.1:9092: stop it with 'make demo-stop' ($(NS) broker stop)."

monitor: ## local Prometheus + dashboard http://127.0.0.1:9090/consoles/newsstream.html (Ctrl-C stops)
	monitoring/prometheus.sh

demo-stop: ## stop the local broker the demo started
	-$(NS) broker stop

test: sysdeps-test venv ## run the whole test suite (real Kafka broker, real PostgreSQL, SQLite)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv ## ruff and mypy
	$(BIN)/ruff check pipeline producers consumers newsstream_cli devtools tests migrations benchmarks monitoring
	$(BIN)/mypy

bench: venv ## newsstream bench + extraction bench, ratios to bare spaCy (../shared/data/bbc when present)
	@$(MAKE) --no-print-directory sysdeps
	@mkdir -p .newsstream; bbc=../shared/data/bbc/bbc.jsonl; pg=; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { pg=--skip-postgres; \
	  echo "PostgreSQL server binaries absent: end to end on SQLite only (apt-get install postgresql adds it)"; }; \
	if [ -f $$bbc ]; then \
	  set -x; $(NS) bench --corpus $$bbc $(or $(BENCH_ARGS),--limit 500) $$pg --json .newsstream/bench.json \
	  && $(BIN)/python benchmarks/bench_extract.py --data $$bbc; \
	else \
	  echo "$$bbc is absent (../shared/data is not beside this checkout): benchmarking the samples/ articles"; \
	  echo "instead; the extraction bench (benchmarks/bench_extract.py) needs the BBC corpus and is skipped."; \
	  set -x; $(NS) bench $(BENCH_ARGS) $$pg --json .newsstream/bench.json; \
	fi

build: venv ## build the wheel and the sdist into dist/
	$(BIN)/python -m build --outdir dist .

docker: ## build the Docker image newsstream:latest (needs a Docker engine; installs the built wheel)
	docker build -t newsstream:latest .

clean: ## remove the venv, caches, the demo database and the broker's data
	-$(NS) broker stop 2>/dev/null
	rm -rf $(VENV) .kafka/data .kafka/logs newsstream.db .pytest_cache .mypy_cache .ruff_cache build dist
