#!/usr/bin/env bash
# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Idempotent installer of what the eBPF classifier and its netns tests need on Debian 12 (root):
# bcc (python3-bpfcc, bpfcc-tools), iperf3, iproute2 and kernel headers for bcc's compiler.
# `apt-get update` runs once, and only when something has to be installed. A second run with
# everything present prints nothing and changes nothing.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
    echo "kernel-deps: must run as root" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive

kver=$(uname -r)
build=/lib/modules/$kver/build
source_link=/lib/modules/$kver/source

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# true when apt knows a package of that exact name (needs a fresh package list)
known() { apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p' | grep -qv '(none)'; }

want=()
for p in python3-bpfcc bpfcc-tools iperf3 iproute2; do
    installed "$p" || want+=("$p")
done

own_headers=no
if [[ ! -e $build ]]; then
    apt-get update -qq
    updated=yes
    if known "linux-headers-$kver"; then
        # A distribution kernel: its own headers package provides /lib/modules/$kver/build.
        own_headers=yes
        installed "linux-headers-$kver" || want+=("linux-headers-$kver")
    else
        installed linux-headers-amd64 || want+=(linux-headers-amd64)
    fi
fi

if ((${#want[@]})); then
    [[ ${updated:-no} == yes ]] || apt-get update -qq
    echo "kernel-deps: apt-get install ${want[*]}"
    log=$(mktemp)
    if ! apt-get install -y -qq --no-install-recommends "${want[@]}" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        exit 1
    fi
    rm -f "$log"
fi

# TEST-MACHINE WORKAROUND. The running kernel (a custom 6.18 build without /lib/modules) has no
# headers package of its own, so point bcc at Debian's generic headers (6.1). That is enough for
# bpf/classifier.c, which includes UAPI headers only. A real shaper runs a distribution kernel
# and gets linux-headers-$(uname -r) above instead; no links are made then.
if [[ ! -e $build && $own_headers == no ]]; then
    hdr=$(find /usr/src -maxdepth 1 -type d -name 'linux-headers-*-amd64' | sort -V | tail -n 1)
    if [[ -z $hdr ]]; then
        echo "kernel-deps: no /usr/src/linux-headers-*-amd64 after installing linux-headers-amd64" >&2
        exit 1
    fi
    common=${hdr%-amd64}-common
    mkdir -p "/lib/modules/$kver"
    ln -sfn "$hdr" "$build"
    [[ -d $common ]] && ln -sfn "$common" "$source_link"
    echo "kernel-deps: linked $build -> $hdr (test-machine workaround)"
fi

# bpffs for pinned maps (/sys/fs/bpf/isp_ops/...); mounted by systemd on most hosts.
if ! grep -qs '^[^ ]* /sys/fs/bpf bpf ' /proc/mounts; then
    mount -t bpf bpf /sys/fs/bpf
fi
