#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: shaper_queues
short_description: Apply ShapedDevices.csv and network.json as an HTB tree and an eBPF classifier
version_added: 0.1.0
description:
  - Validates C(ShapedDevices.csv) and C(network.json) (the files M(isp.ops.crm_topology) writes, or hand-written
    ones in the same format), compiles them into one HTB tree per direction and keeps the kernel in step with it.
  - Download is shaped on egress of O(to_network), upload on egress of O(to_internet). Sites and APs are nested
    classes; each circuit is a class with rate = its min and ceil = its max, capped by its parent, and a leaf
    qdisc (O(sqm); cake, else fq_codel, else pfifo, as the kernel offers).
  - An eBPF classifier on both interfaces maps each circuit's IPv4 and IPv6 prefixes to its class; unknown
    addresses go to the default class.
  - Only what differs is changed, so traffic of unchanged circuits is never interrupted. Class ids stay the same
    across runs (kept in O(state_dir)). A failed apply is undone and reported.
  - Invalid files (bad address, the same address or overlapping prefixes in two circuits, unknown parent node,
    min above max, duplicate node names, too many classes) fail the task before anything is touched, with the
    file, row and field of every problem.
author:
  - isp.ops contributors (@isp-ops)
requirements:
  - pyroute2
  - bcc (Debian C(python3-bpfcc)) and the kernel headers, to compile the classifier
extends_documentation_fragment:
  - isp.ops.attributes
attributes:
  check_mode:
    support: full
    details:
      - The files are validated and the plan is compared with the kernel; the planned adds, changes and deletes
        are reported and nothing is changed.
  diff_mode:
    support: full
    details:
      - Before and after list the classes that change, per circuit and per node, with their rates.
options:
  network_json:
    description: Path of C(network.json).
    type: path
    required: true
  shaped_devices:
    description: Path of C(ShapedDevices.csv).
    type: path
    required: true
  to_internet:
    description: Interface towards the Internet; upload is shaped on its egress.
    type: str
    required: true
  to_network:
    description: Interface towards the subscribers; download is shaped on its egress.
    type: str
    required: true
  downlink_mbps:
    description: Download capacity of the link in Mbps; the download root class is capped at it.
    type: float
    required: true
  uplink_mbps:
    description: Upload capacity of the link in Mbps; the upload root class is capped at it.
    type: float
    required: true
  sqm:
    description:
      - Leaf qdisc of every circuit unless its C(sqm) column says otherwise, for example V(cake diffserv4) or
        V(fq_codel). When the kernel lacks it, fq_codel and then pfifo are used, with a warning.
    type: str
    default: cake diffserv4
  queues:
    description:
      - Number of HTB qdiscs under an mq root, one per transmit queue, with top-level nodes spread over them.
      - V(0) uses min(transmit queues of both interfaces, CPUs). V(1) is a single HTB root.
    type: int
    default: 0
  netns:
    description: Network namespace holding both interfaces. Default is the host's.
    type: str
  state_dir:
    description: Directory where class ids, circuit indexes and the class map (for M(isp.ops.shaper_stats)) are kept.
    type: path
    default: /var/lib/isp-ops/shaper
  bpf_source:
    description: Path of the classifier's C source on the host. Default is C(bpf/classifier.c) of the collection.
    type: path
  lock_timeout:
    description: Seconds to wait for another run to finish before failing.
    type: float
    default: 60
seealso:
  - module: isp.ops.crm_topology
  - module: isp.ops.shaper_bridge
  - module: isp.ops.shaper_stats
"""

EXAMPLES = r"""
- name: Shape the subscribers in /opt/libreqos/src
  isp.ops.shaper_queues:
    network_json: /opt/libreqos/src/network.json
    shaped_devices: /opt/libreqos/src/ShapedDevices.csv
    to_internet: eth1
    to_network: eth2
    downlink_mbps: 2000
    uplink_mbps: 1000
    sqm: cake diffserv4
"""

RETURN = r"""
summary:
  description: Per direction, the count of each kernel action, whether the tree was rebuilt, and the prefix map updates.
  returned: success
  type: dict
  sample:
    download: {add_class: 2, add_leaf: 2, change_class: 1, rebuild: false, prefixes: {added: 3, changed: 0, removed: 0}}
    upload: {add_class: 2, add_leaf: 2, change_class: 1, rebuild: false, prefixes: {added: 3, changed: 0, removed: 0}}
circuits:
  description: Ids of the circuits added, changed and removed in the kernel.
  returned: success
  type: dict
  sample: {added: ["118"], changed: ["7"], removed: []}
nodes:
  description: Names of the nodes added, changed and removed in the kernel.
  returned: success
  type: dict
  sample: {added: [], changed: ["Tower North"], removed: []}
stats:
  description: Size of the plan.
  returned: success
  type: dict
  sample: {circuits: 1200, nodes: 48, classes_per_direction: 1252, prefixes: 1410, queues: 1}
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.isp.ops.plugins.module_utils.shaping import shaper, tc_netlink, validate


def main():
    module = AnsibleModule(
        argument_spec=dict(
            network_json=dict(type="path", required=True),
            shaped_devices=dict(type="path", required=True),
            to_internet=dict(type="str", required=True),
            to_network=dict(type="str", required=True),
            downlink_mbps=dict(type="float", required=True),
            uplink_mbps=dict(type="float", required=True),
            sqm=dict(type="str", default="cake diffserv4"),
            queues=dict(type="int", default=0),
            netns=dict(type="str"),
            state_dir=dict(type="path", default="/var/lib/isp-ops/shaper"),
            bpf_source=dict(type="path"),
            lock_timeout=dict(type="float", default=60),
        ),
        supports_check_mode=True,
    )
    if not tc_netlink.HAS_PYROUTE2:
        module.fail_json(msg=missing_required_lib("pyroute2"), exception=str(tc_netlink.PYROUTE2_IMPORT_ERROR))
    params = module.params
    config = shaper.ShaperConfig(**dict((k, params[k]) for k in (
        "network_json", "shaped_devices", "to_internet", "to_network", "downlink_mbps", "uplink_mbps", "sqm",
        "queues", "netns", "state_dir", "bpf_source", "lock_timeout")))
    try:
        result = shaper.run(config, check=module.check_mode)
    except validate.ShapingInputError as exc:
        module.fail_json(msg="invalid shaper input, nothing applied: %s" % exc, problems=list(exc.problems))
    except (shaper.ShaperError, tc_netlink.TcError, OSError) as exc:
        module.fail_json(msg=str(exc))

    for warning in result.warnings:
        module.warn(warning)
    items = result.per_item()
    plan = result.plan
    output = dict(
        changed=result.changed, summary=result.summary(), circuits=items["circuits"], nodes=items["nodes"],
        stats=dict(circuits=len(plan.circuit_index),
                   nodes=sum(1 for c in plan.download.classes.values() if c.kind == "node"),
                   classes_per_direction=len(plan.download.classes), prefixes=len(plan.prefixes),
                   queues=plan.download.queues))
    if module._diff:
        output["diff"] = result.diff()
    module.exit_json(**output)


if __name__ == "__main__":
    main()
