#!/usr/bin/env bash
# One-shot set-up of the Temporal cluster for notify (run by the `temporal-setup` service of docker-compose.yml with
# the temporalio/admin-tools image): registers the namespace and the custom search attributes the notification
# workflow sets (SEARCH_ATTRIBUTES in src/shared/notification.ts; test/docker-compose.test.ts keeps the two in sync).
# Idempotent: safe to run on every `docker compose up`.
#
# Environment: TEMPORAL_ADDRESS (host:port of the frontend), NOTIFY_NAMESPACE (default notify),
# NOTIFY_NAMESPACE_RETENTION (default 192h). Retention must exceed the Kafka topic retention (KAFKA_TOPIC_RETENTION_MS,
# 7 days by default): ingest starts workflows with REJECT_DUPLICATE, which only deduplicates a redelivered record
# while the closed run is still retained.
set -euo pipefail

: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS to the Temporal frontend, e.g. temporal:7233}"
namespace="${NOTIFY_NAMESPACE:-notify}"
retention="${NOTIFY_NAMESPACE_RETENTION:-192h}"
export TEMPORAL_ADDRESS

echo "waiting for the Temporal frontend at ${TEMPORAL_ADDRESS}"
attempts=0
until temporal operator cluster health 2>/dev/null | grep -q SERVING; do
  attempts=$((attempts + 1))
  if [ "${attempts}" -ge 120 ]; then
    echo "Temporal at ${TEMPORAL_ADDRESS} did not report SERVING within 2 minutes; check the temporal service logs." >&2
    exit 1
  fi
  sleep 1
done

if temporal operator namespace describe --namespace "${namespace}" >/dev/null 2>&1; then
  echo "namespace ${namespace} already registered"
else
  echo "registering namespace ${namespace} (retention ${retention})"
  temporal operator namespace create --namespace "${namespace}" --retention "${retention}" \
    --description "notify: one workflow per notification"
fi

# The namespace cache refreshes asynchronously; wait until the new namespace answers.
until temporal operator search-attribute list --namespace "${namespace}" >/dev/null 2>&1; do
  echo "waiting for namespace ${namespace} to become visible"
  sleep 1
done

# KeywordList -> INDEXED_VALUE_TYPE_KEYWORD_LIST, the spelling `search-attribute list --output json` reports.
indexed_value_type() {
  printf 'INDEXED_VALUE_TYPE_%s' "$(printf '%s' "$1" | sed -E 's/([a-z0-9])([A-Z])/\1_\2/g' | tr '[:lower:]' '[:upper:]')"
}

# ensure_search_attribute NAME TYPE: creates the attribute unless it already exists with the same type.
ensure_search_attribute() {
  local name="$1" type="$2" expected existing
  expected="$(indexed_value_type "${type}")"
  existing="$(temporal operator search-attribute list --namespace "${namespace}" --output json \
    | jq -r --arg n "${name}" '.customAttributes[$n] // empty')"
  if [ -z "${existing}" ]; then
    echo "creating search attribute ${name} (${type})"
    temporal operator search-attribute create --namespace "${namespace}" --name "${name}" --type "${type}"
  elif [ "${existing}" != "${expected}" ]; then
    # Types cannot be changed in place; failing here beats a workflow whose upserts the server rejects.
    echo "search attribute ${name} exists as ${existing}, expected ${expected}: delete it or use another namespace" >&2
    exit 1
  else
    echo "search attribute ${name} (${type}) already registered"
  fi
}

ensure_search_attribute NotifyChannels KeywordList
ensure_search_attribute NotifyStatus Keyword
ensure_search_attribute NotifyTags KeywordList
ensure_search_attribute NotifyClient Keyword

echo "Temporal set-up for namespace ${namespace} complete"
