#!/usr/bin/env bash
# Start a local Prometheus with newsstream's config, alert rules and console dashboard
# (`make monitor` runs this). Runs in the foreground; Ctrl-C stops it.
#
#   monitoring/prometheus.sh [--config FILE] [--listen HOST:PORT] [--state DIR]
#
# --config  Prometheus config (default monitoring/prometheus.yml: consumers on 127.0.0.1:9108-9111,
#           their supervisor on 9107, a producer on 127.0.0.1:9106)
# --listen  address of the web UI and API (default 127.0.0.1:9090)
# --state   where the TSDB, the assembled console libraries and the log go
#           (default .newsstream/prometheus, git-ignored)
# Debian's `prometheus` package is installed with apt-get when prometheus is missing and we may.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
CONFIG="$HERE/prometheus.yml"
LISTEN="127.0.0.1:9090"
STATE="$ROOT/.newsstream/prometheus"
while [ $# -gt 0 ]; do
  case "$1" in
    --config) CONFIG="$2"; shift 2 ;;
    --listen) LISTEN="$2"; shift 2 ;;
    --state) STATE="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "prometheus.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

if ! command -v prometheus >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  if command -v apt-get >/dev/null && { [ -z "$SUDO" ] || command -v sudo >/dev/null; }; then
    echo "installing prometheus with apt-get" >&2
    ($SUDO apt-get update -qq || true)
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
  else
    echo "prometheus.sh: prometheus is not installed (Debian/Ubuntu: apt-get install prometheus;" \
         "elsewhere: https://prometheus.io/download/ and put it on PATH)" >&2
    exit 1
  fi
fi

# The console page uses newsstream.lib, which builds on the prom.lib of this Prometheus
# (it knows where this build serves d3/rickshaw/bootstrap from): put both in one directory.
LIBS="$STATE/console_libraries"
mkdir -p "$STATE/data" "$LIBS"
BIN_DIR="$(dirname "$(readlink -f "$(command -v prometheus)")")"
PROMLIB=""
for d in /usr/share/prometheus/console_libraries /etc/prometheus/console_libraries \
         /usr/share/doc/prometheus/examples/console_libraries "$BIN_DIR/console_libraries"; do
  if [ -f "$d/prom.lib" ]; then PROMLIB="$d"; break; fi
done
if [ -z "$PROMLIB" ]; then
  echo "prometheus.sh: no prom.lib found (Prometheus's console libraries); the dashboard needs it" >&2
  exit 1
fi
rm -f "$LIBS"/*.lib
cp "$PROMLIB"/*.lib "$LIBS"/
cp "$HERE"/console_libraries/*.lib "$LIBS"/

LOG="$STATE/prometheus.log"
prometheus --config.file="$CONFIG" --storage.tsdb.path="$STATE/data" --web.listen-address="$LISTEN" \
  --web.console.templates="$HERE/consoles" --web.console.libraries="$LIBS" >"$LOG" 2>&1 &
PID=$!
trap 'kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; exit 0' INT TERM

URL="http://$LISTEN"
for _ in $(seq 1 150); do  # up to 30 s
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "prometheus.sh: prometheus exited; the end of $LOG:" >&2
    tail -n 15 "$LOG" >&2
    exit 1
  fi
  if python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$URL/-/ready" \
       2>/dev/null; then
    echo "Prometheus is up (config $CONFIG, data in $STATE/data, log $LOG)"
    echo "dashboard: $URL/consoles/newsstream.html"
    echo "alerts:    $URL/alerts    targets: $URL/targets    (Ctrl-C stops it)"
    wait "$PID"
    exit $?
  fi
  sleep 0.2
done
echo "prometheus.sh: prometheus did not become ready within 30 s; see $LOG" >&2
kill "$PID" 2>/dev/null
exit 1
