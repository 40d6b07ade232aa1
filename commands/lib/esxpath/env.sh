# shellcheck shell=bash
# esxpath credentials file, shared by esxpath-audit-run, esxpath-failover and esxpath-alert.
# Sourced, not run. Installed as /usr/local/lib/esxpath/env.sh (the scripts look in
# <their dir>/../lib/esxpath/, which is that path for /usr/local/sbin and commands/lib in the repo).
#
# The file holds KEY=value lines (ESXPATH_VCENTER, ESXPATH_USER, ESXPATH_PASSWORD,
# ESXPATH_CA_FILE, ...), the format systemd's EnvironmentFile= reads too. It is parsed, never
# sourced: no code runs from it, and a password may contain $, spaces or quotes.

# esxpath_env_problem FILE [OWNER]: print why FILE must not be used and return 1, or return 0.
# Safe means: a regular file, readable, owned by root (or OWNER: a user name or uid), with no
# permission bit for group or others -- it holds the vCenter password.
esxpath_env_problem() {
    local file=$1 allowed=${2:-} mode uid owner
    if [[ ! -f $file ]]; then
        echo "credentials file $file is missing (create it with mode 0600, owner root)"
        return 1
    fi
    if [[ ! -r $file ]]; then
        echo "credentials file $file is not readable by $(id -un)"
        return 1
    fi
    read -r mode uid owner < <(stat -L -c '%a %u %U' -- "$file")
    if [[ $uid != 0 && $uid != "$allowed" && $owner != "$allowed" ]]; then
        echo "refusing $file: owned by $owner, not root (chown root: $file)"
        return 1
    fi
    if (( (8#$mode & 8#077) != 0 )); then
        echo "refusing $file: mode $mode gives group/others access to the password (chmod 600 $file)"
        return 1
    fi
    return 0
}

# esxpath_env_load FILE: export its KEY=value lines into the current shell. Blank lines and
# # comments are skipped; an "export " prefix and one pair of surrounding quotes are removed.
# Returns 1 (message on stderr) on a line that is not KEY=value.
esxpath_env_load() {
    local file=$1 line key value n=0
    while IFS= read -r line || [[ -n $line ]]; do
        n=$((n + 1))
        line=${line%$'\r'}
        [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
        line=${line#export }
        key=${line%%=*}
        value=${line#*=}
        if [[ $line != *=* || ! $key =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
            echo "$file line $n: expected KEY=value" >&2
            return 1
        fi
        if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then
            value=${BASH_REMATCH[1]}
        fi
        export "$key=$value"
    done <"$file"
}
