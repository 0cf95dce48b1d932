#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: shaper_bridge
short_description: Ensure the transparent shaping bridge between the Internet and the access network
version_added: 0.1.0
description:
  - Ensures one Linux bridge that joins the interface towards the Internet (O(to_internet)) and the interface
    towards the subscribers (O(to_network)), the way a LibreQoS shaper bridges traffic through its shaping tree.
  - The bridge gets STP off and a forward delay of 0, so traffic passes as soon as the ports are up.
  - Both ports and the bridge are set up and share one MTU.
  - Turns off the offloads that make the egress qdiscs see aggregated packets and shape less accurately
    (GRO, GSO, TSO and LRO) on both ports, through C(ethtool -K). Features the driver fixes (C([fixed])) or
    refuses are reported as such and are not an error.
  - With O(state=absent) the bridge is deleted; the ports stay, released from it, with their settings.
  - Works on the host or inside a network namespace (O(netns)).
author:
  - isp.ops contributors (@isp-ops)
requirements:
  - pyroute2
  - C(ethtool) on the host, unless O(offloads=keep)
  - C(ip) (iproute2) on the host when O(netns) is set and offloads are read or changed
extends_documentation_fragment:
  - isp.ops.attributes
attributes:
  check_mode:
    support: full
    details:
      - Interfaces are read through netlink and offloads with C(ethtool -k); nothing is changed.
  diff_mode:
    support: full
    details:
      - Before and after show the bridge settings (STP, forward delay, MTU, up, ports), the MTU, up state and
        master of both ports, and the state of their offloads.
options:
  name:
    description: Name of the bridge.
    type: str
    default: br-shaper
  to_internet:
    description:
      - Interface towards the Internet (the upstream router). Upload traffic leaves through it.
      - Required with O(state=present).
    type: str
  to_network:
    description:
      - Interface towards the access network (the subscribers). Download traffic leaves through it.
      - Required with O(state=present).
    type: str
  netns:
    description:
      - Network namespace (as in C(ip netns list)) that holds the interfaces. It must exist.
      - Default is the namespace of the module's process (the host).
    type: str
  mtu:
    description:
      - MTU of both ports and the bridge.
      - By default the ports keep the MTU they have; when they disagree the module fails and names both.
    type: int
  offloads:
    description:
      - V(off) turns GRO, GSO, TSO and LRO off on both ports; this needs C(ethtool).
      - V(keep) leaves them as they are (only reported when C(ethtool) is there).
    type: str
    choices: [keep, 'off']
    default: 'off'
  state:
    description: Whether the bridge should exist.
    type: str
    choices: [absent, present]
    default: present
notes:
  - Offload settings do not survive a reboot or a driver reload; run the module at boot (or from the role that
    sets the bridge up) to keep them.
  - On veth devices LRO is C([fixed]) off and GRO is off by default, so only GSO and TSO change there.
  - Other ports found on the bridge are left in place, with a warning, because their traffic bypasses the shaper.
  - O(state=absent) does not restore the offloads or MTU the ports had before.
seealso:
  - module: isp.ops.shaper_stats
"""

EXAMPLES = r"""
- name: Bridge eth1 (upstream) and eth2 (subscribers)
  isp.ops.shaper_bridge:
    to_internet: eth1
    to_network: eth2

- name: Jumbo frames on both ports and the bridge
  isp.ops.shaper_bridge:
    name: br-shaper
    to_internet: ens1f0
    to_network: ens1f1
    mtu: 9000

- name: Bridge inside a lab namespace, offloads left alone
  isp.ops.shaper_bridge:
    netns: lab-shaper
    to_internet: to_internet
    to_network: to_network
    offloads: keep

- name: Remove the bridge (the ports stay)
  isp.ops.shaper_bridge:
    name: br-shaper
    state: absent
"""

RETURN = r"""
bridge:
  description: The bridge and its ports after the run (as predicted in check mode).
  returned: success
  type: dict
  contains:
    name:
      description: Name of the bridge.
      type: str
      returned: always
    state:
      description: V(present) or V(absent).
      type: str
      returned: always
    stp_state:
      description: STP state of the bridge (V(0) is off).
      type: int
      returned: when the bridge is present
    forward_delay:
      description: Forward delay of the bridge, in seconds.
      type: float
      returned: when the bridge is present
    mtu:
      description: MTU of the bridge.
      type: int
      returned: when the bridge is present
    up:
      description: Whether the bridge is administratively up.
      type: bool
      returned: when the bridge is present
    ports:
      description: All ports of the bridge, sorted.
      type: list
      elements: str
      returned: when the bridge is present
    interfaces:
      description: MTU, up state and master of the two managed ports.
      type: dict
      returned: always
  sample:
    name: br-shaper
    state: present
    stp_state: 0
    forward_delay: 0.0
    mtu: 1500
    up: true
    ports: [eth1, eth2]
    interfaces:
      eth1: {mtu: 1500, up: true, master: br-shaper}
      eth2: {mtu: 1500, up: true, master: br-shaper}
mtu:
  description: The MTU of the ports and the bridge.
  returned: when O(state=present)
  type: int
  sample: 1500
offloads:
  description:
    - Per port, the state of GRO, GSO, TSO and LRO after the run. V(off), V(off (fixed)) (the driver keeps it off),
      V(on (fixed)) (the driver keeps it on), V(on (refused)) (turning it off was asked and refused),
      V(unsupported) (the device does not have it), or V(on) (with O(offloads=keep)).
    - Empty when C(ethtool) is not there and O(offloads=keep).
  returned: when O(state=present)
  type: dict
  sample:
    eth1: {gro: "off", gso: "off", tso: "off", lro: "off (fixed)"}
    eth2: {gro: "off", gso: "off", tso: "off", lro: "off (fixed)"}
actions:
  description: What was changed (or would be, in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: ["create bridge br-shaper (stp off, forward delay 0)", "add eth1 to bridge br-shaper", "turn off gso tso on eth1"]
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.isp.ops.plugins.module_utils.shaping import bridge

C_ENV = {"LANG": "C", "LC_ALL": "C"}


class Offloads(object):
    """Read and turn off the offloads of ports through ethtool (inside the netns if any)."""

    def __init__(self, module, netns):
        self.module = module
        self.netns = netns
        self.ethtool = module.get_bin_path("ethtool")
        self.ip = module.get_bin_path("ip", required=bool(netns) and bool(self.ethtool)) if netns else None

    def _command(self, ifname, args):
        return bridge.ethtool_command(self.ethtool, ifname, args, netns=self.netns, ip=self.ip)

    def read(self, ifname):
        """({short: status}, [short names that can be turned off])."""
        command = self._command(ifname, ["-k"])
        rc, out, err = self.module.run_command(command, environ_update=C_ENV)
        if rc != 0:
            if "not supported" in err.lower():
                return dict((short, bridge.UNSUPPORTED) for short, _long in bridge.OFFLOADS), []
            self.module.fail_json(msg="reading the offloads of %s failed: %s" % (ifname, err.strip() or out.strip()),
                                  cmd=command, rc=rc, stdout=out, stderr=err)
        return bridge.offload_plan(bridge.parse_features(out))

    def turn_off(self, ifname, shorts):
        command = self._command(ifname, ["-K"] + bridge.offload_args(shorts))
        return self.module.run_command(command, environ_update=C_ENV)


def argument_spec():
    return dict(
        name=dict(type="str", default="br-shaper"),
        to_internet=dict(type="str"),
        to_network=dict(type="str"),
        netns=dict(type="str"),
        mtu=dict(type="int"),
        offloads=dict(type="str", default="off", choices=["keep", "off"]),
        state=dict(type="str", default="present", choices=["absent", "present"]),
    )


def run_absent(module, ipr, result):
    params = module.params
    links = bridge.read_links(ipr)
    steps = bridge.plan_absent(links, params["name"], params["netns"])
    before = bridge.describe(links, params["name"], [])
    result["actions"] = [bridge.step_text(s) for s in steps]
    result["changed"] = bool(steps)
    if steps and not module.check_mode:
        bridge.apply_steps(ipr, steps)
    after = {"name": params["name"], "state": "absent", "interfaces": {}}
    result["bridge"] = after
    if module._diff:
        result["diff"] = {"before": before, "after": after}


def offload_warnings(ports, offloads):
    warnings = []
    for role in sorted(ports):
        port = ports[role]
        for short, status in sorted(offloads.get(port, {}).items()):
            if status in bridge.NOT_CHANGEABLE:
                warnings.append("%s of %s %s stays on: %s by the driver; the shaper may see aggregated packets"
                                % (short.upper(), role, port, "fixed" if status == bridge.ON_FIXED else "refused"))
    return warnings


def run_present(module, ipr, result):
    params = module.params
    name, netns = params["name"], params["netns"]
    ports = {"to_internet": params["to_internet"], "to_network": params["to_network"]}
    links = bridge.read_links(ipr)
    steps, mtu, warnings = bridge.plan_present(links, name, ports, params["mtu"], netns)

    offloads = Offloads(module, netns)
    if not offloads.ethtool and params["offloads"] == "off":
        module.fail_json(msg="ethtool is not installed: it is needed to turn off GRO, GSO, TSO and LRO on %s and %s "
                             "(install the ethtool package, or set offloads=keep)"
                             % (ports["to_internet"], ports["to_network"]))
    before_offloads, wanted_off = {}, {}
    if offloads.ethtool:
        for role in sorted(ports):
            status, changeable = offloads.read(ports[role])
            before_offloads[ports[role]] = status
            if params["offloads"] == "off" and changeable:
                wanted_off[ports[role]] = changeable
    after_offloads = dict((port, dict(status)) for port, status in before_offloads.items())
    for port, shorts in wanted_off.items():
        for short in shorts:
            after_offloads[port][short] = bridge.OFF

    actions = [bridge.step_text(s) for s in steps]
    actions += ["turn off %s on %s" % (" ".join(shorts), port) for port, shorts in sorted(wanted_off.items())]
    before = bridge.describe(links, name, ports.values())
    before["offloads"] = before_offloads
    after = bridge.describe(bridge.predict(links, steps, mtu), name, ports.values())
    after["offloads"] = after_offloads
    changed = bool(steps or wanted_off)

    if changed and not module.check_mode:
        bridge.apply_steps(ipr, steps)
        for port, shorts in sorted(wanted_off.items()):
            rc, out, err = offloads.turn_off(port, shorts)
            if rc != 0:  # often partial ("Could not change any device features"): read back below
                detail = (err or out).strip()
                warnings.append("ethtool -K %s %s: rc %d: %s" % (port, " ".join(bridge.offload_args(shorts)), rc, detail))
            after_offloads[port] = offloads.read(port)[0]
        bridge.ensure_bridge_mtu(ipr, name, mtu)
        after = bridge.describe(bridge.read_links(ipr), name, ports.values())
        after["offloads"] = after_offloads

    warnings += offload_warnings(ports, after_offloads)
    for warning in warnings:
        module.warn(warning)
    result.update(changed=changed, actions=actions, bridge=dict((k, v) for k, v in after.items() if k != "offloads"),
                  mtu=mtu, offloads=after_offloads)
    if module._diff:
        result["diff"] = {"before": before, "after": after}


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[("state", "present", ("to_internet", "to_network"))],
        supports_check_mode=True,
    )
    if not bridge.HAS_PYROUTE2:
        module.fail_json(msg=missing_required_lib("pyroute2"), exception=str(bridge.PYROUTE2_IMPORT_ERROR))
    result = dict(changed=False, actions=[])
    try:
        with bridge.open_ipr(module.params["netns"]) as ipr:
            if module.params["state"] == "absent":
                run_absent(module, ipr, result)
            else:
                run_present(module, ipr, result)
    except bridge.BridgeError as err:
        module.fail_json(msg=str(err), **result)
    except Exception as err:  # netlink or OS errors not foreseen above
        module.fail_json(msg="shaper_bridge failed: %s" % err, exception=traceback.format_exc(), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
