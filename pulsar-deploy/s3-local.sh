#!/usr/bin/env bash
# Local S3-compatible object store for decisionflow's model artifacts (S3Proxy on the filesystem).
#
#   pulsar-deploy/s3-local.sh start    start (or reuse) the server, wait until it answers
#   pulsar-deploy/s3-local.sh stop     stop it (objects stay on disk)
#   pulsar-deploy/s3-local.sh status   say whether it runs and answers
#
# S3Proxy is fetched once through Maven (org.gaul:s3proxy, classifier jar-with-dependencies) into
# $DECISIONFLOW_HOME (default ~/.cache/decisionflow), outside git. Each instance gets its own folder
# there; objects are plain files under <instance>/data/<bucket>/<key>. The buckets named in
# DF_S3_BUCKETS are created at start.
#
# The credentials are fixed DEVELOPMENT credentials, for this local server only:
#   access key decisionflow, secret key decisionflow-local-secret
#
# Environment:
#   DECISIONFLOW_HOME      cache folder (default ~/.cache/decisionflow)
#   DF_S3_INSTANCE         instance name, its own folder and data (default: local)
#   DF_S3_PORT             port on 127.0.0.1 (default 9000)
#   DF_S3_BUCKETS          buckets to create at start, space-separated (default: models,
#                          decisionflow-offload and decisions-archive, for the payments unit's
#                          tiered storage and decisions archive)
#   DF_S3_START_TIMEOUT    seconds to wait until it answers (default 60)
#   DF_S3_MEM              JVM settings of the server (default -Xmx256m)
set -euo pipefail

S3PROXY_VERSION=4.1.0
ACCESS_KEY=decisionflow
SECRET_KEY=decisionflow-local-secret
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DF_HOME="${DECISIONFLOW_HOME:-$HOME/.cache/decisionflow}"
INSTANCE="${DF_S3_INSTANCE:-local}"
PORT="${DF_S3_PORT:-9000}"
BUCKETS="${DF_S3_BUCKETS:-models decisionflow-offload decisions-archive}"
START_TIMEOUT="${DF_S3_START_TIMEOUT:-60}"
JAR="$DF_HOME/download/s3proxy-$S3PROXY_VERSION-jar-with-dependencies.jar"
HOME_DIR="$DF_HOME/s3-instances/$INSTANCE"
PID_FILE="$HOME_DIR/s3proxy.pid"
LOG_FILE="$HOME_DIR/s3proxy.out"
ENDPOINT="http://127.0.0.1:$PORT"

say() { printf '[s3-local] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" 2>/dev/null || true; }

fetch_jar() {
  [[ -s "$JAR" ]] && return 0
  mkdir -p "$DF_HOME/download"
  say "fetching S3Proxy $S3PROXY_VERSION through Maven (55 MB, once)..."
  mvn -B -q -N -f "$ROOT/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="org.gaul:s3proxy:$S3PROXY_VERSION:jar:jar-with-dependencies" \
    -DoutputDirectory="$DF_HOME/download" -Dmdep.overWriteReleases=false >&2 \
    || die "could not fetch org.gaul:s3proxy:$S3PROXY_VERSION through Maven"
  [[ -s "$JAR" ]] || die "expected $JAR after fetching"
}

prepare_instance() {
  mkdir -p "$HOME_DIR/data"
  cat >"$HOME_DIR/s3proxy.properties" <<PROPS
s3proxy.endpoint=$ENDPOINT
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$ACCESS_KEY
s3proxy.credential=$SECRET_KEY
jclouds.provider=filesystem
jclouds.filesystem.basedir=$HOME_DIR/data
PROPS
  # With the filesystem provider a bucket is a folder under the base directory.
  local bucket
  for bucket in $BUCKETS; do
    mkdir -p "$HOME_DIR/data/$bucket"
  done
}

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

# S3Proxy answers an unsigned request with an S3 error (403): any HTTP answer means it is up.
ready() { [[ "$(http_code "$ENDPOINT/")" != 000 ]]; }

usage_hint() {
  say "endpoint $ENDPOINT, region us-east-1, path-style; buckets: $BUCKETS (in $HOME_DIR/data)"
  say "development credentials: access key $ACCESS_KEY, secret key $SECRET_KEY"
  say "publish a model to it:"
  say "  AWS_ACCESS_KEY_ID=$ACCESS_KEY AWS_SECRET_ACCESS_KEY=$SECRET_KEY \\"
  say "    java -jar tools/target/decisionflow-tools.jar models publish --unit payments --slot champion \\"
  say "    --model models/target/models/fraud-v1 --store s3://${BUCKETS%% *}/decisionflow --s3-endpoint $ENDPOINT"
}

wait_ready() {
  local pid="$1" waited=0
  until ready; do
    kill -0 "$pid" 2>/dev/null || { tail -n 40 "$LOG_FILE" >&2 || true; die "S3Proxy exited; log: $LOG_FILE"; }
    (( waited >= START_TIMEOUT * 2 )) && die "no answer after ${START_TIMEOUT}s; log: $LOG_FILE"
    sleep 0.5
    waited=$((waited + 1))
  done
  say "ready after $((waited / 2))s (pid $pid)"
  usage_hint
}

start() {
  if pid="$(running_pid)"; then
    prepare_instance
    if ready; then
      say "already running (pid $pid)"
      usage_hint
      return 0
    fi
    wait_ready "$pid"
    return 0
  fi
  if ready; then
    die "port $PORT already answers but not from instance '$INSTANCE'; stop that server or set DF_S3_PORT"
  fi
  command -v java >/dev/null || die "java (JDK 17+) must be on PATH"
  fetch_jar
  prepare_instance
  say "starting S3Proxy '$INSTANCE' on $ENDPOINT"
  (
    cd "$HOME_DIR"
    # shellcheck disable=SC2086
    nohup setsid java ${DF_S3_MEM:--Xmx256m} -jar "$JAR" --properties "$HOME_DIR/s3proxy.properties" \
      >"$LOG_FILE" 2>&1 </dev/null &
    echo $! >"$PID_FILE"
  )
  wait_ready "$(cat "$PID_FILE")"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    say "not running"
    rm -f "$PID_FILE"
    return 0
  fi
  say "stopping S3Proxy '$INSTANCE' (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "still running after 10s, killing"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  say "stopped (objects kept in $HOME_DIR/data)"
}

status() {
  local pid
  if pid="$(running_pid)"; then
    if ready; then
      say "running (pid $pid) and answering"
      usage_hint
      return 0
    fi
    say "running (pid $pid) but not answering yet"
    return 1
  fi
  say "not running"
  return 3
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start | stop | status" >&2; exit 2 ;;
esac
