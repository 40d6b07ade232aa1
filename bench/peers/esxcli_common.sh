# Sourced by the official-client peers: connection settings for Broadcom's esxcli from the
# simulator's env file ($1). The password travels in VI_PASSWORD (the client reads it from the
# environment), the server certificate is verified against the simulator's CA.
# Peer benchmark against the local simulator only.
env_file=${1:?usage: $0 SIM_ENV_FILE HOST...}
shift
set -a; . "$env_file"; set +a
export VI_USERNAME="$ESXPATH_USER" VI_PASSWORD="$ESXPATH_PASSWORD"
export VI_CACERTFILE="$ESXPATH_CA_FILE"
# https://127.0.0.1:PORT/sdk -> server, port, service path
hostport=${ESXPATH_VCENTER#https://}; hostport=${hostport%%/*}
export VI_SERVER=${hostport%:*} VI_PORTNUMBER=${hostport##*:} VI_SERVICEPATH=/${ESXPATH_VCENTER#https://*/}

# One esxcli process per command, as an admin's loop runs it: -h picks the ESXi host in vCenter.
on_host() { local host=$1; shift; esxcli -h "$host" "$@"; }

# The article lists /vmfs/devices/disks on the host and keeps the eui.* names; remotely the
# same list is the device names of `storage nmp device list` (one unindented line per device).
eui_devices() { on_host "$1" storage nmp device list | grep -E '^eui\.' ; }
