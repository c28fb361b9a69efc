#!/usr/bin/env bash
# Deploy decisionflow onto two Kubernetes clusters, us-east and eu-west, each running Apache Pulsar
# from the Helm chart, geo-replicated. Run the steps in this order (each is idempotent):
#
#   deploy-k8s.sh keys                  one token key pair and the tokens, shared by both clusters
#   deploy-k8s.sh secrets  <cluster>    Kubernetes Secrets: token key + tokens, S3, PostgreSQL
#   deploy-k8s.sh install  <cluster>    helm upgrade --install with values-common + values-<cluster>
#   deploy-k8s.sh register              each cluster learns the other's URLs (geo-replication)
#   deploy-k8s.sh provision <cluster>   tenant, namespace, policies, compacted and replicated topics
#   deploy-k8s.sh packages <cluster>    upload the function jars and sink NARs as Pulsar packages
#   deploy-k8s.sh pipeline <cluster>    create or update the functions and sinks
#
# <cluster> is us-east or eu-west. Settings come from the environment (never from files in the
# repository); `deploy-k8s.sh help` lists them. Run `mvn -B package -DskipTests` first (jars, NARs).
# pulsar-admin and `pulsar tokens` come from a Pulsar 4.0.8 distribution (PULSAR_HOME), e.g. the
# one pulsar-deploy/pulsar-local.sh unpacks.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CLUSTERS=(us-east eu-west)
NAMESPACE="${DF_K8S_NAMESPACE:-pulsar}"
RELEASE=pulsar # values-common.yaml names services and secrets after the release `pulsar`
CHART="${DF_HELM_CHART:-apache/pulsar}"
CHART_VERSION="${DF_HELM_CHART_VERSION:-4.7.0}"
PULSAR_HOME="${PULSAR_HOME:-${DECISIONFLOW_HOME:-$HOME/.cache/decisionflow}/dist/apache-pulsar-4.0.8}"
KEYS="${DF_K8S_KEYS_DIR:-$HOME/.decisionflow/k8s-keys}"
DF_VERSION="${DF_VERSION:-$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' "$ROOT/pom.xml" | head -n 1)}"
TENANT=payments
NS=payments/fraud
PIPELINE_ROLE=decisionflow-payments
SUPERUSERS=(broker-admin proxy-admin admin)
TOKEN_AUTH=org.apache.pulsar.client.impl.auth.AuthenticationToken
# Topics that replicate between the regions; every other topic of the unit stays regional.
REPLICATED=(decisions fraud-alerts dead-letters)
# Control topics and reference tables keep the newest record per key (as Provisioner does).
COMPACTED=(models model-status routing routing-status merchants)
# Created downstream first, so that no stage publishes to a topic nobody reads yet.
FUNCTIONS=(guard decide score-champion score-challenger route enrich)
SINKS=(decisions-postgres archive)

say() { printf '[deploy-k8s] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

usage() {
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
  cat >&2 <<'EOF'

Environment (<C> is US_EAST or EU_WEST; PLACEHOLDER values have no default):
  DF_KUBE_CONTEXT_<C>        kubectl/helm context of the cluster
  DF_ADMIN_URL_<C>           the cluster's proxy, HTTP:   http://<proxy load balancer>:80
  DF_SERVICE_URL_<C>         the cluster's proxy, binary: pulsar://<proxy load balancer>:6650
  DF_S3_ENDPOINT_<C>         S3 endpoint of the region (model store, archive), e.g. https://s3.us-east-1.amazonaws.com
  DF_S3_REGION_<C>           its signing region, e.g. us-east-1
  DF_ARCHIVE_BUCKET_<C>      the region's decisions-archive bucket (must exist)
  DF_POSTGRES_JDBC_URL_<C>   the region's database, jdbc:postgresql://<host>:5432/decisionflow
  secrets (read by `secrets` only, stored as Kubernetes Secrets):
  DF_OFFLOAD_ACCESS_KEY, DF_OFFLOAD_SECRET_KEY        tiered storage (brokers)
  DF_POSTGRES_USER, DF_POSTGRES_PASSWORD              decisions-postgres sink
  DF_S3_ACCESS_KEY, DF_S3_SECRET_KEY                  decisions-archive sink
  DF_MODEL_STORE_ACCESS_KEY, DF_MODEL_STORE_SECRET_KEY score functions
  optional: PULSAR_HOME, DF_K8S_KEYS_DIR (~/.decisionflow/k8s-keys), DF_K8S_NAMESPACE (pulsar),
  DF_HELM_CHART (apache/pulsar), DF_HELM_CHART_VERSION (4.7.0), DF_VERSION (the project's version)
EOF
}

# The value of setting NAME for a cluster: NAME_US_EAST for us-east.
setting() {
  local name="$1_$(tr 'a-z-' 'A-Z_' <<<"$2")"
  [[ -n "${!name:-}" ]] || die "$name is not set (deploy-k8s.sh help)"
  printf '%s' "${!name}"
}

required() { [[ -n "${!1:-}" ]] || die "$1 is not set (deploy-k8s.sh help)"; printf '%s' "${!1}"; }

check_cluster() {
  local c
  for c in "${CLUSTERS[@]}"; do [[ "$1" == "$c" ]] && return 0; done
  die "unknown cluster '$1' (one of: ${CLUSTERS[*]})"
}

kube() {
  local context
  context="$(setting DF_KUBE_CONTEXT "$CLUSTER")" || exit 1
  kubectl --context "$context" -n "$NAMESPACE" "$@"
}

# pulsar-admin against a cluster's proxy, with the token of `role` (admin by default).
admin() {
  local cluster="$1" role="$2" url
  shift 2
  url="$(setting DF_ADMIN_URL "$cluster")" || exit 1
  [[ -f "$KEYS/$role.token" ]] || die "no token for role $role in $KEYS: run 'deploy-k8s.sh keys'"
  "$PULSAR_HOME/bin/pulsar-admin" --admin-url "$url" \
    --auth-plugin "$TOKEN_AUTH" --auth-params "file://$KEYS/$role.token" "$@"
}

# Applies a generic Secret (create or replace) from `kubectl create secret` arguments.
apply_secret() {
  local name="$1"
  shift
  kube create secret generic "$name" "$@" --dry-run=client -o yaml | kube apply -f - >/dev/null
  say "$CLUSTER: secret $name"
}

cmd_keys() {
  [[ -x "$PULSAR_HOME/bin/pulsar" ]] || die "no Pulsar distribution at PULSAR_HOME=$PULSAR_HOME"
  mkdir -p "$KEYS" && chmod 700 "$KEYS"
  if [[ ! -f "$KEYS/PRIVATEKEY" ]]; then
    "$PULSAR_HOME/bin/pulsar" tokens create-key-pair --output-private-key "$KEYS/PRIVATEKEY" \
      --output-public-key "$KEYS/PUBLICKEY"
    say "created the token key pair in $KEYS (keep it: both clusters trust it)"
  fi
  local role
  for role in "${SUPERUSERS[@]}" "$PIPELINE_ROLE"; do
    [[ -f "$KEYS/$role.token" ]] && continue
    "$PULSAR_HOME/bin/pulsar" tokens create -a RS256 --subject "$role" \
      --private-key "file://$KEYS/PRIVATEKEY" | tr -d '\n' >"$KEYS/$role.token"
    say "token for role $role"
  done
  chmod 600 "$KEYS"/*
}

cmd_secrets() {
  [[ -f "$KEYS/PRIVATEKEY" ]] || die "no key pair in $KEYS: run 'deploy-k8s.sh keys' first"
  local context
  context="$(setting DF_KUBE_CONTEXT "$CLUSTER")" || exit 1
  kubectl --context "$context" get namespace "$NAMESPACE" >/dev/null 2>&1 \
    || kubectl --context "$context" create namespace "$NAMESPACE"
  # The names and keys the chart mounts: <release>-token-asymmetric-key, <release>-token-<role>.
  apply_secret "$RELEASE-token-asymmetric-key" \
    --from-file=PRIVATEKEY="$KEYS/PRIVATEKEY" --from-file=PUBLICKEY="$KEYS/PUBLICKEY"
  local role
  for role in "${SUPERUSERS[@]}"; do
    apply_secret "$RELEASE-token-$role" --from-file=TOKEN="$KEYS/$role.token" \
      --from-literal=TYPE=asymmetric
  done
  apply_secret pulsar-offload-s3 \
    --from-literal=accessKeyId="$(required DF_OFFLOAD_ACCESS_KEY)" \
    --from-literal=secretAccessKey="$(required DF_OFFLOAD_SECRET_KEY)"
  # Named by the `secrets` of kubernetes/sinks/*.yaml and kubernetes/functions/score-*.yaml.
  apply_secret decisionflow-postgres \
    --from-literal=username="$(required DF_POSTGRES_USER)" \
    --from-literal=password="$(required DF_POSTGRES_PASSWORD)"
  apply_secret decisionflow-archive-s3 \
    --from-literal=accessKey="$(required DF_S3_ACCESS_KEY)" \
    --from-literal=secretKey="$(required DF_S3_SECRET_KEY)"
  apply_secret decisionflow-model-store \
    --from-literal=accessKey="$(required DF_MODEL_STORE_ACCESS_KEY)" \
    --from-literal=secretKey="$(required DF_MODEL_STORE_SECRET_KEY)"
}

cmd_install() {
  local context
  context="$(setting DF_KUBE_CONTEXT "$CLUSTER")" || exit 1
  helm upgrade --install "$RELEASE" "$CHART" --version "$CHART_VERSION" \
    --kube-context "$context" --namespace "$NAMESPACE" \
    -f "$HERE/values-common.yaml" -f "$HERE/values-$CLUSTER.yaml" --timeout 20m --wait
}

# Geo-replication: each cluster registers the other under its name, with its proxy's URLs. The
# brokers replicate with their own token (broker-admin), which the other cluster accepts because
# both trust the same key pair.
cmd_register() {
  local here there
  for here in "${CLUSTERS[@]}"; do
    for there in "${CLUSTERS[@]}"; do
      [[ "$here" == "$there" ]] && continue
      local verb=create url broker_url
      url="$(setting DF_ADMIN_URL "$there")" || exit 1
      broker_url="$(setting DF_SERVICE_URL "$there")" || exit 1
      admin "$here" admin clusters get "$there" >/dev/null 2>&1 && verb=update
      admin "$here" admin clusters "$verb" "$there" --url "$url" --broker-url "$broker_url"
      say "$here: cluster $there ${verb}d"
    done
  done
}

# What Provisioner does for pulsar-deploy/business-units/payments.yaml, on a cluster: the tenant
# (allowed in both regions), the namespace and its policies, the compacted control topics, and the
# replicated topics. Schemas are registered by the functions' and sinks' first producers and
# consumers (PROTOBUF_NATIVE, named in every config).
cmd_provision() {
  local all
  all="$(IFS=,; echo "${CLUSTERS[*]}")"
  local a=(admin "$CLUSTER" admin)
  if "${a[@]}" tenants get "$TENANT" >/dev/null 2>&1; then
    "${a[@]}" tenants update "$TENANT" --admin-roles "$PIPELINE_ROLE" --allowed-clusters "$all"
  else
    "${a[@]}" tenants create "$TENANT" --admin-roles "$PIPELINE_ROLE" --allowed-clusters "$all"
  fi
  "${a[@]}" namespaces list "$TENANT" | grep -qx "$NS" || "${a[@]}" namespaces create "$NS"
  # Regional by default: a topic replicates only if its own policy says so (below).
  "${a[@]}" namespaces set-clusters "$NS" --clusters "$CLUSTER"
  "${a[@]}" namespaces set-allowed-clusters "$NS" --clusters "$all"
  "${a[@]}" namespaces set-retention "$NS" --time 1440m --size 2048M
  "${a[@]}" namespaces set-backlog-quota "$NS" --limit 1024M --policy producer_request_hold
  "${a[@]}" namespaces set-deduplication "$NS" --enable
  "${a[@]}" namespaces set-schema-compatibility-strategy "$NS" --compatibility BACKWARD_TRANSITIVE
  # Tiered storage: bucket and endpoint are the brokers' (values-<cluster>.yaml); when to offload
  # is the unit's (offload.thresholdMb 1024, deletionLagMinutes 240).
  "${a[@]}" namespaces set-offload-threshold "$NS" --size 1024M
  "${a[@]}" namespaces set-offload-deletion-lag "$NS" --lag 240m
  "${a[@]}" namespaces grant-permission "$NS" --role "$PIPELINE_ROLE" \
    --actions produce,consume,functions,sinks,packages
  local topic existing
  existing="$("${a[@]}" topics list "$NS")"
  for topic in "${COMPACTED[@]}" "${REPLICATED[@]}"; do
    grep -qx "persistent://$NS/$topic" <<<"$existing" \
      || "${a[@]}" topics create "persistent://$NS/$topic"
  done
  for topic in "${COMPACTED[@]}"; do
    "${a[@]}" topics set-compaction-threshold "persistent://$NS/$topic" --threshold 1M
  done
  for topic in "${REPLICATED[@]}"; do
    "${a[@]}" topics set-replication-clusters "persistent://$NS/$topic" --clusters "$all"
  done
  say "$CLUSTER: $NS provisioned; ${REPLICATED[*]} replicate to $all"
}

# Package URL and local file of each jar and NAR the configs name.
PACKAGES=(
  "function://$NS/decisionflow-functions|functions/target/decisionflow-functions.jar"
  "function://$NS/decisionflow-scoring|functions/target/decisionflow-scoring.jar"
  "sink://$NS/decisionflow-jdbc-sink|connectors/jdbc/target/decisionflow-jdbc-sink.nar"
  "sink://$NS/decisionflow-archive-sink|connectors/archive/target/decisionflow-archive-sink.nar"
)

cmd_packages() {
  local entry url file
  for entry in "${PACKAGES[@]}"; do
    url="${entry%%|*}@$DF_VERSION"
    file="$ROOT/${entry#*|}"
    [[ -f "$file" ]] || die "$file missing: run 'mvn -B package -DskipTests' first"
    if admin "$CLUSTER" admin packages get-metadata "$url" >/dev/null 2>&1; then
      say "$CLUSTER: $url already there"
      continue
    fi
    admin "$CLUSTER" admin packages upload "$url" --path "$file" \
      --description "decisionflow $DF_VERSION $(basename "$file")"
    say "$CLUSTER: uploaded $url"
  done
}

# A config with its ${DF_...} placeholders filled in for the cluster, written to a temporary file.
render() {
  local text
  text="$(<"$1")"
  text="${text//'${DF_VERSION}'/$DF_VERSION}"
  local var value
  for var in DF_S3_ENDPOINT DF_S3_REGION DF_ARCHIVE_BUCKET DF_POSTGRES_JDBC_URL; do
    if [[ "$text" == *"\${$var}"* ]]; then
      value="$(setting "$var" "$CLUSTER")" || exit 1
      text="${text//"\${$var}"/$value}"
    fi
  done
  [[ "$text" != *'${DF_'* ]] || die "$1 has a placeholder this script does not fill in"
  local out
  out="$(mktemp "${TMPDIR:-/tmp}/decisionflow-$CLUSTER-XXXXXX.yaml")"
  printf '%s\n' "$text" >"$out"
  printf '%s' "$out"
}

cmd_pipeline() {
  [[ -f "$KEYS/$PIPELINE_ROLE.token" ]] || die "no token for $PIPELINE_ROLE: run 'deploy-k8s.sh keys'"
  # Created with the pipeline role's token: the instances run as that role (the worker hands the
  # creator's token to the instance pods), not as a superuser.
  local p=(admin "$CLUSTER" "$PIPELINE_ROLE")
  local name file verb
  for name in "${FUNCTIONS[@]}"; do
    file="$(render "$HERE/functions/$name.yaml")" || exit 1
    verb=create
    "${p[@]}" functions get --tenant "$TENANT" --namespace fraud --name "$name" >/dev/null 2>&1 \
      && verb=update
    "${p[@]}" functions "$verb" --function-config-file "$file"
    rm -f "$file"
    say "$CLUSTER: function $name ${verb}d"
  done
  for name in "${SINKS[@]}"; do
    file="$(render "$HERE/sinks/$name.yaml")" || exit 1
    local sink
    sink="$(sed -n 's/^name: //p' "$file")"
    verb=create
    "${p[@]}" sinks get --tenant "$TENANT" --namespace fraud --name "$sink" >/dev/null 2>&1 \
      && verb=update
    "${p[@]}" sinks "$verb" --sink-config-file "$file"
    rm -f "$file"
    say "$CLUSTER: sink $sink ${verb}d"
  done
  say "$CLUSTER: the score functions start once their slot has a model announced on 'models'"
}

step="${1:-help}"
case "$step" in
  keys) cmd_keys ;;
  register)
    for c in "${CLUSTERS[@]}"; do
      setting DF_ADMIN_URL "$c" >/dev/null || exit 1
      setting DF_SERVICE_URL "$c" >/dev/null || exit 1
    done
    cmd_register
    ;;
  secrets | install | provision | packages | pipeline)
    (($# == 2)) || die "usage: deploy-k8s.sh $step <cluster>"
    CLUSTER="$2"
    check_cluster "$CLUSTER"
    case "$step" in
      secrets | install) setting DF_KUBE_CONTEXT "$CLUSTER" >/dev/null || exit 1 ;;
      *) setting DF_ADMIN_URL "$CLUSTER" >/dev/null || exit 1 ;;
    esac
    "cmd_$step"
    ;;
  help | -h | --help) usage ;;
  *) usage; exit 2 ;;
esac
