#!/usr/bin/env bash
# Copyright: isp.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# make demo: start the lab's UISP, Ubilling and OMniLeads API emulators on loopback, the shaper's
# namespaces and (unless ISP_OPS_DEMO_TELEPHONY=0 or the Asterisk chroot cannot be built) the two
# Asterisk peers, run playbooks/site.yml against inventories/lab twice (the second run must change
# nothing), and summarise what was built.
# `scripts/demo.sh clean` stops what the demo started.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
lab="$root/lab-output"
state="$lab/.demo"
port=18780
token="lab-token-not-a-secret"
export PATH="$root/.venv/bin:$PATH" ANSIBLE_CONFIG="$root/ansible.cfg" ANSIBLE_NOCOLOR=1

stop_emulator() {
    local file pid
    for file in "$state/emulator.pid" "$state/ubilling.pid" "$state/omnileads.pid"; do
        [[ -f $file ]] || continue
        pid=$(cat "$file")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        rm -f "$file"
    done
}

if [[ ${1:-} == clean ]]; then
    stop_emulator
    python scripts/lab_network.py down --prefix isplab
    python scripts/lab_telephony.py down --state "$state"
    rm -rf "$lab"
    echo "demo-clean: emulators and Asterisk peers stopped, lab namespaces and $lab removed"
    exit 0
fi

mkdir -p "$state"
stop_emulator
rm -f "$state/port"
python tests/emulators/serve.py --source uisp --port "$port" --port-file "$state/port" \
    --subscribers 400 --seed 11 --token "$token" --max-seconds 3600 >"$state/emulator.log" 2>&1 &
echo $! >"$state/emulator.pid"
for _ in $(seq 100); do [[ -f $state/port ]] && break; sleep 0.1; done
[[ -f $state/port ]] || { echo "demo: the UISP emulator did not start; see $state/emulator.log" >&2; exit 1; }
echo "demo: UISP emulator on http://127.0.0.1:$port (400 subscribers, lab token)"

# The billing group's Ubilling: the remote API emulator with its lab serial (group_vars/billing.yml).
ubilling_port=18781
rm -f "$state/ubilling.port"
python tests/emulators/serve.py --source ubilling --port "$ubilling_port" --port-file "$state/ubilling.port" \
    --log-file "$state/ubilling-requests.jsonl" --max-seconds 3600 >"$state/ubilling.log" 2>&1 &
echo $! >"$state/ubilling.pid"
for _ in $(seq 100); do [[ -f $state/ubilling.port ]] && break; sleep 0.1; done
[[ -f $state/ubilling.port ]] || { echo "demo: the Ubilling emulator did not start; see $state/ubilling.log" >&2; exit 1; }
echo "demo: Ubilling emulator on http://127.0.0.1:$ubilling_port/billing/ (lab serial)"

# The contact center's REST API: the OMniLeads emulator (group_vars/contact_center.yml).
oml_port=18782
rm -f "$state/omnileads.port"
python tests/emulators/serve.py --source omnileads --port "$oml_port" --port-file "$state/omnileads.port" \
    --password lab-oml-not-a-secret --trunks issabel --max-seconds 3600 >"$state/omnileads.log" 2>&1 &
echo $! >"$state/omnileads.pid"
for _ in $(seq 100); do [[ -f $state/omnileads.port ]] && break; sleep 0.1; done
[[ -f $state/omnileads.port ]] || { echo "demo: the OMniLeads emulator did not start; see $state/omnileads.log" >&2; exit 1; }
echo "demo: OMniLeads API emulator on http://127.0.0.1:$oml_port"

python scripts/lab_network.py up --prefix isplab --subscribers 3

# The PBX and OMniLeads peers: two real Asterisk 22 in namespaces, from a cached Debian sid
# chroot (scripts/asterisk-chroot.sh, built here unless ISP_OPS_DEMO_TELEPHONY=0).
python scripts/lab_telephony.py down --state "$state"
telephony=(--skip-tags telephony)
if [[ ${ISP_OPS_DEMO_TELEPHONY:-1} == 0 ]]; then
    echo "demo: telephony skipped (ISP_OPS_DEMO_TELEPHONY=0)"
elif python scripts/lab_telephony.py up --build --state "$state" --api-url "http://127.0.0.1:$oml_port"; then
    telephony=(-e "@$state/telephony-vars.json")
else
    echo "demo: telephony skipped: the Asterisk peers could not start (see above); the shaper and billing still run"
fi

export ISP_OPS_LAB_DIR="$lab" ISP_OPS_LAB_CRM_URL="http://127.0.0.1:$port"
export ISP_OPS_LAB_UBILLING_URL="http://127.0.0.1:$ubilling_port/billing/"
run_site() {
    ansible-playbook -i inventories/lab/hosts.yml playbooks/site.yml "${telephony[@]}" 2>&1 | tee "$state/run.log"
}
echo "demo: first run"
run_site
# Three subscriber namespaces take the addresses of three real circuits of the CRM.
python scripts/lab_network.py adopt --prefix isplab --subscribers 3 --csv "$lab/ShapedDevices.csv" \
    --out "$state/subscribers.json"
echo "demo: second run (must change nothing)"
run_site
# The sum over every host of the recap (lab-billing, lab-shaper, ...), not just the first line.
changed=$(sed -n 's/.* changed=\([0-9]*\).*/\1/p' "$state/run.log" | awk '{ sum += $1 } END { print sum + 0 }')
if [[ $changed != 0 ]]; then
    echo "demo: the second run reported changed=$changed; it should be 0" >&2
    exit 1
fi
address=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["address"])' "$state/subscribers.json")
python scripts/lab_network.py measure --prefix isplab --subscriber 1 --address "$address" >"$state/measure.json"
python scripts/lab_summary.py "$lab" "$state/run.log" "$state"
if [[ -f $state/telephony.json ]]; then
    python scripts/lab_telephony.py status --state "$state"
fi
