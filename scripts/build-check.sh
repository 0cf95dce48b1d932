#!/usr/bin/env bash
# Copyright: isp.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# The collection builds, the artifact installs into a clean path, and every module renders
# with ansible-doc from that installed copy.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
touch "$out/none.cfg"
trap 'rm -rf "$out"' EXIT
ansible-galaxy collection build --output-path "$out" . >/dev/null
ansible-galaxy collection install --offline --force -p "$out/installed" "$out"/isp-ops-*.tar.gz >/dev/null
modules=$(find plugins/modules -name '*.py' -printf '%f\n' | sed 's/\.py$//' | sort)
for m in $modules; do
    doc=$(ANSIBLE_CONFIG="$out/none.cfg" ANSIBLE_COLLECTIONS_PATH="$out/installed" ansible-doc --json "isp.ops.$m")
    python3 - "$m" "$doc" <<'PY'
import json, sys
name, doc = sys.argv[1], json.loads(sys.argv[2])
entry = doc.get("isp.ops." + name) or {}
missing = [k for k in ("doc", "examples", "return") if not entry.get(k)]
if missing:
    sys.exit("build-check: isp.ops.%s has no %s in the installed artifact" % (name, ", ".join(missing)))
PY
done
echo "build-check: built, installed and rendered $(echo "$modules" | wc -w) module docs"

# AWX execution environments: ansible-builder must find the collection's controller-side
# dependencies in the installed artifact, and the example definition must make a build context.
deps=$(ansible-builder introspect --sanitize "$out/installed")
for wanted in requests librouteros graphviz; do
    grep -q "$wanted.*from collection isp.ops" <<<"$deps" ||
        { echo "build-check: ansible-builder does not see isp.ops' dependency $wanted" >&2; exit 1; }
done
ansible-builder create -f docs/examples/execution-environment.yml -c "$out/ee-context" >/dev/null
test -s "$out/ee-context/Dockerfile" -o -s "$out/ee-context/Containerfile"
echo "build-check: ansible-builder reads meta/execution-environment.yml; the example EE definition is valid"
