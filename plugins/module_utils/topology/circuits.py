# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Turn the snapshot's circuits into ShapedDevices rows: parents, rates, addresses.

Bad rows never crash the run: they are corrected or dropped and reported by kind.
"""

from __future__ import annotations

from .addresses import normalize
from .settings import MIN_RATE_MBPS, SLOW_MBPS, TopologyError
from .shaped_devices import DeviceRow


def _label(circuit):
    return "%r (%s)" % (circuit.name, circuit.id) if circuit.name else str(circuit.id)


def _rates(circuit, settings):
    """((down min, up min, down max, up max) in Mbps, or None when the plan has no speed;
    and the directions whose min had to be lowered to the max)."""
    if circuit.suspended and settings.suspended_strategy == "slow":
        return (SLOW_MBPS, SLOW_MBPS, SLOW_MBPS, SLOW_MBPS), ()
    if not circuit.plan_download or not circuit.plan_upload:
        return None, ()
    result, lowered = [], []
    for plan, burst, explicit_min in ((circuit.plan_download, circuit.burst_download, circuit.min_download),
                                      (circuit.plan_upload, circuit.burst_upload, circuit.min_upload)):
        high = round((plan + (burst or 0)) * settings.bandwidth_overhead_factor, 2)
        low = round(plan * settings.commit_bandwidth_multiplier if explicit_min is None else explicit_min, 2)
        high = max(high, MIN_RATE_MBPS)
        low = max(low, MIN_RATE_MBPS)
        if low > high:
            lowered.append("%s > %s" % (low, high))
            low = high
        result.append((low, high))
    return (result[0][0], result[1][0], result[0][1], result[1][1]), tuple(lowered)


def _addresses(circuit, device, seen, report, clashes):
    v4, v6 = [], []
    for raw in list(device.ipv4) + list(device.ipv6):
        try:
            version, text = normalize(raw)
        except ValueError:
            report.add("invalid IP address dropped", "%s device %r: %r" % (_label(circuit), device.name or device.id, raw))
            continue
        owner = seen.get(text)
        if owner is not None and owner != circuit.id:
            clashes.append("%s in circuits %s and %s" % (text, owner, _label(circuit)))
            report.add("IP address in two circuits, kept in the first", "%s in %s and %s"
                       % (text, owner, _label(circuit)))
            continue
        if owner is None:
            seen[text] = circuit.id
            (v4 if version == 4 else v6).append(text)
    return v4, v6


def shape_circuits(snapshot, tree, settings, report):
    """Return the DeviceRows for every circuit that can be shaped."""
    excluded = set(name.lower() for name in settings.exclude_sites)
    by_name = snapshot.node_by_name()
    exceptions = settings.exception_cpes
    rows = []
    seen_ips = {}
    clashes = []
    seen_circuits = set()
    parents = {}  # CRM parent id -> (name, id, left out), resolved once per parent
    rate_memo = {}  # plans repeat: the rates of a plan are worked out once
    for circuit in snapshot.circuits:
        if circuit.id is None or not str(circuit.id).strip():
            report.add("circuit without an id, not shaped", _label(circuit))
            continue
        if circuit.id in seen_circuits:
            report.add("duplicate circuit id, later one dropped", _label(circuit))
            continue
        seen_circuits.add(circuit.id)
        parent_node = snapshot.nodes.get(circuit.parent_id)
        if parent_node is not None and parent_node.name.lower() in excluded:
            report.add("circuit dropped, its site is excluded", _label(circuit))
            continue
        parent_id = circuit.parent_id
        if exceptions:
            parent_id = _exception_parent(circuit, parent_id, exceptions, by_name, report)
        parent = parents.get(parent_id)
        if parent is None:
            node = tree.resolve(parent_id)
            parent = parents[parent_id] = (node.name if node else "", str(node.node.id) if node else "",
                                           tree.left_out(parent_id))
        if parent[2]:
            report.add("circuit dropped, its node is outside keep_top_level", _label(circuit))
            continue
        if circuit.suspended:
            if settings.suspended_strategy == "ignore":
                report.add("suspended circuit not shaped (suspended_strategy=ignore)", _label(circuit))
                continue
            if settings.suspended_strategy == "none":
                report.add("suspended circuit shaped at full speed (suspended_strategy=none)", _label(circuit))
        key = (circuit.suspended, circuit.plan_download, circuit.plan_upload, circuit.burst_download,
               circuit.burst_upload, circuit.min_download, circuit.min_upload)
        rates, lowered = rate_memo.get(key) or rate_memo.setdefault(key, _rates(circuit, settings))
        for text in lowered:
            report.add("min above max, min lowered to max", "%s %s" % (_label(circuit), text))
        if rates is None:
            report.add("circuit has no plan speed, not shaped", _label(circuit))
            continue
        circuit_rows = _device_rows(circuit, parent, rates, seen_ips, report, clashes)
        if not circuit_rows:
            report.add("circuit has no usable IP address, not shaped", _label(circuit))
            continue
        rows.extend(circuit_rows)
    if clashes and settings.fail_on_duplicate_ip:
        raise TopologyError("IP addresses appear in more than one circuit (fail_on_duplicate_ip): %s%s"
                            % ("; ".join(clashes[:10]), " and %d more" % (len(clashes) - 10) if len(clashes) > 10 else ""))
    return rows


def _exception_parent(circuit, parent_id, exceptions, by_name, report):
    """exception_cpes: a circuit or device named there hangs under the named node."""
    for name in [circuit.name] + [d.name for d in circuit.devices]:
        if name in exceptions:
            node_id = by_name.get(exceptions[name])
            if node_id is None:
                report.add("exception_cpes parent is not a node", "%s -> %s" % (name, exceptions[name]))
            return node_id
    return parent_id


def _device_rows(circuit, parent, rates, seen_ips, report, clashes):
    """One row per device with at least one usable address; text canonical (stripped)."""
    circuit_id = str(circuit.id).strip()
    circuit_name = (circuit.name or "").strip() or circuit_id
    comment, sqm = (circuit.comment or "").strip(), (circuit.sqm or "").strip()
    result = []
    for device in circuit.devices:
        v4, v6 = _addresses(circuit, device, seen_ips, report, clashes)
        if not v4 and not v6:
            continue
        device_id = str(device.id).strip()
        result.append(DeviceRow(
            circuit_id, circuit_name, device_id, (device.name or "").strip() or device_id, parent[0], parent[1], "",
            (device.mac or "").strip(), ", ".join(v4), ", ".join(v6), rates[0], rates[1], rates[2], rates[3],
            comment, sqm))
    return result
