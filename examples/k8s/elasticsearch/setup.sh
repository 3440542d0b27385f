#!/bin/sh
# Installs what the boundary-audit data streams need on the logging cluster: the ILM policy
# (retention), the index template (ECS mappings), two roles (append-only shipper, read-only
# auditor) and an API key for the shipper. Run it once per cluster, with an admin credential,
# from a workstation, never from the production application cluster.
#
#   ES_URL=https://es-audit.example.org:9200 ES_AUTH='elastic:...' ./setup.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${ES_URL:?set ES_URL, e.g. https://es-audit.example.org:9200}"
: "${ES_AUTH:?set ES_AUTH to user:password of an administrator}"
curl_es() { curl --fail-with-body -sS -u "$ES_AUTH" -H 'Content-Type: application/json' "$@"; echo; }

curl_es -X PUT "$ES_URL/_ilm/policy/boundary-audit" --data-binary "@$here/ilm-policy.json"
curl_es -X PUT "$ES_URL/_index_template/boundary-audit" --data-binary "@$here/index-template.json"

for role in boundary-audit-shipper boundary-audit-reader; do
  curl_es -X PUT "$ES_URL/_security/role/$role" --data-binary "@$here/roles/$role.json"
done

# The shipper's key: append-only, and only to these data streams. Put the printed "encoded"
# value in the ES_API_KEY secret of the Fluent Bit / Fluentd DaemonSet.
curl_es -X POST "$ES_URL/_security/api_key" --data-binary '{
  "name": "boundary-audit-shipper",
  "role_descriptors": {
    "boundary-audit-shipper": {
      "cluster": ["monitor"],
      "indices": [{ "names": ["boundary-audit-*"], "privileges": ["create_doc", "auto_configure"] }]
    }
  }
}'
