#!/usr/bin/env bash
# The local demo, end to end:
#   1. builds the project (functions jars, the trained model, the CLI) unless --no-build,
#   2. starts the local standalone and the local S3-compatible store if they are not running,
#   3. provisions the business unit and deploys its pipeline,
#   4. streams synthetic transactions through it and prints a summary,
#   5. removes the pipeline and stops what it started, unless --keep-running.
#
#   pulsar-deploy/demo.sh [--no-build] [--keep-running] [--unit payments] [--rate 100] [--count 2000]
#                         [--malformed 3] [--seed N]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build=true
keep=false
args=()
while (($#)); do
  case "$1" in
    --no-build) build=false ;;
    --keep-running) keep=true; args+=("$1") ;;
    -h|--help)
      sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
      exec java -jar "$ROOT/tools/target/decisionflow-tools.jar" demo --help ;;
    *) args+=("$1") ;;
  esac
  shift
done

say() { printf '[demo.sh] %s\n' "$*" >&2; }

cd "$ROOT"
if $build || [[ ! -f tools/target/decisionflow-tools.jar ]]; then
  say "building (mvn package, tests skipped)..."
  mvn -B -q package -DskipTests
fi

started=false
if ! pulsar-deploy/pulsar-local.sh status >/dev/null 2>&1; then
  pulsar-deploy/pulsar-local.sh start
  started=true
fi
# The local S3-compatible store: the decisions archive (and tiered storage) write there.
s3_started=false
if ! pulsar-deploy/s3-local.sh status >/dev/null 2>&1; then
  pulsar-deploy/s3-local.sh start
  s3_started=true
fi
finish() {
  if $started && ! $keep; then
    pulsar-deploy/pulsar-local.sh stop
  fi
  if $s3_started && ! $keep; then
    pulsar-deploy/s3-local.sh stop
  fi
}
trap finish EXIT

java -jar tools/target/decisionflow-tools.jar demo --project-dir "$ROOT" "${args[@]}"
if $keep; then
  say "left running: standalone (pulsar-deploy/pulsar-local.sh stop to stop it) and the pipeline"
fi
