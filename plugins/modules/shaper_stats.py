#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: shaper_stats
short_description: Read per-circuit and per-node traffic counters and rates of the shaper
version_added: 0.1.0
description:
  - Reads the HTB classes of the shaper's two interfaces (the equivalent of C(tc -s class show)) through netlink,
    twice, O(sample_seconds) apart, and returns bytes, packets, drops and the current rate of every circuit and node,
    per direction. Download is the egress of O(to_network), upload the egress of O(to_internet).
  - When the eBPF classifier is loaded on an interface (its maps pinned under C(/sys/fs/bpf/isp_ops/)), the bytes and
    packets it classified per circuit are added, and its misses (addresses in no circuit) are reported with the
    default class.
  - Class ids are turned into circuit ids and node names with the shaper's state file (O(state_file)). Without it,
    leaf classes are reported as circuits and inner classes as nodes, both by class id.
  - Changes nothing.
author:
  - isp.ops contributors (@isp-ops)
requirements:
  - pyroute2
  - libbpf (Debian package C(libbpf1)) to read the classifier's counters; without it they are left out
extends_documentation_fragment:
  - isp.ops.attributes
  - isp.ops.attributes.info_module
options:
  to_internet:
    description: Interface towards the Internet; its egress classes are the upload direction.
    type: str
  to_network:
    description: Interface towards the access network; its egress classes are the download direction.
    type: str
  netns:
    description:
      - Network namespace (as in C(ip netns list)) holding the interfaces.
      - The module must still run in the host's mount namespace to see the classifier's pinned maps.
    type: str
  state_file:
    description:
      - JSON file written by the shaper that maps class ids to what they shape.
      - 'Format: C({"classes": {"1:a": {"kind": "circuit", "key": "circuit:118"}, "1:3": {"kind": "node",
        "key": "node:Tower North"}, "1:2": {"kind": "default", "key": "default"}, "1:1": {"kind": "root",
        "key": "root"}}}). Class ids are in C(tc) notation (hexadecimal C(major:minor)); C(kind) is one of
        V(circuit), V(node), V(default), V(root); the circuit id or node name is C(key) without its C(circuit:)
        or C(node:) prefix.'
      - Optional C(download) and C(upload) objects, each with its own C(classes), override C(classes) for one
        direction when the two interfaces use different class ids.
      - When the file does not exist, classes are reported by class id.
    type: path
  sample_seconds:
    description:
      - Time between the two samples the rates are computed from, in seconds.
      - V(0) takes one sample and returns no rates.
    type: float
    default: 1
notes:
  - The rate is the average over O(sample_seconds) of the bytes HTB sent (on the wire, Ethernet header included,
    no preamble or inter-frame gap), so it matches the class's C(rate) and C(ceil).
  - C(drops) of a class with a leaf qdisc is the larger of HTB's count and the leaf's (an AQM leaf such as cake or
    fq_codel drops at dequeue, which HTB does not count).
  - The kernel reports packet counts as 32-bit values; the packet rate allows for one wrap between the samples.
seealso:
  - module: isp.ops.shaper_bridge
"""

EXAMPLES = r"""
- name: Read the shaper's counters over two seconds
  isp.ops.shaper_stats:
    to_internet: eth1
    to_network: eth2
    state_file: /var/lib/isp_ops/shaper_state.json
    sample_seconds: 2
  register: shaper

- name: Show the ten busiest circuits downstream
  ansible.builtin.debug:
    msg: "{{ (shaper.circuits | selectattr('download') | sort(attribute='download.rate_bps', reverse=true))[:10]
             | map(attribute='id') | list }}"
"""

RETURN = r"""
circuits:
  description:
    - One entry per circuit, sorted by id (numerically when ids are numbers).
    - Each direction is null when the circuit has no class on that interface. C(classified_*) are the
      classifier's counters (null without it); the rest come from the HTB classes.
  returned: success
  type: list
  elements: dict
  sample:
    - id: "118"
      classids: {download: ["1:a"], upload: ["1:a"]}
      download: {bytes: 1250000, packets: 900, drops: 3, overlimits: 41, backlog_bytes: 0, rate_bps: 19800000,
                 rate_pps: 1650.0, classified_bytes: 1260000, classified_packets: 903, classified_rate_bps: 19900000}
      upload: {bytes: 52000, packets: 800, drops: 0, overlimits: 0, backlog_bytes: 0, rate_bps: 412000,
               rate_pps: 800.0, classified_bytes: 52000, classified_packets: 800, classified_rate_bps: 412000}
nodes:
  description: One entry per node, sorted by name, with the same per-direction fields as RV(circuits) (no C(classified_*)).
  returned: success
  type: list
  elements: dict
  sample:
    - name: Tower North
      classids: {download: ["1:3"], upload: ["1:3"]}
      download: {bytes: 99000000, packets: 70000, drops: 0, overlimits: 12, backlog_bytes: 0, rate_bps: 81000000, rate_pps: 7000.0}
      upload: {bytes: 4000000, packets: 60000, drops: 0, overlimits: 0, backlog_bytes: 0, rate_bps: 3100000, rate_pps: 6000.0}
default_class:
  description:
    - Per direction, the totals of the default classes (traffic matched to no circuit), summed over queues.
    - C(classifier_misses) counts the packets the classifier found in no prefix (null without a classifier).
  returned: success
  type: dict
  sample:
    download: {classids: ["1:2"], bytes: 5400, packets: 60, drops: 0, overlimits: 0, backlog_bytes: 0, rate_bps: 4320,
               rate_pps: 6.0, classifier_misses: {bytes: 5400, packets: 60}}
    upload: null
totals:
  description: Per direction, the sum over the HTB root classes (everything the shaper sent).
  returned: success
  type: dict
  sample:
    download: {bytes: 120000000, packets: 90000, drops: 3, overlimits: 53, backlog_bytes: 0, rate_bps: 95000000, rate_pps: 8000.0}
    upload: {bytes: 5000000, packets: 70000, drops: 0, overlimits: 0, backlog_bytes: 0, rate_bps: 3500000, rate_pps: 7000.0}
unmapped_classes:
  description: HTB classes the state file does not name (only with a state file), by direction and class id.
  returned: success
  type: list
  elements: dict
  sample: [{direction: download, classid: "1:ff", level: 0, bytes: 0, packets: 0, drops: 0, overlimits: 0,
            backlog_bytes: 0, rate_bps: 0, rate_pps: 0.0}]
missing_classes:
  description: Class ids the state file names that the interface does not have, per direction.
  returned: success
  type: dict
  sample: {download: ["1:1f"], upload: []}
sources:
  description: Per direction, the interface read, the seconds between its two samples and what was read from the classifier.
  returned: success
  type: dict
  sample:
    download: {interface: eth2, seconds: 1.002, classes: 1203, classifier: "read"}
    upload: {interface: eth1, seconds: 1.001, classes: 1203, classifier: "not loaded"}
state_file_used:
  description: Whether the class ids were mapped through O(state_file).
  returned: success
  type: bool
"""

import json
import os
import struct
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.isp.ops.plugins.module_utils.shaping import bridge
from ansible_collections.isp.ops.plugins.module_utils.shaping import classifier as clsmod
from ansible_collections.isp.ops.plugins.module_utils.shaping.bpfmap import HAS_LIBBPF, LIBBPF_IMPORT_ERROR, BpfMap

TC_H_ROOT = 0xFFFFFFFF
KINDS = ("circuit", "node", "default", "root")
DIRECTIONS = (("download", "to_network", clsmod.DOWNLOAD), ("upload", "to_internet", clsmod.UPLOAD))
COUNTERS = ("bytes", "packets", "drops", "overlimits", "backlog_bytes")
SUMMED = COUNTERS + ("rate_bps", "rate_pps", "classified_bytes", "classified_packets", "classified_rate_bps")
# What bpf/classifier.c pins (map type, key size, value size), checked before the maps are opened:
# Classifier drops a pin of another layout, and this module must never change anything.
PIN_LAYOUT = {"v4": (11, 8, 8), "v6": (11, 20, 8), "stats": (6, 4, 16), "default": (2, 4, 4)}


class StatsError(Exception):
    pass


# -- pure helpers (unit-tested) ----------------------------------------------------------------
def natural_key(value):
    text = str(value)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def parse_state(data):
    """State file contents -> {"download": {classid: (kind, name)}, "upload": {...}}."""
    if not isinstance(data, dict) or not isinstance(data.get("classes", {}), dict):
        raise StatsError('the state file must be a JSON object with "classes": {"<major:minor>": {"kind", "key"}}')
    common = _parse_classes(data.get("classes", {}), "classes")
    out = {}
    for direction, _option, _cdir in DIRECTIONS:
        section = data.get(direction)
        if section is None:
            out[direction] = common
            continue
        if not isinstance(section, dict) or not isinstance(section.get("classes"), dict):
            raise StatsError('"%s" in the state file must be an object with "classes"' % direction)
        out[direction] = _parse_classes(section["classes"], "%s.classes" % direction)
    return out


def _parse_classes(classes, where):
    out = {}
    for text, entry in classes.items():
        try:
            cid = clsmod.parse_classid(text)
        except ValueError as err:
            raise StatsError("state file %s: %r is not a class id in tc notation (hex major:minor): %s" % (where, text, err))
        if not isinstance(entry, dict) or entry.get("kind") not in KINDS:
            raise StatsError("state file %s[%s]: kind must be one of %s" % (where, text, ", ".join(KINDS)))
        kind, key = entry["kind"], str(entry.get("key", ""))
        prefix = kind + ":"
        name = key[len(prefix):] if key.startswith(prefix) else key
        if kind in ("circuit", "node") and not name:
            raise StatsError("state file %s[%s]: a %s needs a key" % (where, text, kind))
        out[cid] = (kind, name)
    return out


def role_of(record, mapping, defaults):
    """(kind, name) of one HTB class: from the state file, else from its place in the tree."""
    cid = record["classid"]
    if mapping is not None and cid in mapping:
        return mapping[cid]
    if cid in defaults:
        return ("default", None)
    if record["parent"] == TC_H_ROOT:
        return ("root", None)
    if mapping is not None:
        return ("unmapped", None)
    return ("circuit" if record["level"] == 0 else "node", clsmod.format_classid(cid))


def delta_stats(first, second, seconds):
    """Counters of `second` plus rates against `first` (None: one sample, or the counters were reset)."""
    out = dict((k, second[k]) for k in COUNTERS)
    out["rate_bps"] = out["rate_pps"] = None
    if first is not None and seconds > 0 and second["bytes"] >= first["bytes"]:
        out["rate_bps"] = int(round((second["bytes"] - first["bytes"]) * 8 / seconds))
        out["rate_pps"] = round(((second["packets"] - first["packets"]) % (1 << 32)) / seconds, 1)
    return out


def add_stats(total, stats):
    """Sum the counters and rates of `stats` into `total` (None: nothing yet); unknown (None) stays unknown."""
    if total is None:
        return dict(stats)
    out = dict(total)
    for key in SUMMED:
        if key not in stats and key not in out:
            continue
        if stats.get(key) is None or out.get(key) is None:
            out[key] = None
        else:
            out[key] = out[key] + stats[key]
            if key == "rate_pps":
                out[key] = round(out[key], 1)
    return out


def counter_rate(first, second, seconds):
    if first is None or seconds <= 0 or second[0] < first[0]:
        return None
    return int(round((second[0] - first[0]) * 8 / seconds))


# -- netlink -----------------------------------------------------------------------------------
def _stats_of(msg):
    stats2 = msg.get_attr("TCA_STATS2")
    basic = stats2.get_attr("TCA_STATS_BASIC") if stats2 else None
    queue = stats2.get_attr("TCA_STATS_QUEUE") if stats2 else None
    if basic is None or queue is None:  # old kernels: struct tc_stats only
        legacy = msg.get_attr("TCA_STATS") or {}
        return {"bytes": legacy.get("bytes", 0), "packets": legacy.get("packets", 0), "drops": legacy.get("drop", 0),
                "overlimits": legacy.get("overlimits", 0), "backlog_bytes": legacy.get("backlog", 0)}
    return {"bytes": basic["bytes"], "packets": basic["packets"], "drops": queue["drops"],
            "overlimits": queue["overlimits"], "backlog_bytes": queue["backlog"]}


def tc_snapshot(ipr, ifname):
    """HTB classes of one interface: {"time", "classes": {classid: record}, "defaults": {classid}}."""
    found = ipr.link_lookup(ifname=ifname)
    if not found:
        raise StatsError("interface %s does not exist" % ifname)
    start = time.monotonic()
    qdiscs = list(ipr.get_qdiscs(found[0]))
    classes = list(ipr.get_classes(found[0]))
    when = (start + time.monotonic()) / 2
    leaves = dict((q["parent"], q) for q in qdiscs)
    defaults = set()
    for qdisc in qdiscs:
        options = qdisc.get_attr("TCA_OPTIONS") if qdisc.get_attr("TCA_KIND") == "htb" else None
        init = options.get_attr("TCA_HTB_INIT") if options else None
        if init and init.get("defcls"):
            defaults.add((qdisc["handle"] & 0xFFFF0000) | init["defcls"])
    records = {}
    for msg in classes:
        if msg.get_attr("TCA_KIND") != "htb":
            continue
        options = msg.get_attr("TCA_OPTIONS")
        parms = options.get_attr("TCA_HTB_PARMS") if options else None
        record = _stats_of(msg)
        leaf = leaves.get(msg["handle"])
        if leaf is not None:
            record["drops"] = max(record["drops"], _stats_of(leaf)["drops"])
        record.update(classid=msg["handle"], parent=msg["parent"], level=parms["level"] if parms else 0,
                      leaf=leaf.get_attr("TCA_KIND") if leaf is not None else None)
        records[msg["handle"]] = record
    return {"time": when, "classes": records, "defaults": defaults & set(records)}


# -- classifier --------------------------------------------------------------------------------
class ClassifierReader(object):
    """Read-only view of the classifier's pinned counters of one interface (None fields: not loaded)."""

    def __init__(self, ifname, direction, netns):
        self.status = "not loaded"
        self.index_classid = {}
        self.default_classid = 0
        self.cls = None
        pin_dir = clsmod.Classifier(ifname, direction, netns=netns).pin_dir
        if not all(os.path.exists(os.path.join(pin_dir, name)) for name in PIN_LAYOUT):
            return
        if not HAS_LIBBPF:
            self.status = "unavailable: libbpf is missing (%s)" % LIBBPF_IMPORT_ERROR
            return
        try:
            sizes = {}
            for name, layout in PIN_LAYOUT.items():
                with BpfMap.open(os.path.join(pin_dir, name)) as pinned:
                    if (pinned.type, pinned.key_size, pinned.value_size) != layout:
                        self.status = "unavailable: %s/%s has another layout than this collection's classifier" % (pin_dir, name)
                        return
                    sizes[name] = pinned.max_entries
                    if name == "default":
                        raw = pinned.lookup(struct.pack("=I", 0))
                        self.default_classid = struct.unpack("=I", raw[:4])[0] if raw else 0
            if sizes["v4"] != sizes["v6"] or sizes["default"] != 1:
                self.status = "unavailable: the maps under %s have unexpected sizes" % pin_dir
                return
            self.cls = clsmod.Classifier(ifname, direction, netns=netns, max_prefixes=sizes["v4"],
                                         max_circuits=sizes["stats"])
            for cid, index in self.cls.entries().values():
                self.index_classid[index] = cid
            self.status = "read"
        except (OSError, ValueError, clsmod.ClassifierError) as err:
            self.close()
            self.status = "unavailable: %s" % err

    def sample(self):
        if self.cls is None:
            return None
        return dict((k, tuple(v)) for k, v in self.cls.counters(sorted(set(self.index_classid) | {0})).items())

    def close(self):
        if self.cls is not None:
            self.cls.close()
        self.cls = None


# -- report ------------------------------------------------------------------------------------
def build_report(directions, mapping):
    """directions: {direction: {"first", "second", "seconds", "classifier": (first, second, reader) or None}}.

    Returns the module's circuits, nodes, default_class, totals, unmapped_classes, missing_classes.
    """
    groups = {"circuit": {}, "node": {}}
    default_class, totals, unmapped, missing = {}, {}, [], {}
    for direction, data in sorted(directions.items()):
        if data is None:
            default_class[direction] = totals[direction] = None
            continue
        second, first, seconds = data["second"], data["first"], data["seconds"]
        dmap = mapping[direction] if mapping is not None else None
        reader_data = data.get("classifier")
        per_classid = {}
        defaults = set(second["defaults"])
        if reader_data is not None and reader_data[2].default_classid:
            defaults.add(reader_data[2].default_classid)
        if reader_data is not None:
            c_first, c_second, reader = reader_data
            for index, cid in reader.index_classid.items():
                if index in c_second:
                    per_classid.setdefault(cid, []).append(index)
        default_total, root_total = None, None
        for cid in sorted(second["classes"]):
            record = second["classes"][cid]
            before = first["classes"].get(cid) if first else None
            stats = delta_stats(before, record, seconds)
            kind, name = role_of(record, dmap, defaults)
            if kind in groups:
                if kind == "circuit":
                    stats.update(_classified(per_classid.get(cid, []), reader_data, seconds))
                entry = groups[kind].setdefault(name, {"classids": {}, "stats": {}})
                entry["classids"].setdefault(direction, []).append(clsmod.format_classid(cid))
                entry["stats"][direction] = add_stats(entry["stats"].get(direction), stats)
            elif kind == "default":
                default_total = add_stats(default_total, stats)
                default_total.setdefault("classids", []).append(clsmod.format_classid(cid))
            elif kind == "root":
                root_total = add_stats(root_total, stats)
            else:
                unmapped.append(dict(stats, direction=direction, classid=clsmod.format_classid(cid), level=record["level"]))
        if default_total is not None:
            default_total["classids"] = sorted(default_total["classids"])
            misses = None
            if reader_data is not None and 0 in reader_data[1]:
                misses = {"bytes": reader_data[1][0][0], "packets": reader_data[1][0][1]}
            default_total["classifier_misses"] = misses
        default_class[direction] = default_total
        totals[direction] = root_total
        if dmap is not None:
            missing[direction] = sorted((clsmod.format_classid(c) for c in dmap if c not in second["classes"]),
                                        key=lambda text: [int(part, 16) for part in text.split(":")])
    directions_all = [d for d, _o, _c in DIRECTIONS]
    circuits = [dict({"id": key, "classids": entry["classids"]},
                     **dict((d, entry["stats"].get(d)) for d in directions_all))
                for key, entry in sorted(groups["circuit"].items(), key=lambda item: natural_key(item[0]))]
    nodes = [dict({"name": key, "classids": entry["classids"]},
                  **dict((d, entry["stats"].get(d)) for d in directions_all))
             for key, entry in sorted(groups["node"].items(), key=lambda item: natural_key(item[0]))]
    return {"circuits": circuits, "nodes": nodes, "default_class": default_class, "totals": totals,
            "unmapped_classes": unmapped, "missing_classes": missing}


def _classified(indexes, reader_data, seconds):
    if reader_data is None:
        return {"classified_bytes": None, "classified_packets": None, "classified_rate_bps": None}
    c_first, c_second = reader_data[0], reader_data[1]
    total = [0, 0]
    rate = 0 if c_first is not None else None
    for index in indexes:
        total[0] += c_second[index][0]
        total[1] += c_second[index][1]
        if rate is not None:
            part = counter_rate(c_first.get(index), c_second[index], seconds)
            rate = None if part is None else rate + part
    return {"classified_bytes": total[0], "classified_packets": total[1], "classified_rate_bps": rate}


def load_state_file(path):
    if not path or not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as err:
        raise StatsError("cannot read the state file %s: %s" % (path, err))
    return parse_state(data)


def collect(params):
    """Sample the classes (and classifier counters) of the configured interfaces twice.

    Returns ({direction: data for build_report() or None}, {direction: source info or None}).
    """
    netns, pause = params["netns"], params["sample_seconds"]
    wanted = [(d, option, params[option], cdir) for d, option, cdir in DIRECTIONS if params[option]]
    readers, firsts, c_firsts, directions, sources = {}, {}, {}, {}, {}
    try:
        with bridge.open_ipr(netns) as ipr:
            for direction, option, ifname, cdir in wanted:
                try:
                    firsts[direction] = tc_snapshot(ipr, ifname)
                except StatsError as err:
                    raise StatsError("%s: %s%s" % (option, err, bridge.where(netns)))
                readers[direction] = ClassifierReader(ifname, cdir, netns)
                c_firsts[direction] = readers[direction].sample()
            if pause > 0:
                time.sleep(pause)
            for direction, option, ifname, cdir in wanted:
                if pause > 0:
                    second = tc_snapshot(ipr, ifname)
                    data = {"first": firsts[direction], "second": second,
                            "seconds": second["time"] - firsts[direction]["time"]}
                    c_pair = (c_firsts[direction], readers[direction].sample())
                else:  # one sample: counters only, no rates
                    data = {"first": None, "second": firsts[direction], "seconds": 0}
                    c_pair = (None, c_firsts[direction])
                reader = readers[direction]
                if reader.cls is not None:
                    data["classifier"] = c_pair + (reader,)
                directions[direction] = data
                sources[direction] = {"interface": ifname, "seconds": round(data["seconds"], 3),
                                      "classes": len(data["second"]["classes"]), "classifier": reader.status}
    finally:
        for reader in readers.values():
            reader.close()
    for direction, _option, _cdir in DIRECTIONS:
        directions.setdefault(direction, None)
        sources.setdefault(direction, None)
    return directions, sources


def main():
    module = AnsibleModule(
        argument_spec=dict(
            to_internet=dict(type="str"),
            to_network=dict(type="str"),
            netns=dict(type="str"),
            state_file=dict(type="path"),
            sample_seconds=dict(type="float", default=1),
        ),
        required_one_of=[("to_internet", "to_network")],
        supports_check_mode=True,
    )
    if not bridge.HAS_PYROUTE2:
        module.fail_json(msg=missing_required_lib("pyroute2"), exception=str(bridge.PYROUTE2_IMPORT_ERROR))
    if not 0 <= module.params["sample_seconds"] <= 60:
        module.fail_json(msg="sample_seconds must be between 0 and 60, not %s" % module.params["sample_seconds"])
    try:
        mapping = load_state_file(module.params["state_file"])
        directions, sources = collect(module.params)
        report = build_report(directions, mapping)
    except (StatsError, bridge.BridgeError) as err:
        module.fail_json(msg=str(err))
    except Exception as err:  # netlink or OS errors not foreseen above
        module.fail_json(msg="reading the shaper's counters failed: %s" % err, exception=traceback.format_exc())
    for direction, source in sorted(sources.items()):
        if source is not None and source["classes"] == 0:
            module.warn("%s has no HTB classes (%s)" % (source["interface"], direction))
        if source is not None and source["classifier"].startswith("unavailable"):
            module.warn("classifier counters of %s: %s" % (source["interface"], source["classifier"]))
    module.exit_json(changed=False, sources=sources, state_file_used=mapping is not None, **report)


if __name__ == "__main__":
    main()
