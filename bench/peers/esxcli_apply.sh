#!/usr/bin/env bash
# The seed article's procedure through Broadcom's esxcli, one host at a time: three loops over
# the eui devices (set VMW_PSP_RR, set the RR IOPS limit to 1, read the limit back).
# Usage: esxcli_apply.sh SIM_ENV_FILE HOST...
set -euo pipefail
. "$(dirname "$0")/esxcli_common.sh"
for host in "$@"; do
    devices=$(eui_devices "$host")
    for i in $devices; do on_host "$host" storage nmp device set --psp=VMW_PSP_RR --device="$i"; done
    for i in $devices; do
        on_host "$host" storage nmp psp roundrobin deviceconfig set --type=iops --iops=1 --device="$i"
    done
    for i in $devices; do
        on_host "$host" storage nmp psp roundrobin deviceconfig get --device="$i" | grep IOOperation
    done
done
