#!/usr/bin/env bash
# Copyright: isp.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Install everything `make demo` and `make test` need on a fresh Debian 12 machine (as root):
# Debian packages, a venv at .venv made from Debian's own Python with system site packages
# (so Debian's bcc stays importable), the Python packages, and a collection path that makes
# `ansible_collections.isp.ops` resolve to this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$(pwd)

# cron provides `crontab` for ansible.builtin.cron (the ubilling_cron role); policy-rc.d keeps its daemon stopped here.
apt_packages=(python3-venv python3-pip graphviz iperf3 iproute2 rsync procps shellcheck ethtool cron debootstrap mariadb-server)
missing=()
for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "bootstrap: missing Debian packages ${missing[*]} and not root; install them first" >&2
        exit 1
    fi
    echo "bootstrap: apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# bcc, kernel headers and iperf3 for the shaper's eBPF classifier and its namespace tests.
if [[ $(id -u) -eq 0 ]]; then
    bash scripts/kernel-deps.sh
fi

if [[ ! -x .venv/bin/python ]]; then
    /usr/bin/python3 -m venv --system-site-packages .venv
fi
stamp=.venv/.requirements.sha
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt 2>&1 \
        | { grep -v "^WARNING: Location 'file:" || true; }
    echo "$want" >"$stamp"
fi

# ansible_collections/isp/ops -> this checkout, for pytest imports and ansible-playbook.
mkdir -p .venv/collections/ansible_collections/isp
ln -sfn "$here" .venv/collections/ansible_collections/isp/ops
