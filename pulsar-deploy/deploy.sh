#!/usr/bin/env bash
# Provision a business unit and deploy its pipeline (idempotent: create, update or leave alone).
#
#   pulsar-deploy/deploy.sh <unit> [--model-location DIR] [--set FUNCTION.KEY=VALUE]... [--clusters A,B]
#                                  [--admin-url URL] [--token-file FILE] [--render-to DIR] [--wait SECONDS]
#
# <unit> names pulsar-deploy/business-units/<unit>.yaml. Run `mvn package` first. Against the
# local standalone, `--model-location "$PWD/models/target/models/fraud-v1"` uses the model the
# build trained. With --render-to, it writes the unit's function configs for pulsar-admin instead.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if (($# < 1)) || [[ "$1" == -* ]]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
unit="$1"
shift
jar="$ROOT/tools/target/decisionflow-tools.jar"
[[ -f "$jar" ]] || { echo "[deploy.sh] $jar missing: run 'mvn package -DskipTests' first" >&2; exit 1; }
exec java -jar "$jar" deploy --project-dir "$ROOT" --unit "$unit" "$@"
