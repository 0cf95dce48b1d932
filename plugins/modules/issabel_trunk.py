#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: issabel_trunk
short_description: SIP trunk on an Issabel PBX (chan_sip or PJSIP), as custom config or GUI rows
version_added: 0.1.0
description:
  - Creates, updates or removes one SIP trunk on an Issabel PBX, typically towards OMniLeads.
    Feed it from C(pbx_link) with the P(isp.ops.pbx_link_pbx#filter) filter so that both ends of the
    link share one definition.
  - O(mode=custom_conf) writes the peer (chan_sip) or the endpoint, aor, auths and identify (PJSIP) into a
    managed block (C(; BEGIN isp.ops trunk/<name>) ... C(; END isp.ops trunk/<name>)) of C(sip_custom.conf) or
    C(pjsip_custom.conf), which Issabel never regenerates, then reloads chan_sip or PJSIP. Everything
    outside the block is left byte for byte. The generated C(*_additional.conf) files are never touched.
    Such a trunk is invisible in the GUI; routes reach it through a custom extension or trunk.
  - O(mode=database) writes the rows the Issabel GUI writes (a C(trunks) row with the lowest free trunk id,
    C(sip) rows C(tr-peer-<id>) for chan_sip or C(pjsip-<id>) for PJSIP), in one transaction, raises the
    GUI's "Apply Config" flag, and runs C(amportal a r). The trunk is visible and editable in the GUI. A trunk
    with the same name is updated in place, keeping its id.
  - The chan_sip peer has the keys of the OMniLeads integration guide (C(type=friend), C(host), C(port),
    C(disallow=all), C(allow), C(qualify), C(secret), C(fromuser), C(defaultuser), C(context)).
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
      - Reads the files or the database; writes, reloads and C(amportal) are skipped.
  diff_mode:
    support: full
    details:
      - The old and new managed block, or the old and new database rows.
options:
  name:
    description:
      - Trunk name. It is the chan_sip peer or PJSIP endpoint name, the GUI's trunk name and C(channelid), and
        what dial strings use (C(SIP/<name>/<number>), C(PJSIP/<number>@<name>)).
    type: str
    required: true
  state:
    description: Whether the trunk exists.
    type: str
    choices: [present, absent]
    default: present
  mode:
    description: Where the trunk is kept; see the description.
    type: str
    choices: [custom_conf, database]
    default: custom_conf
  technology:
    description:
      - V(sip) is chan_sip (Issabel on Asterisk 20 or older; chan_sip was removed in Asterisk 21).
        V(pjsip) is chan_pjsip.
    type: str
    choices: [sip, pjsip]
    default: sip
  host:
    description: Address of the far end (OMniLeads). Required with O(state=present).
    type: str
  port:
    description:
      - SIP port of the far end. For OMniLeads 1.x 5161 (LAN), 5162 (cloud) or 5163 (Docker); OMniLeads 2.x binds
        its trunk transport on 5060.
    type: int
    default: 5060
  username:
    description:
      - User name this PBX sends to the far end (C(fromuser)/C(defaultuser); the PJSIP outbound auth).
        OMniLeads checks it as C(inbound_auth/username).
    type: str
  peer_username:
    description:
      - PJSIP only. User name the far end authenticates with (OMniLeads' C(outbound_auth/username)).
        Defaults to O(name), which is also what chan_sip checks.
      - Issabel's PJSIP trunk form (O(mode=database)) has one auth for both directions. When this differs from
        O(username), the trunk authenticates outbound only (C(authentication=outbound)) and identifies the far
        end by O(host).
    type: str
  secret:
    description: Shared secret of both directions. Required with O(state=present).
    type: str
  codecs:
    description: Allowed codecs, in order of preference (C(disallow=all) comes first).
    type: list
    elements: str
    default: [alaw, ulaw]
  dtmf_mode:
    description: DTMF mode (chan_sip spells V(rfc4733) as C(rfc2833)).
    type: str
    choices: [rfc4733, inband, info, auto]
    default: rfc4733
  context:
    description: Dialplan context for calls arriving from the far end.
    type: str
    default: from-internal
  qualify_frequency:
    description: Seconds between OPTIONS qualifies; V(0) turns qualify off.
    type: int
    default: 60
  transport:
    description: PJSIP transport of the endpoint (Issabel generates C(transport-udp) on port 5066). Omitted when unset.
    type: str
  outbound_callerid:
    description: O(mode=database) only. The trunk's outbound caller id (GUI "Outbound CallerID").
    type: str
  max_channels:
    description: O(mode=database) only. The trunk's maximum channels; unset means no limit.
    type: int
  config_dir:
    description: Directory of the Asterisk configuration (O(mode=custom_conf)).
    type: path
    default: /etc/asterisk
  reload:
    description: O(mode=custom_conf) only. Reload chan_sip or PJSIP through the Asterisk CLI or AMI after a change.
    type: bool
    default: true
notes:
  - In O(mode=database), rows are written in one transaction; C(trunk_dialpatterns) and outbound route trunk lists
    are only removed with O(state=absent), as the GUI's delete does.
seealso:
  - module: isp.ops.issabel_custom_extension
  - module: isp.ops.asterisk_info
"""

EXAMPLES = r"""
- name: Trunk towards OMniLeads on the LAN (chan_sip, custom file)
  isp.ops.issabel_trunk:
    name: omnileads
    host: 192.0.2.20
    port: 5161
    username: issabel
    secret: "{{ vault_oml_trunk_secret }}"
    codecs: [alaw]

- name: The same trunk from the pbx_link definition, visible in the GUI
  vars:
    pbx: "{{ pbx_link | isp.ops.pbx_link_pbx }}"
  isp.ops.issabel_trunk:
    mode: database
    name: "{{ pbx.trunk_name }}"
    technology: "{{ pbx.technology }}"
    host: "{{ pbx.host }}"
    port: "{{ pbx.port }}"
    username: "{{ pbx.username }}"
    secret: "{{ pbx.secret }}"
    codecs: "{{ pbx.codecs }}"
    db_password: "{{ vault_issabel_db_password }}"

- name: Remove it
  isp.ops.issabel_trunk:
    name: omnileads
    state: absent
"""

RETURN = r"""
trunk_id:
  description: The trunk id in the C(trunks) table (O(mode=database); null when absent).
  returned: always
  type: int
  sample: 3
files:
  description: Configuration files written (O(mode=custom_conf), empty in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/asterisk/sip_custom.conf]
reloaded:
  description: What was reloaded or applied (V(sip), V(pjsip), or the O(amportal_command)).
  returned: always
  type: list
  elements: str
  sample: [sip]
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.isp.ops.plugins.module_utils.asterisk.conf import ConfError
from ansible_collections.isp.ops.plugins.module_utils.asterisk.control import (
    AsteriskControl, AsteriskError, control_options)
from ansible_collections.isp.ops.plugins.module_utils.issabel import db as issabel_db
from ansible_collections.isp.ops.plugins.module_utils.issabel import trunk


def argument_spec():
    spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        mode=dict(type="str", choices=["custom_conf", "database"], default="custom_conf"),
        technology=dict(type="str", choices=["sip", "pjsip"], default="sip"),
        host=dict(type="str"),
        port=dict(type="int", default=5060),
        username=dict(type="str"),
        peer_username=dict(type="str"),
        secret=dict(type="str", no_log=True),
        codecs=dict(type="list", elements="str", default=["alaw", "ulaw"]),
        dtmf_mode=dict(type="str", choices=["rfc4733", "inband", "info", "auto"], default="rfc4733"),
        context=dict(type="str", default="from-internal"),
        qualify_frequency=dict(type="int", default=60),
        transport=dict(type="str"),
        outbound_callerid=dict(type="str"),
        max_channels=dict(type="int"),
        config_dir=dict(type="path", default="/etc/asterisk"),
        reload=dict(type="bool", default=True),
    )
    spec.update(issabel_db.db_options())
    spec.update(control_options())
    return spec


def run_custom_conf(module, params):
    if not os.path.isdir(params["config_dir"]):
        raise trunk.TrunkError("config_dir %s is not a directory" % params["config_dir"])
    edits = trunk.plan_custom_conf(params)
    changed = [(technology, edit) for technology, edit in edits if edit.changed]
    result = dict(changed=bool(changed), trunk_id=None, files=[], reloaded=[])
    if module._diff:
        result["diff"] = [edit.diff for technology, edit in changed]
    if changed and not module.check_mode:
        for technology, edit in changed:
            edit.write()
            result["files"].append(edit.path)
        if params["reload"]:
            control = AsteriskControl.from_module(module)
            for technology, edit in changed:
                control.reload(technology)
                result["reloaded"].append(technology)
    return result


def run_database(module, params):
    if not issabel_db.HAS_PYMYSQL:
        module.fail_json(msg=missing_required_lib("PyMySQL"), exception=issabel_db.PYMYSQL_IMPORT_ERROR)
    database = issabel_db.Database.connect(params)
    try:
        trunk_id, scopes = trunk.plan_database(database, params)
        changed = any(scope.changed for scope in scopes)
        result = dict(changed=changed, trunk_id=trunk_id if params["state"] == "present" else None,
                      files=[], reloaded=[])
        if module._diff:
            result["diff"] = issabel_db.plan_diff(scopes)
        if changed and not module.check_mode:
            issabel_db.apply_scopes(database, scopes)
            issabel_db.amportal_apply(module, params["amportal_command"])
            result["reloaded"].append(" ".join(params["amportal_command"]))
        return result
    finally:
        database.close()


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    try:
        if params["state"] == "present":
            trunk.check(params)
        if params["mode"] == "custom_conf":
            result = run_custom_conf(module, params)
        else:
            result = run_database(module, params)
    except (trunk.TrunkError, ConfError, issabel_db.IssabelError, AsteriskError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
