#!/usr/bin/env bash
# Copyright: isp.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Build (or reuse) a Debian sid chroot with Asterisk 22 for the telephony tests.
# Asterisk is not packaged for Debian 12; sid has it (see shared/platform.md).
#
#   scripts/asterisk-chroot.sh [--rebuild] [DIR]
#
# DIR defaults to $ISP_OPS_ASTERISK_CHROOT or /var/cache/isp-ops/asterisk-sid. An existing
# chroot is reused when it is valid (the asterisk binary runs and reports a version); --rebuild
# deletes it first. The build goes to DIR.partial and is renamed only when complete, so an
# interrupted run never leaves a half chroot that looks valid. Prints DIR on success.
set -euo pipefail

rebuild=0
dir=""
for arg in "$@"; do
    case $arg in
        --rebuild) rebuild=1 ;;
        -h | --help)
            sed -n '5,13p' "$0"
            exit 0
            ;;
        -*)
            echo "asterisk-chroot: unknown option $arg" >&2
            exit 2
            ;;
        *) dir=$arg ;;
    esac
done
dir=${dir:-${ISP_OPS_ASTERISK_CHROOT:-/var/cache/isp-ops/asterisk-sid}}
mirror=${ISP_OPS_DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [[ $(id -u) -ne 0 ]]; then
    echo "asterisk-chroot: must run as root (debootstrap, chroot)" >&2
    exit 1
fi

# A chroot is valid when its asterisk binary runs. /proc is not needed for -V.
valid() {
    [[ -x $1/usr/sbin/asterisk ]] && chroot "$1" /usr/sbin/asterisk -V >/dev/null 2>&1
}

# Never delete a tree that still has /proc or /dev mounted inside it (a running lab).
mounted_inside() {
    local d
    d=$(realpath -m "$1")
    awk -v d="$d" '$2 == d || index($2, d "/") == 1 {found = 1} END {exit !found}' /proc/mounts
}

remove_tree() {
    if mounted_inside "$1"; then
        echo "asterisk-chroot: $1 has mounts inside (a lab is running?); not deleting it" >&2
        exit 1
    fi
    rm -rf --one-file-system "$1"
}

if ((rebuild)) && [[ -e $dir ]]; then
    remove_tree "$dir"
fi
if valid "$dir"; then
    echo "$dir"
    exit 0
fi
if [[ -e $dir ]]; then
    echo "asterisk-chroot: $dir exists but is not a working chroot; rebuilding" >&2
    remove_tree "$dir"
fi

if ! command -v debootstrap >/dev/null; then
    echo "asterisk-chroot: apt-get install debootstrap" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

partial=$dir.partial
[[ -e $partial ]] && remove_tree "$partial"
mkdir -p "$(dirname "$dir")"
echo "asterisk-chroot: debootstrap sid into $partial (2-3 min)" >&2
if ! debootstrap --variant=minbase --include=asterisk,asterisk-modules sid "$partial" "$mirror" \
    >"$partial.log" 2>&1; then
    echo "asterisk-chroot: debootstrap failed; last lines of $partial.log:" >&2
    tail -n 20 "$partial.log" >&2
    exit 1
fi
# The package leaves these owned by the asterisk user; the lab runs asterisk as root
# (-U root -G root), which then cannot be refused access to its own files.
for d in etc/asterisk var/lib/asterisk var/log/asterisk var/spool/asterisk var/run/asterisk \
    usr/share/asterisk; do
    [[ -e $partial/$d ]] && chown -R root:root "$partial/$d"
done
# The tests run this tree inside network namespaces that reach nothing else; Asterisk's DNS
# lookups (its own host name, for the RTP address) must fail at once instead of trying the
# build host's resolver.
printf '# isp.ops lab: no DNS inside the test namespaces\nnameserver 127.0.0.1\n' >"$partial/etc/resolv.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$partial/etc/hosts"
if ! valid "$partial"; then
    echo "asterisk-chroot: asterisk does not run inside $partial" >&2
    exit 1
fi
mv "$partial" "$dir"
rm -f "$partial.log"
echo "$dir"
