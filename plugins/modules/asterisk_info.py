#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: asterisk_info
short_description: SIP trunk health of a running Asterisk (chan_sip peers, PJSIP endpoints and contacts)
version_added: 0.1.0
description:
  - Reads C(sip show peers) (chan_sip), C(pjsip show endpoints) and C(pjsip show contacts) through the Asterisk
    CLI (C(asterisk -rx)) or AMI (its C(Command) action, in both reply formats), and returns each peer's or endpoint's
    status with the qualify round-trip time.
  - With O(name), returns only that trunk, a summary in RV(trunk) and, when it is not up, the likely cause in
    RV(diagnosis) (wrong secret, wrong port, unreachable host, not configured, not qualified).
  - Asterisk counts any answer to a qualify as reachable, a C(401 Unauthorized) included, so a wrong secret
    shows as C(Avail). Set O(probe) to see it; otherwise the SIP history is used only when it is already on.
author:
  - isp.ops contributors (@isp-ops)
extends_documentation_fragment:
  - isp.ops.asterisk
  - isp.ops.attributes
  - isp.ops.attributes.info_module
options:
  name:
    description:
      - A chan_sip peer or PJSIP endpoint name. Only that trunk is returned, with RV(trunk) and RV(diagnosis).
    type: str
  technology:
    description:
      - Which channel driver to read. V(auto) reads whichever of chan_sip and res_pjsip is loaded (both if both are).
    type: str
    choices: [auto, sip, pjsip]
    default: auto
  probe:
    description:
      - PJSIP only, with O(name). Switch the SIP history on (C(pjsip set history on), unless it is on already),
        send one qualify (C(pjsip qualify <name>)), wait up to O(probe_wait) seconds for the final answer, read the
        exchange and switch the history off again. Nothing else changes, so this is also done in check mode.
      - This is what shows a wrong secret (the peer answers the authenticated retry with another challenge).
    type: bool
    default: false
  probe_wait:
    description: Seconds to wait for the answer to the probe.
    type: float
    default: 5
notes:
  - The AMI user needs the C(command) write permission (C(system) too for reloads done by other modules).
seealso:
  - module: isp.ops.issabel_trunk
  - module: isp.ops.omnileads_trunk
"""

EXAMPLES = r"""
- name: All chan_sip peers and PJSIP endpoints, through the CLI
  isp.ops.asterisk_info:
  register: sip_status

- name: The OMniLeads trunk of an Issabel PBX, through AMI
  isp.ops.asterisk_info:
    name: omnileads
    ami_host: 127.0.0.1
    ami_username: isp-ops
    ami_secret: "{{ vault_ami_secret }}"
  register: trunk

- name: The wizard trunk of OMniLeads in Docker, probing so that a wrong secret shows
  isp.ops.asterisk_info:
    name: issabel
    asterisk_cli: [docker, exec, oml-asterisk-prodenv, asterisk]
    probe: true
  register: trunk

- name: Wait until the trunk is up, then say why not
  isp.ops.asterisk_info:
    name: omnileads
  register: trunk
  until: trunk.trunk.up
  retries: 12
  delay: 5
  failed_when: false

- name: Fail with the likely cause
  ansible.builtin.fail:
    msg: "trunk {{ trunk.trunk.name }} is {{ trunk.trunk.status }}: {{ trunk.diagnosis.message }}"
  when: not trunk.trunk.up
"""

RETURN = r"""
technologies:
  description: Channel drivers found loaded (V(sip), V(pjsip)).
  returned: always
  type: list
  elements: str
  sample: [pjsip]
peers:
  description: chan_sip peers (C(sip show peers)).
  returned: always
  type: list
  elements: dict
  sample:
    - {name: omnileads, username: issabel, host: 192.0.2.20, port: 5161, dynamic: false, status: OK,
       rtt_ms: 2.0, description: null}
endpoints:
  description:
    - PJSIP endpoints (C(pjsip show endpoints)) with device state, AORs, auths, transport, identify matches and
      contacts. A contact's V(status) is V(Avail), V(Unavail), V(NonQual), V(Unknown) or V(Created).
  returned: always
  type: list
  elements: dict
  sample:
    - name: issabel
      state: Not in use
      channels: 0
      max_channels: null
      aors: [issabel]
      in_auths: [{name: issabel-iauth, username: issabel}]
      out_auths: [{name: issabel-oauth, username: omnileads}]
      transport: {name: trunk-transport, type: udp, bind: 0.0.0.0:5161}
      identifies: [issabel-identify]
      matches: [192.0.2.10:5066/32]
      contacts:
        - {aor: issabel, uri: "sip:192.0.2.10:5066", hash: c574c63d36, status: Avail, rtt_ms: 1.949,
           host: 192.0.2.10, port: 5066}
contacts:
  description: PJSIP contacts (C(pjsip show contacts)), same keys as an endpoint's contacts.
  returned: always
  type: list
  elements: dict
trunk:
  description:
    - Summary of the trunk named by O(name). V(up) is true when it qualifies (V(OK)/V(Avail)) and no
      credential rejection was seen.
    - V(rejected_by_peer), V(rejected_here) and V(seen_ports) come from the SIP history and are null when it was
      not available.
  returned: when O(name) is given
  type: dict
  sample:
    {name: omnileads, found: true, technology: pjsip, status: Avail, rtt_ms: 1.65, host: 192.0.2.20, port: 5161,
     rejected_by_peer: false, rejected_here: false, seen_ports: [5161], history: true, up: true}
diagnosis:
  description:
    - Why the trunk is not up; null when it is up. V(cause) is one of V(not_configured), V(wrong_secret),
      V(wrong_port), V(unreachable_host), V(unreachable) (host or port, cannot tell), V(not_qualified), V(lagged).
  returned: when O(name) is given
  type: dict
  sample:
    {cause: wrong_secret, message: "omnileads answers at 192.0.2.20:5161 but rejects our credentials (401/403
     after the authenticated retry): wrong secret or username"}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.isp.ops.plugins.module_utils.asterisk.control import (
    AsteriskControl,
    AsteriskError,
    control_options,
)
from ansible_collections.isp.ops.plugins.module_utils.asterisk.health import TrunkHealth


def main():
    argument_spec = control_options()
    argument_spec.update(
        name=dict(type="str"),
        technology=dict(type="str", choices=["auto", "sip", "pjsip"], default="auto"),
        probe=dict(type="bool", default=False),
        probe_wait=dict(type="float", default=5.0),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_together=[("ami_username", "ami_secret")],
        required_by=dict(ami_host=("ami_username", "ami_secret")),
    )
    params = module.params
    if params["probe"] and not params["name"]:
        module.fail_json(msg="probe needs a trunk name")
    if not 0 < params["probe_wait"] <= 60:
        module.fail_json(msg="probe_wait must be between 0 and 60 seconds, got %g" % params["probe_wait"])
    try:
        control = AsteriskControl.from_module(module)
        result = TrunkHealth(control).collect(
            name=params["name"], technology=params["technology"], probe=params["probe"],
            probe_wait=params["probe_wait"])
    except AsteriskError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
