#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: issabel_custom_extension
short_description: Issabel custom extensions and an outbound route that reach OMniLeads over a trunk
version_added: 0.1.0
description:
  - Manages the Issabel side of calls from the PBX to OMniLeads (OML), as the OMniLeads integration guide
    describes them.
  - Custom extensions that dial an OML inbound-route DID (for example V(098098)) or an OML agent (its SIP
    number followed by its agent id, 1006 + 1 gives V(10061)) over the trunk, with the dial string
    C(SIP/<trunk>/<number>) (chan_sip) or C(PJSIP/<number>@<trunk>) (PJSIP).
  - An outbound route whose dial patterns (by default V(1XXX.), the agents) go to the trunk.
  - O(mode=custom_conf) writes a managed block into C(extensions_custom.conf) (never the generated
    C(extensions_additional.conf)). The block holds a context C(isp-ops-<trunk>) with one extension per
    custom extension and one pattern per route pattern, and includes it from O(include_from)
    (C(from-internal-custom), which Issabel's C(from-internal) includes before its own routes). Then the
    dialplan is reloaded.
  - O(mode=database) writes what the GUI writes. Each custom extension is a C(devices) row with C(tech=custom)
    and its dial string plus a C(users) row. The AstDB keys that Issabel's dialplan reads
    (C(AMPUSER/<ext>/device), C(cidname), C(cidnum), C(voicemail); C(DEVICE/<ext>/dial), C(type), C(user),
    C(default_user)) are written through the Asterisk CLI or AMI, because SQL alone leaves them out. The route
    is an C(outbound_routes) row with its C(outbound_route_patterns), C(outbound_route_trunks) and
    C(outbound_route_sequence) rows. It then runs C(amportal a r).
  - An extension number that already belongs to a phone (a non-custom device) is never replaced.
author:
  - isp.ops contributors (@isp-ops)
extends_documentation_fragment:
  - isp.ops.asterisk
  - isp.ops.issabel
  - isp.ops.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the file, the database and AstDB; writes nothing.
  diff_mode:
    support: full
    details:
      - The old and new managed block, or the old and new rows and the AstDB commands to run.
options:
  trunk:
    description: Name of the Issabel trunk towards OML (see M(isp.ops.issabel_trunk)).
    type: str
    required: true
  technology:
    description: Technology of the trunk; decides the dial string.
    type: str
    choices: [sip, pjsip]
    default: sip
  extensions:
    description:
      - The custom extensions. P(isp.ops.pbx_link_pbx#filter) gives them as C(custom_extensions).
      - With O(state=absent), the listed extensions are removed if they are custom extensions.
    type: list
    elements: dict
    default: []
    suboptions:
      extension:
        description: Extension number on the PBX.
        type: str
        required: true
      number:
        description: Number sent to OML over the trunk (a DID, or an agent's SIP number plus agent id).
        type: str
      name:
        description: Display name (at most 50 characters). Defaults to C(OML <number>).
        type: str
      kind:
        description: What the number reaches (V(did) or V(agent)); informational.
        type: str
  outbound_route:
    description:
      - An outbound route towards OML agents. P(isp.ops.pbx_link_pbx#filter) gives it as C(outbound_route).
      - With O(state=absent), the route of that name is removed.
    type: dict
    suboptions:
      name:
        description: Route name (the GUI's route name; unique).
        type: str
        required: true
      patterns:
        description: Dial patterns in Issabel syntax without the leading C(_), for example V(1XXX.).
        type: list
        elements: str
        default: []
      trunk:
        description: Trunk of the route; defaults to O(trunk).
        type: str
  state:
    description: Whether the extensions and the route exist.
    type: str
    choices: [present, absent]
    default: present
  mode:
    description: Where they are kept; see the description.
    type: str
    choices: [custom_conf, database]
    default: custom_conf
  include_from:
    description: O(mode=custom_conf). The context that includes C(isp-ops-<trunk>).
    type: str
    default: from-internal-custom
  config_dir:
    description: Directory of the Asterisk configuration (O(mode=custom_conf)).
    type: path
    default: /etc/asterisk
  reload:
    description: O(mode=custom_conf). Reload the dialplan after a change.
    type: bool
    default: true
  astdb:
    description:
      - O(mode=database). Write the AstDB keys through the Asterisk CLI or AMI. Turn off only when Asterisk is
        not running; C(amportal a r) does not write them, so the extensions will not dial until they exist.
    type: bool
    default: true
seealso:
  - module: isp.ops.issabel_trunk
  - module: isp.ops.omnileads_route
"""

EXAMPLES = r"""
- name: Reach OML inbound route 098098 at extension 7001, and agents by <sip number><agent id>
  isp.ops.issabel_custom_extension:
    trunk: omnileads
    extensions:
      - extension: "7001"
        number: "098098"
        name: OML sales campaign
      - extension: "10061"
        number: "10061"
        name: Adrian Belew
    outbound_route:
      name: omnileads-agents
      patterns: ["1XXX."]

- name: The same from pbx_link, visible in the GUI
  vars:
    pbx: "{{ pbx_link | isp.ops.pbx_link_pbx }}"
  isp.ops.issabel_custom_extension:
    mode: database
    trunk: "{{ pbx.trunk_name }}"
    technology: "{{ pbx.technology }}"
    extensions: "{{ pbx.custom_extensions }}"
    outbound_route: "{{ pbx.outbound_route }}"
    db_password: "{{ vault_issabel_db_password }}"
"""

RETURN = r"""
context:
  description: The dialplan context holding the extensions (O(mode=custom_conf)).
  returned: always
  type: str
  sample: isp-ops-omnileads
route_id:
  description: Id of the outbound route in C(outbound_routes) (O(mode=database), with O(outbound_route)).
  returned: always
  type: int
  sample: 4
astdb_commands:
  description: AstDB commands run (or, in check mode, that would run).
  returned: always
  type: list
  elements: str
  sample: ['database put DEVICE 7001/dial "SIP/omnileads/098098"']
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.isp.ops.plugins.module_utils.asterisk.conf import ConfError
from ansible_collections.isp.ops.plugins.module_utils.asterisk.control import (
    AsteriskControl, AsteriskError, control_options)
from ansible_collections.isp.ops.plugins.module_utils.issabel import db as issabel_db
from ansible_collections.isp.ops.plugins.module_utils.issabel import extensions as ext
from ansible_collections.isp.ops.plugins.module_utils.issabel.trunk import TrunkError


def argument_spec():
    spec = dict(
        trunk=dict(type="str", required=True),
        technology=dict(type="str", choices=["sip", "pjsip"], default="sip"),
        extensions=dict(type="list", elements="dict", default=[], options=dict(
            extension=dict(type="str", required=True),
            number=dict(type="str"),
            name=dict(type="str"),
            kind=dict(type="str"),
        )),
        outbound_route=dict(type="dict", options=dict(
            name=dict(type="str", required=True),
            patterns=dict(type="list", elements="str", default=[]),
            trunk=dict(type="str"),
        )),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        mode=dict(type="str", choices=["custom_conf", "database"], default="custom_conf"),
        include_from=dict(type="str", default="from-internal-custom"),
        config_dir=dict(type="path", default="/etc/asterisk"),
        reload=dict(type="bool", default=True),
        astdb=dict(type="bool", default=True),
    )
    spec.update(issabel_db.db_options())
    spec.update(control_options())
    return spec


def run_custom_conf(module, params, extensions, route):
    if not os.path.isdir(params["config_dir"]):
        raise ext.ExtensionError("config_dir %s is not a directory" % params["config_dir"])
    edit = ext.plan_custom_conf(params, extensions, route)
    result = dict(changed=edit.changed, context=ext.context_name(params["trunk"]), route_id=None, astdb_commands=[])
    if module._diff:
        result["diff"] = edit.diff
    if edit.changed and not module.check_mode:
        edit.write()
        if params["reload"]:
            AsteriskControl.from_module(module).reload("dialplan")
    return result


def run_database(module, params, extensions, route):
    if not issabel_db.HAS_PYMYSQL:
        module.fail_json(msg=missing_required_lib("PyMySQL"), exception=issabel_db.PYMYSQL_IMPORT_ERROR)
    database = issabel_db.Database.connect(params)
    try:
        scopes, owned = ext.extension_scopes(database, params, extensions)
        route_plan = ext.RoutePlan(database, route, params["state"] == "present") if route else None
        all_scopes = scopes + (route_plan.scopes if route_plan else [])
        control = AsteriskControl.from_module(module) if params["astdb"] else None
        commands = ext.plan_astdb(control, params, extensions, owned) if control else []
        rows_changed = any(scope.changed for scope in all_scopes)
        result = dict(changed=rows_changed or bool(commands), context=None, astdb_commands=commands,
                      route_id=route_plan.route_id if route_plan else None)
        if module._diff:
            diff = issabel_db.plan_diff(all_scopes)
            diff["after"] += "".join("astdb: %s\n" % command for command in commands)
            result["diff"] = diff
        if module.check_mode:
            return result
        if rows_changed:
            try:
                for scope in scopes:
                    if scope.changed:
                        scope.apply(database)
                if route_plan:
                    route_plan.apply(database)
            except BaseException:
                database.rollback()
                raise
            issabel_db.apply_scopes(database, [])  # raise the "Apply Config" flag and commit
            result["route_id"] = route_plan.route_id if route_plan and params["state"] == "present" else None
        for command in commands:
            control.command(command)
        if rows_changed:
            issabel_db.amportal_apply(module, params["amportal_command"])
        return result
    finally:
        database.close()


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    try:
        extensions, route = ext.check(params)
        if params["mode"] == "custom_conf":
            result = run_custom_conf(module, params, extensions, route)
        else:
            result = run_database(module, params, extensions, route)
    except (ext.ExtensionError, TrunkError, ConfError, issabel_db.IssabelError, AsteriskError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
