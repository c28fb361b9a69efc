#!/usr/bin/env bash
# Two local Pulsar regions, geo-replicated: standalones us-east and eu-west side by side, each a
# cluster of its own (own folder, own ports), registered with each other so that namespaces and
# topics can replicate between them.
#
#   pulsar-deploy/regions-local.sh start [--clean] [REGION]   start both regions (or one), register them
#   pulsar-deploy/regions-local.sh stop [REGION]              stop both regions (or one: a failover drill)
#   pulsar-deploy/regions-local.sh status                     say which regions run and answer
#   pulsar-deploy/regions-local.sh env REGION                 print the region's URLs as shell exports
#
#   region    admin (REST)             broker                  ZooKeeper  bookie  table service
#   us-east   http://127.0.0.1:8081    pulsar://127.0.0.1:6651   2182       3182    4182
#   eu-west   http://127.0.0.1:8082    pulsar://127.0.0.1:6652   2183       3183    4183
#
# Each region is a pulsar-local.sh instance (DF_PULSAR_INSTANCE=us-east, ...) in
# $DECISIONFLOW_HOME/instances/<region>; the single standalone of pulsar-local.sh (8080/6650) can
# run next to them. Registration is idempotent: `start` registers the peer in each running region
# every time, so a region that comes back finds its peer again. Replication itself is set per
# business unit (see README, "Two regions"). DF_PULSAR_AUTH=jwt turns token authentication and
# authorization on in both (pulsar-local.sh): they share one key, so each accepts the other's
# replicator.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REGIONS=(us-east eu-west)

say() { printf '[regions-local] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# region -> "web broker zk bk stream"
ports() {
  case "$1" in
    us-east) echo "8081 6651 2182 3182 4182" ;;
    eu-west) echo "8082 6652 2183 3183 4183" ;;
    *) die "unknown region '$1' (known: ${REGIONS[*]})" ;;
  esac
}

admin_url() { read -r web _ <<<"$(ports "$1")"; echo "http://127.0.0.1:$web"; }
service_url() { read -r _ broker _ <<<"$(ports "$1")"; echo "pulsar://127.0.0.1:$broker"; }

local_script() {
  local region="$1"; shift
  local web broker zk bk stream
  read -r web broker zk bk stream <<<"$(ports "$region")"
  DF_PULSAR_INSTANCE="$region" DF_PULSAR_CLUSTER="$region" DF_PULSAR_WEB_PORT="$web" \
    DF_PULSAR_BROKER_PORT="$broker" DF_PULSAR_ZK_PORT="$zk" DF_PULSAR_BK_PORT="$bk" \
    DF_PULSAR_STREAM_PORT="$stream" bash "$HERE/pulsar-local.sh" "$@"
}

# With DF_PULSAR_AUTH=jwt, admin calls carry the superuser token of pulsar-local.sh.
AUTH_TOKEN_FILE="${DECISIONFLOW_HOME:-$HOME/.cache/decisionflow}/auth/admin.token"
curl_admin() {
  if [[ "${DF_PULSAR_AUTH:-}" == jwt ]]; then
    curl -H "Authorization: Bearer $(cat "$AUTH_TOKEN_FILE")" "$@"
  else
    curl "$@"
  fi
}

answers() {
  [[ "$(curl_admin -s -o /dev/null -w '%{http_code}' --max-time 5 "$(admin_url "$1")/admin/v2/brokers/health" 2>/dev/null || true)" == 200 ]]
}

# Registers cluster $2 in region $1 (create, or update if it is there).
register() {
  local region="$1" peer="$2" body code
  body="$(printf '{"serviceUrl":"%s","brokerServiceUrl":"%s"}' "$(admin_url "$peer")" "$(service_url "$peer")")"
  code="$(curl_admin -s -o /dev/null -w '%{http_code}' --max-time 10 -X PUT -H 'Content-Type: application/json' \
    -d "$body" "$(admin_url "$region")/admin/v2/clusters/$peer")"
  if [[ "$code" == 409 ]]; then
    code="$(curl_admin -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST -H 'Content-Type: application/json' \
      -d "$body" "$(admin_url "$region")/admin/v2/clusters/$peer")"
  fi
  [[ "$code" == 204 || "$code" == 200 ]] || die "registering $peer in $region answered HTTP $code"
  say "$region knows $peer at $(service_url "$peer")"
}

register_all() {
  for region in "${REGIONS[@]}"; do
    answers "$region" || continue
    for peer in "${REGIONS[@]}"; do
      [[ "$peer" == "$region" ]] || register "$region" "$peer"
    done
  done
}

start() {
  local clean=() selected=()
  for arg in "$@"; do
    case "$arg" in
      --clean) clean=(--clean) ;;
      *) ports "$arg" >/dev/null; selected+=("$arg") ;;
    esac
  done
  (( ${#selected[@]} )) || selected=("${REGIONS[@]}")
  local pids=() failed=0
  for region in "${selected[@]}"; do
    say "starting region $region"
    local_script "$region" start "${clean[@]}" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  (( failed == 0 )) || die "a region did not start (see above)"
  register_all
  for region in "${selected[@]}"; do
    say "$region ready: admin $(admin_url "$region"), broker $(service_url "$region")"
  done
}

stop() {
  local selected=("$@")
  (( ${#selected[@]} )) || selected=("${REGIONS[@]}")
  for region in "${selected[@]}"; do
    ports "$region" >/dev/null
    local_script "$region" stop
  done
}

status() {
  local rc=0
  for region in "${REGIONS[@]}"; do
    if answers "$region"; then
      say "$region: up (admin $(admin_url "$region"), broker $(service_url "$region"))"
    else
      say "$region: down"
      rc=3
    fi
  done
  return $rc
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  status) status ;;
  env)
    [[ -n "${2:-}" ]] || die "usage: $0 env REGION"
    printf 'export PULSAR_ADMIN_URL=%s\nexport PULSAR_SERVICE_URL=%s\n' "$(admin_url "$2")" "$(service_url "$2")"
    ;;
  *) echo "usage: $0 start [--clean] [REGION...] | stop [REGION...] | status | env REGION" >&2; exit 2 ;;
esac
