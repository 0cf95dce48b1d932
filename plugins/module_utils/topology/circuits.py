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


def _rates(circuit, settings, report):
    """(down min, up min, down max, up max) in Mbps, or None when the plan has no speed."""
    if circuit.suspended and settings.suspended_strategy == "slow":
        return SLOW_MBPS, SLOW_MBPS, SLOW_MBPS, SLOW_MBPS
    if not circuit.plan_download or not circuit.plan_upload:
        return None
    result = []
    for plan, burst, explicit_min in ((circuit.plan_download, circuit.burst_download, circuit.min_download),
                                      (circuit.plan_upload, circuit.burst_upload, circuit.min_upload)):
        high = round((plan + (burst or 0)) * settings.bandwidth_overhead_factor, 2)
        low = round(plan * settings.commit_bandwidth_multiplier, 2) if explicit_min is None else explicit_min
        high = max(high, MIN_RATE_MBPS)
        low = max(low, MIN_RATE_MBPS)
        if low > high:
            report.add("min above max, min lowered to max", "%s %s > %s" % (_label(circuit), low, high))
            low = high
        result.append((low, high))
    return result[0][0], result[1][0], result[0][1], result[1][1]


def _addresses(circuit, device, seen, settings, report, clashes):
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
    for circuit in snapshot.circuits:
        label = _label(circuit)
        if circuit.id is None or not str(circuit.id).strip():
            report.add("circuit without an id, not shaped", label)
            continue
        if circuit.id in seen_circuits:
            report.add("duplicate circuit id, later one dropped", label)
            continue
        seen_circuits.add(circuit.id)
        parent_node = snapshot.nodes.get(circuit.parent_id)
        if parent_node is not None and parent_node.name.lower() in excluded:
            report.add("circuit dropped, its site is excluded", label)
            continue
        parent_id = circuit.parent_id
        if exceptions:
            for name in [circuit.name] + [d.name for d in circuit.devices]:
                if name in exceptions:
                    parent_id = by_name.get(exceptions[name])
                    if parent_id is None:
                        report.add("exception_cpes parent is not a node", "%s -> %s" % (name, exceptions[name]))
                    break
        if tree.left_out(parent_id):
            report.add("circuit dropped, its node is outside keep_top_level", label)
            continue
        if circuit.suspended:
            if settings.suspended_strategy == "ignore":
                report.add("suspended circuit not shaped (suspended_strategy=ignore)", label)
                continue
            if settings.suspended_strategy == "none":
                report.add("suspended circuit shaped at full speed (suspended_strategy=none)", label)
        rates = _rates(circuit, settings, report)
        if rates is None:
            report.add("circuit has no plan speed, not shaped", label)
            continue
        parent = tree.resolve(parent_id)
        parent_name = parent.name if parent is not None else ""
        parent_ref = str(parent.node.id) if parent is not None else ""
        circuit_rows = []
        for device in circuit.devices:
            v4, v6 = _addresses(circuit, device, seen_ips, settings, report, clashes)
            if not v4 and not v6:
                continue
            circuit_rows.append(DeviceRow(
                str(circuit.id), circuit.name or str(circuit.id), str(device.id), device.name or str(device.id),
                parent_name, parent_ref, "", device.mac or "", ", ".join(v4), ", ".join(v6),
                rates[0], rates[1], rates[2], rates[3], circuit.comment or "", circuit.sqm or ""))
        if not circuit_rows:
            report.add("circuit has no usable IP address, not shaped", label)
            continue
        rows.extend(circuit_rows)
    if clashes and settings.fail_on_duplicate_ip:
        raise TopologyError("IP addresses appear in more than one circuit (fail_on_duplicate_ip): %s%s"
                            % ("; ".join(clashes[:10]), " and %d more" % (len(clashes) - 10) if len(clashes) > 10 else ""))
    return rows
