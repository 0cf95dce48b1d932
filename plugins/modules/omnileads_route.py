#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: omnileads_route
short_description: Manage OMniLeads inbound and outbound routes, and list agents' dial numbers
version_added: 0.1.0
description:
  - Creates, updates or deletes one OMniLeads (OML) route through OML's REST API (C(api_app)).
    An inbound route sends a DID to a destination (a campaign, an IVR, ...); an outbound route sends
    dial patterns to SIP trunks.
  - Logs in at C(/api/v1/login) with O(username) and O(password) and sends the token in the
    C(Authorization) header with the C(Bearer) scheme. An expired token gets one fresh login.
  - Routes are matched by O(name). Only the options you set are compared; an update is sent only
    when one of them differs. OML's update calls replace the whole route, so the module sends the
    current route with your changes laid over it.
  - With O(list_agents=true) it also returns OML's active agents with their dial numbers, the SIP
    extension followed by the agent id (1006 and agent 1 give C(10061)), the number a PBX dials to
    reach that agent over the trunk. O(name) may then be left out to only list agents.
  - Any failure (refused login, OML validation error, HTTP error, timeout, reset, HTML page,
    truncated JSON) fails the task with one message naming the endpoint and what OML said.
author:
  - isp.ops contributors (@isp-ops)
extends_documentation_fragment:
  - isp.ops.attributes
attributes:
  check_mode:
    support: full
    details:
      - Only read calls are made (and the login); nothing is created, changed or deleted.
  diff_mode:
    support: full
    details:
      - The route before and after, in the module's terms.
options:
  url:
    description: OML's web root, for example V(https://oml.example.com).
    type: str
    required: true
  username:
    description: An OML user allowed to manage routes (an administrator).
    type: str
    required: true
  password:
    description: That user's password. Never logged.
    type: str
    required: true
  validate_certs:
    description: Verify OML's TLS certificate.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for each API answer.
    type: int
    default: 30
  type:
    description: Which kind of route O(name) is. Required with O(name).
    type: str
    choices: [inbound, outbound]
  name:
    description:
      - The route's name, its identity. Inbound names have up to 30 characters; outbound names only
        letters, digits and underscores (OML's rule).
    type: str
  state:
    description: Whether the route exists.
    type: str
    choices: [present, absent]
    default: present
  did:
    description: Inbound, the DID (OML's C(telefono)) the route answers, for example V(098098). Needed to create.
    type: str
  destination_type:
    description: Inbound, the kind of destination named by O(destination).
    type: str
    choices: [campaign, time_condition, ivr, hangup, custom, customer_id]
    default: campaign
  destination:
    description:
      - Inbound, the destination's name as OML lists it in C(inbound_routes/destinations_by_type/)
        (for a campaign, the campaign name). O(destination) or O(destination_id) is needed to create.
    type: str
  destination_id:
    description: Inbound, the destination's id, instead of O(destination_type) and O(destination).
    type: int
  language:
    description: Inbound, the language of the route's prompts. OML's default for a new route here is V(es).
    type: str
    choices: [es, en]
  caller_id_prefix:
    description: Inbound, a prefix added to the caller id. An empty string removes it.
    type: str
  patterns:
    description:
      - Outbound, the dial patterns, in order. Each is a match pattern string (V(XXXX), V(1XXX.)) or a
        dict. Needed to create.
    type: list
    elements: raw
  trunks:
    description:
      - Outbound, the SIP trunks to try, in order, by name (or id) as OML lists them in
        C(outbound_routes/sip_trunks/). Needed to create.
      - OML has no REST call to create trunks; a trunk must be registered in OML before a route can use it.
    type: list
    elements: str
  ring_time:
    description: Outbound, seconds to ring (1 to 3600; OML's default is 25).
    type: int
  dial_options:
    description: Outbound, Asterisk C(Dial) options (OML's default is V(Tt)).
    type: str
  list_agents:
    description: Also return OML's active agents and their dial numbers in RV(agents).
    type: bool
    default: false
  agents:
    description: With O(list_agents), only these agents (usernames or agent ids). Empty means all.
    type: list
    elements: str
    default: []
notes:
  - A pattern dict has the keys C(match_pattern) (required), C(prefix) (digits removed before dialling) and
    C(prepend) (digits added).
seealso:
  - module: isp.ops.omnileads_trunk
"""

EXAMPLES = r"""
- name: DID 098098 from the PBX goes to the inbound campaign "Ventas"
  isp.ops.omnileads_route:
    url: https://oml.example.com
    username: admin
    password: "{{ vault_oml_api_password }}"
    type: inbound
    name: pbx_098098
    did: "098098"
    destination_type: campaign
    destination: Ventas

- name: Agents reach the PBX's extensions and the PSTN through the trunk to the PBX
  isp.ops.omnileads_route:
    url: https://oml.example.com
    username: admin
    password: "{{ vault_oml_api_password }}"
    type: outbound
    name: to_pbx
    patterns: ["XXX", "XXXX", {match_pattern: "X.", prefix: "0"}]
    trunks: [issabel]

- name: Dial numbers of OML's agents, for the PBX's custom extensions
  isp.ops.omnileads_route:
    url: https://oml.example.com
    username: admin
    password: "{{ vault_oml_api_password }}"
    list_agents: true
  register: oml_agents

- name: Remove an old route
  isp.ops.omnileads_route:
    url: https://oml.example.com
    username: admin
    password: "{{ vault_oml_api_password }}"
    type: inbound
    name: pbx_old
    state: absent
"""

RETURN = r"""
route:
  description: The route after the task, in the module's terms (empty when absent).
  returned: when O(name) is set
  type: dict
  sample: {name: pbx_098098, did: "098098", language: es, caller_id_prefix: "",
           destination: {id: 1, name: Ventas, type: campaign}}
agents:
  description: Active agents with their SIP extension and dial number.
  returned: when O(list_agents=true)
  type: list
  elements: dict
  sample: [{id: 1, username: abelew, full_name: Adrian Belew, sip_extension: "1006", dial_number: "10061"}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.isp.ops.plugins.module_utils.omnileads.api import OmlClient, OmlError
from ansible_collections.isp.ops.plugins.module_utils.omnileads import routes

INBOUND_ONLY = ("did", "destination", "destination_id", "language", "caller_id_prefix")
OUTBOUND_ONLY = ("patterns", "trunks", "ring_time", "dial_options")


def argument_spec():
    return dict(
        url=dict(type="str", required=True),
        username=dict(type="str", required=True),
        password=dict(type="str", required=True, no_log=True),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="int", default=30),
        type=dict(type="str", choices=["inbound", "outbound"]),
        name=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        did=dict(type="str"),
        destination_type=dict(type="str", default="campaign", choices=sorted(routes.DESTINATION_TYPES)),
        destination=dict(type="str"),
        destination_id=dict(type="int"),
        language=dict(type="str", choices=["es", "en"]),
        caller_id_prefix=dict(type="str"),
        patterns=dict(type="list", elements="raw"),
        trunks=dict(type="list", elements="str"),
        ring_time=dict(type="int"),
        dial_options=dict(type="str"),
        list_agents=dict(type="bool", default=False),
        agents=dict(type="list", elements="str", default=[]),
    )


def check_options(module):
    params = module.params
    if not params["name"] and not params["list_agents"]:
        module.fail_json(msg="set name (a route to manage) or list_agents=true")
    if params["name"] and not params["type"]:
        module.fail_json(msg="type (inbound or outbound) is required with name")
    wrong = OUTBOUND_ONLY if params["type"] == "inbound" else INBOUND_ONLY if params["type"] == "outbound" else ()
    given = [option for option in wrong if params[option] is not None]
    if given:
        other = "outbound" if params["type"] == "inbound" else "inbound"
        module.fail_json(msg="%s only apply to %s routes" % (", ".join(given), other))
    for index, item in enumerate(params["patterns"] or []):
        if not isinstance(item, (str, dict)) or (isinstance(item, dict) and not item.get("match_pattern")):
            module.fail_json(msg="patterns[%d] must be a match pattern string or a dict with match_pattern" % index)
        if isinstance(item, dict) and set(item) - set(routes.PATTERN_FIELDS):
            module.fail_json(msg="patterns[%d] has unknown keys: %s (use %s)" % (
                index, ", ".join(sorted(set(item) - set(routes.PATTERN_FIELDS))), ", ".join(routes.PATTERN_FIELDS)))


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           mutually_exclusive=[("destination", "destination_id")])
    check_options(module)
    params = module.params
    result = dict(changed=False)
    try:
        client = OmlClient(params["url"], params["username"], params["password"], timeout=params["timeout"],
                           validate_certs=params["validate_certs"])
        if params["name"]:
            changed, before, after = routes.ensure(client, params["type"], params, params["state"], module.check_mode)
            result.update(changed=changed, route=after)
            if module._diff:
                result["diff"] = dict(before=before, after=after,
                                      before_header="%s route %s" % (params["type"], params["name"]),
                                      after_header="%s route %s" % (params["type"], params["name"]))
        if params["list_agents"]:
            result["agents"] = routes.agents(client, params["agents"])
    except OmlError as exc:
        module.fail_json(msg=str(exc), endpoint=exc.endpoint, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
