#!/usr/bin/env bash
# The audit an admin would script with Broadcom's esxcli, one host at a time: per eui device the
# RR configuration (`deviceconfig get`) and its paths with their ALUA group states (`path list`).
# Usage: esxcli_audit.sh SIM_ENV_FILE HOST...
set -euo pipefail
. "$(dirname "$0")/esxcli_common.sh"
for host in "$@"; do
    for i in $(eui_devices "$host"); do
        on_host "$host" storage nmp psp roundrobin deviceconfig get --device="$i" \
            | grep -E 'Limit Type|IOOperation'
        on_host "$host" storage nmp path list --device="$i" | grep -E 'Group State' | sort | uniq -c
    done
done
