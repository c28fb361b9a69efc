#!/usr/bin/env bash
# Local Apache Pulsar standalone for decisionflow.
#
#   pulsar-deploy/pulsar-local.sh start [--clean]   start (or reuse) the standalone, wait until ready
#   pulsar-deploy/pulsar-local.sh stop              stop it and its function instances
#   pulsar-deploy/pulsar-local.sh status            say whether it runs and answers
#   pulsar-deploy/pulsar-local.sh token ROLE        print a token for ROLE (DF_PULSAR_AUTH=jwt)
#
# Pulsar is fetched once through Maven (org.apache.pulsar:pulsar-server-distribution, classifier
# bin, type tar.gz) into $DECISIONFLOW_HOME (default ~/.cache/decisionflow), outside git. Each
# instance gets its own folder there (Pulsar writes data/ and logs/ inside its home). The
# standalone runs in ZooKeeper mode so that function state uses the BookKeeper table service.
#
# Environment:
#   DECISIONFLOW_HOME       cache folder (default ~/.cache/decisionflow)
#   DF_PULSAR_INSTANCE      instance name, its own folder and data (default: standalone)
#   DF_PULSAR_WEB_PORT      admin/REST port (default 8080)
#   DF_PULSAR_BROKER_PORT   broker port (default 6650)
#   DF_PULSAR_CLUSTER       cluster name (default standalone; e.g. us-east for a region)
#   DF_PULSAR_ZK_PORT, DF_PULSAR_BK_PORT, DF_PULSAR_STREAM_PORT
#                           ZooKeeper, bookie and table-service (function state) ports (defaults
#                           2181, 3181, 4181); a second standalone on one machine needs others
#                           (pulsar-deploy/regions-local.sh starts two)
#   DF_PULSAR_START_TIMEOUT seconds to wait for readiness (default 240)
#   DF_PULSAR_AUTH          jwt: token authentication (JWT) and authorization on; anything else
#                           (default): off. With jwt, the HS256 key and the superuser token are in
#                           $DECISIONFLOW_HOME/auth (secret.key, admin.token; created once and shared
#                           by every local instance, so that regions accept each other's tokens),
#                           and `pulsar-local.sh token ROLE` prints a token for a role
#   DF_PULSAR_SECRETS       env: function and sink secrets name environment variables of the
#                           standalone, which the instances inherit (io.decisionflow.secrets, from
#                           secrets/target/decisionflow-secrets.jar: build first); deploy with
#                           --secrets-by-name. Anything else (default): Pulsar's default provider
#                           (a secret holds its value)
#   PULSAR_MEM, PULSAR_GC   JVM settings of the standalone (lean defaults below)
#   DF_FUNCTION_JVM_ARGS    JVM options of every function instance the worker starts (process
#                           runtime; the worker's additionalJavaRuntimeArguments), space-separated
#                           (default -XX:InitialRAMPercentage=50 -XX:MaxHeapFreeRatio=100: the
#                           whole heap from the start, never given back; its size comes from the
#                           function's ram)
#   ACCESS_KEY_ID, ACCESS_KEY_SECRET
#                           credentials of the S3-compatible store that namespaces offload to
#                           (tiered storage; Pulsar's S3 offloader reads them only from these
#                           variables); default: the fixed development credentials of
#                           pulsar-deploy/s3-local.sh
#
# Tiered storage: Pulsar's offloaders (org.apache.pulsar:pulsar-offloader-distribution, fetched
# once through Maven like the distribution) are installed in the standalone's offloaders/ folder;
# a namespace offloads once its business unit sets `policies.offload` (see README).
set -euo pipefail

PULSAR_VERSION=4.0.8
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DF_HOME="${DECISIONFLOW_HOME:-$HOME/.cache/decisionflow}"
INSTANCE="${DF_PULSAR_INSTANCE:-standalone}"
WEB_PORT="${DF_PULSAR_WEB_PORT:-8080}"
BROKER_PORT="${DF_PULSAR_BROKER_PORT:-6650}"
CLUSTER="${DF_PULSAR_CLUSTER:-standalone}"
ZK_PORT="${DF_PULSAR_ZK_PORT:-2181}"
BK_PORT="${DF_PULSAR_BK_PORT:-3181}"
STREAM_PORT="${DF_PULSAR_STREAM_PORT:-4181}"
START_TIMEOUT="${DF_PULSAR_START_TIMEOUT:-240}"
# Instances keep their whole heap committed, as with -Xms = -Xmx (the initial size is capped by the
# -Xmx the worker derives from the function's ram; without MaxHeapFreeRatio=100, G1 gave most of it
# back at its first concurrent cycle): from a small heap, G1 kept enrich's young generation at
# ~50 MB with 100,000 cards cached, and collected every 2-2.5 s instead of every 25-50 s.
FUNCTION_JVM_ARGS="${DF_FUNCTION_JVM_ARGS--XX:InitialRAMPercentage=50 -XX:MaxHeapFreeRatio=100}"
DIST="$DF_HOME/dist/apache-pulsar-$PULSAR_VERSION"
HOME_DIR="$DF_HOME/instances/$INSTANCE"
PID_FILE="$HOME_DIR/standalone.pid"
LOG_FILE="$HOME_DIR/logs/standalone.out"
WEB="http://127.0.0.1:$WEB_PORT"
AUTH="${DF_PULSAR_AUTH:-}"
SECRETS_JAR="$ROOT/secrets/target/decisionflow-secrets.jar"
AUTH_DIR="$DF_HOME/auth"

say() { printf '[pulsar-local] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

http_code() {
  local auth=()
  [[ "$AUTH" == jwt && -s "$AUTH_DIR/admin.token" ]] && auth=(-H "Authorization: Bearer $(cat "$AUTH_DIR/admin.token")")
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${auth[@]}" "$1" 2>/dev/null || true
}

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# An HS256 JWT for role $1 ({"sub": role}, no expiry), signed with $AUTH_DIR/secret.key.
token() {
  local role="$1" header payload key sig
  [[ -s "$AUTH_DIR/secret.key" ]] || die "no $AUTH_DIR/secret.key: start an instance with DF_PULSAR_AUTH=jwt first"
  [[ "$role" =~ ^[A-Za-z0-9._-]+$ ]] || die "role '$role' must be letters, digits, '.', '_' or '-'"
  command -v openssl >/dev/null || die "openssl is needed to sign tokens"
  header="$(printf '{"alg":"HS256"}' | b64url)"
  payload="$(printf '{"sub":"%s"}' "$role" | b64url)"
  key="$(od -An -v -tx1 "$AUTH_DIR/secret.key" | tr -d ' \n')"
  sig="$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | b64url)"
  printf '%s.%s.%s\n' "$header" "$payload" "$sig"
}

# The key and the superuser token, once (raw key bytes: Pulsar reads a file:// key as bytes).
prepare_auth() {
  mkdir -p "$AUTH_DIR"
  chmod 700 "$AUTH_DIR"
  if [[ ! -s "$AUTH_DIR/secret.key" ]]; then
    command -v openssl >/dev/null || die "openssl is needed to create the token key"
    (umask 077 && openssl rand 32 >"$AUTH_DIR/secret.key")
    say "created the token key $AUTH_DIR/secret.key"
  fi
  if [[ ! -s "$AUTH_DIR/admin.token" ]]; then
    (umask 077 && token admin >"$AUTH_DIR/admin.token")
    say "created the superuser token $AUTH_DIR/admin.token (role admin)"
  fi
}

fetch_distribution() {
  [[ -x "$DIST/bin/pulsar" ]] && return 0
  local download="$DF_HOME/download"
  local tarball="$download/pulsar-server-distribution-$PULSAR_VERSION-bin.tar.gz"
  mkdir -p "$download" "$DF_HOME/dist"
  if [[ ! -s "$tarball" ]]; then
    say "fetching Pulsar $PULSAR_VERSION through Maven (245 MB, once)..."
    mvn -B -q -N -f "$ROOT/pom.xml" \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact="org.apache.pulsar:pulsar-server-distribution:$PULSAR_VERSION:tar.gz:bin" \
      -DoutputDirectory="$download" -Dmdep.overWriteReleases=false >&2 \
      || die "could not fetch org.apache.pulsar:pulsar-server-distribution:$PULSAR_VERSION through Maven"
  fi
  say "unpacking $tarball"
  rm -rf "$DF_HOME/dist.tmp" "$DIST"
  mkdir -p "$DF_HOME/dist.tmp"
  tar -xzf "$tarball" -C "$DF_HOME/dist.tmp"
  mv "$DF_HOME/dist.tmp/apache-pulsar-$PULSAR_VERSION" "$DIST"
  rm -rf "$DF_HOME/dist.tmp"
}

fetch_offloaders() {
  [[ -f "$DIST/offloaders/tiered-storage-jcloud-$PULSAR_VERSION.nar" ]] && return 0
  local download="$DF_HOME/download"
  local tarball="$download/pulsar-offloader-distribution-$PULSAR_VERSION-bin.tar.gz"
  mkdir -p "$download"
  if [[ ! -s "$tarball" ]]; then
    say "fetching Pulsar's offloaders $PULSAR_VERSION through Maven (62 MB, once)..."
    mvn -B -q -N -f "$ROOT/pom.xml" \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact="org.apache.pulsar:pulsar-offloader-distribution:$PULSAR_VERSION:tar.gz:bin" \
      -DoutputDirectory="$download" -Dmdep.overWriteReleases=false >&2 \
      || die "could not fetch org.apache.pulsar:pulsar-offloader-distribution:$PULSAR_VERSION through Maven"
  fi
  say "installing the offloaders from $tarball"
  rm -rf "$DF_HOME/offloaders.tmp"
  mkdir -p "$DF_HOME/offloaders.tmp" "$DIST/offloaders"
  tar -xzf "$tarball" -C "$DF_HOME/offloaders.tmp"
  cp "$DF_HOME/offloaders.tmp/apache-pulsar-offloaders-$PULSAR_VERSION/offloaders/"*.nar "$DIST/offloaders/"
  rm -rf "$DF_HOME/offloaders.tmp"
}

prepare_instance() {
  if [[ ! -x "$HOME_DIR/bin/pulsar" ]]; then
    say "creating instance '$INSTANCE' in $HOME_DIR"
    mkdir -p "$HOME_DIR"
    cp -r "$DIST/bin" "$DIST/conf" "$DIST/instances" "$HOME_DIR/"
    ln -sfn "$DIST/lib" "$HOME_DIR/lib"
  fi
  ln -sfn "$DIST/offloaders" "$HOME_DIR/offloaders"
  mkdir -p "$HOME_DIR/logs"
  # Lean settings for a laptop or CI runner.
  local conf="$HOME_DIR/conf/standalone.conf"
  set_conf "$conf" webServicePort "$WEB_PORT"
  set_conf "$conf" brokerServicePort "$BROKER_PORT"
  set_conf "$conf" clusterName "$CLUSTER"
  set_conf "$conf" managedLedgerDefaultEnsembleSize 1
  set_conf "$conf" managedLedgerDefaultWriteQuorum 1
  set_conf "$conf" managedLedgerDefaultAckQuorum 1
  # Latency: a caught-up subscription (every hop of the pipeline) reads a new entry at once rather
  # than re-checking every 10 ms, Pulsar's default; a hop's median went from 7 to 1.7 ms here.
  set_conf "$conf" managedLedgerNewEntriesCheckDelayInMillis 0
  local worker="$HOME_DIR/conf/functions_worker.yml"
  sed -i -E '/^secretsProviderConfiguratorClassName:/d; /^additionalJavaRuntimeArguments:/d' "$worker"
  local jvm_args="" arg
  for arg in $FUNCTION_JVM_ARGS; do
    jvm_args+="${jvm_args:+, }'$arg'"
  done
  printf 'additionalJavaRuntimeArguments: [%s]\n' "$jvm_args" >>"$worker"
  if [[ "${DF_PULSAR_SECRETS:-}" == env ]]; then
    [[ -f "$SECRETS_JAR" ]] || die "$SECRETS_JAR missing: build first (mvn -B package -DskipTests)"
    printf 'secretsProviderConfiguratorClassName: io.decisionflow.secrets.EnvironmentSecretsConfigurator\n' >>"$worker"
  fi
  local client="$HOME_DIR/conf/client.conf"
  set_conf "$client" webServiceUrl "$WEB/"
  set_conf "$client" brokerServiceUrl "pulsar://127.0.0.1:$BROKER_PORT/"
  if [[ "$AUTH" == jwt ]]; then
    prepare_auth
    set_conf "$conf" authenticationEnabled true
    set_conf "$conf" authenticationProviders org.apache.pulsar.broker.authentication.AuthenticationProviderToken
    set_conf "$conf" authorizationEnabled true
    set_conf "$conf" authorizationProvider org.apache.pulsar.broker.authorization.PulsarAuthorizationProvider
    set_conf "$conf" superUserRoles admin
    set_conf "$conf" tokenSecretKey "file://$AUTH_DIR/secret.key"
    # The broker's own clients, the functions worker, the function instances it starts and the
    # replicator all use the superuser token (as a file: no token on any command line).
    set_conf "$conf" brokerClientAuthenticationPlugin org.apache.pulsar.client.impl.auth.AuthenticationToken
    set_conf "$conf" brokerClientAuthenticationParameters "file://$AUTH_DIR/admin.token"
    set_conf "$client" authPlugin org.apache.pulsar.client.impl.auth.AuthenticationToken
    set_conf "$client" authParams "file://$AUTH_DIR/admin.token"
  else
    set_conf "$conf" authenticationEnabled false
    set_conf "$conf" authorizationEnabled false
    set_conf "$conf" brokerClientAuthenticationPlugin org.apache.pulsar.client.impl.auth.AuthenticationDisabled
    set_conf "$conf" brokerClientAuthenticationParameters ""
    set_conf "$client" authPlugin ""
    set_conf "$client" authParams ""
  fi
}

set_conf() {
  local file="$1" key="$2" value="$3"
  if grep -qE "^$key=" "$file"; then
    sed -i -E "s|^$key=.*|$key=$value|" "$file"
  else
    # Pulsar's files do not all end with a newline (standalone.conf does not)
    [[ -z "$(tail -c 1 "$file")" ]] || echo >>"$file"
    printf '%s=%s\n' "$key" "$value" >>"$file"
  fi
}

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

ready() {
  [[ "$(http_code "$WEB/admin/v2/brokers/health")" == 200 ]] \
    && [[ "$(http_code "$WEB/admin/v3/functions/public/default")" == 200 ]]
}

wait_ready() {
  local pid="$1" waited=0
  say "waiting for the broker and the functions worker on $WEB (up to ${START_TIMEOUT}s)"
  until ready; do
    kill -0 "$pid" 2>/dev/null || { tail -n 40 "$LOG_FILE" >&2 || true; die "standalone exited; log: $LOG_FILE"; }
    (( waited >= START_TIMEOUT )) && die "not ready after ${START_TIMEOUT}s; log: $LOG_FILE"
    sleep 2
    waited=$((waited + 2))
    (( waited % 10 == 0 )) && say "... ${waited}s"
  done
  say "ready after ${waited}s: broker pulsar://127.0.0.1:$BROKER_PORT, admin $WEB"
}

start() {
  local clean=false
  [[ "${1:-}" == "--clean" ]] && clean=true
  if pid="$(running_pid)"; then
    if ready; then
      say "already running (pid $pid): broker pulsar://127.0.0.1:$BROKER_PORT, admin $WEB"
      return 0
    fi
    wait_ready "$pid"
    return 0
  fi
  if [[ "$(http_code "$WEB/admin/v2/brokers/health")" != 000 ]]; then
    die "port $WEB_PORT already answers but not from instance '$INSTANCE'; stop that Pulsar or set DF_PULSAR_WEB_PORT"
  fi
  command -v java >/dev/null || die "java (JDK 17+) must be on PATH: function instances are started as 'java'"
  fetch_distribution
  fetch_offloaders
  prepare_instance
  if $clean; then
    say "wiping $HOME_DIR/data"
    rm -rf "$HOME_DIR/data"
  fi
  say "starting standalone '$INSTANCE' as cluster '$CLUSTER' (ZooKeeper mode, function state on the table service$([[ "$AUTH" == jwt ]] && echo ", token authentication and authorization on")$([[ "${DF_PULSAR_SECRETS:-}" == env ]] && echo ", secrets from its environment"))"
  (
    cd "$HOME_DIR"
    export PULSAR_STANDALONE_USE_ZOOKEEPER=1
    export PULSAR_MEM="${PULSAR_MEM:--Xms512m -Xmx1g -XX:MaxDirectMemorySize=1g}"
    export PULSAR_GC="${PULSAR_GC:--XX:+UseG1GC}"
    export PULSAR_LOG_DIR="$HOME_DIR/logs"
    if [[ "${DF_PULSAR_SECRETS:-}" == env ]]; then
      # On the worker's classpath, which bin/pulsar also hands to every function instance.
      export PULSAR_EXTRA_CLASSPATH="$SECRETS_JAR${PULSAR_EXTRA_CLASSPATH:+:$PULSAR_EXTRA_CLASSPATH}"
    fi
    export ACCESS_KEY_ID="${ACCESS_KEY_ID:-decisionflow}"
    export ACCESS_KEY_SECRET="${ACCESS_KEY_SECRET:-decisionflow-local-secret}"
    nohup setsid bin/pulsar standalone --zookeeper-port "$ZK_PORT" --bookkeeper-port "$BK_PORT" \
      --stream-storage-port "$STREAM_PORT" >"$LOG_FILE" 2>&1 </dev/null &
    echo $! >"$PID_FILE"
  )
  wait_ready "$(cat "$PID_FILE")"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    say "not running"
    kill_instances
    return 0
  fi
  say "stopping standalone '$INSTANCE' (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "still running after 30s, killing"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  kill_instances
  rm -f "$PID_FILE"
  say "stopped"
}

# Function instances of the process runtime are JVMs of their own; none may outlive the worker.
kill_instances() {
  local pids
  pids="$(pgrep -f "$HOME_DIR/instances/java-instance.jar" || true)"
  if [[ -n "$pids" ]]; then
    say "stopping leftover function instances: $(echo $pids)"
    kill -TERM $pids 2>/dev/null || true
    sleep 2
    kill -KILL $pids 2>/dev/null || true
  fi
}

status() {
  local pid
  if pid="$(running_pid)"; then
    if ready; then
      say "running (pid $pid) and ready: broker pulsar://127.0.0.1:$BROKER_PORT, admin $WEB"
      return 0
    fi
    say "running (pid $pid) but not ready yet"
    return 1
  fi
  say "not running"
  return 3
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  status) status ;;
  token) [[ -n "${2:-}" ]] || die "usage: $0 token ROLE"; token "$2" ;;
  *) echo "usage: $0 start [--clean] | stop | status | token ROLE" >&2; exit 2 ;;
esac
