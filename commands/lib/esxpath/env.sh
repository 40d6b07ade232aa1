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
    if [[ -e $file && ! -f $file ]]; then  # a FIFO would hang the read, a directory fail it
        echo "credentials file $file is $(esxpath_file_kind "$file"), not a regular file"
        return 1
    fi
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

# esxpath_output_problem FILE: print why FILE must not be written and return 1, or return 0.
# A file is written only where nothing is or a regular file is (a symlink is judged by what it
# points to; one to nothing is refused): run as root, an append to a device node or a FIFO
# would write into the device or wait forever. The same rule as esxpath's own (files.py).
esxpath_output_problem() {
    local file=$1
    if [[ -L $file && ! -e $file ]]; then
        echo "$file is a symbolic link to nothing: refused, nothing written"
        return 1
    fi
    if [[ -e $file && ! -f $file ]]; then
        echo "$file is $(esxpath_file_kind "$file"), not a regular file: refused, nothing written"
        return 1
    fi
    return 0
}

# esxpath_file_kind FILE: "a directory", "a FIFO", "a character device", ... (what it points to)
esxpath_file_kind() {
    if [[ -d $1 ]]; then echo "a directory"
    elif [[ -p $1 ]]; then echo "a FIFO"
    elif [[ -c $1 ]]; then echo "a character device"
    elif [[ -b $1 ]]; then echo "a block device"
    elif [[ -S $1 ]]; then echo "a socket"
    else echo "not a regular file"
    fi
}
