#!/bin/sh
# Submit an issue file to the newsletter API and send or schedule it: the CI recipe (run it
# on merge). Idempotent: the same issue (its slug) on the same list is one campaign, so a
# re-run finds the campaign it made; a changed file edits it while it is a draft or
# scheduled; once it is sending or sent, nothing is sent again.
#
#   NEWSLETTER_URL=https://news.example.org NEWSLETTER_TOKEN=nlt_… \
#     examples/ci/submit-issue.sh issues/2026-12-01-week-49.md weekly [2026-12-01T09:00:00Z]
#
# Without a time it sends at once. Needs curl and jq. Exit status: 0 done (or nothing left
# to do), 1 refused (the answer is printed).
set -eu
file=$1
list=$2
at=${3:-}
: "${NEWSLETTER_URL:?set NEWSLETTER_URL (the server, e.g. https://news.example.org)}"
: "${NEWSLETTER_TOKEN:?set NEWSLETTER_TOKEN (an editor API token)}"

api() { # METHOD PATH BODY
  curl -sS --fail-with-body -X "$1" -H "Authorization: Bearer $NEWSLETTER_TOKEN" -H 'Content-Type: application/json' \
    --data-binary "$3" "$NEWSLETTER_URL$2"
}

reply=$(api POST /api/campaigns "$(jq -n --rawfile markdown "$file" --arg list "$list" '{markdown: $markdown, list: $list}')") || {
  echo "submit-issue: $file refused: $reply" >&2
  exit 1
}
id=$(printf '%s' "$reply" | jq -r .campaign.id)
status=$(printf '%s' "$reply" | jq -r .campaign.status)
echo "campaign $id: $(printf '%s' "$reply" | jq -r .outcome) ($status)"

case $status in
  draft | scheduled) ;;
  *) echo "campaign $id is $status: nothing to send"; exit 0 ;;
esac
if [ -n "$at" ]; then body=$(jq -n --arg at "$at" '{at: $at}'); else body='{}'; fi
sent=$(api POST "/api/campaigns/$id/send" "$body") || {
  echo "submit-issue: send refused: $sent" >&2
  exit 1
}
echo "campaign $id: $(printf '%s' "$sent" | jq -r .status)$(printf '%s' "$sent" | jq -r 'if .scheduled_at then " for " + .scheduled_at else "" end')"
