#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: omnileads_trunk
short_description: Write the OMniLeads PJSIP wizard trunk towards a PBX
version_added: 0.1.0
description:
  - Writes the OMniLeads (OML) side of a PBX trunk as one PJSIP C(type=wizard) section in OML's custom
    wizard file, C(oml_pjsip_wizard_custom.conf), which OML's C(pjsip_wizard.conf) includes and OML
    never regenerates. The section sits in a managed block (C(; BEGIN isp.ops omnileads_trunk:<name>) /
    C(; END ...)); everything outside the block is left byte for byte.
  - The section follows OML's PBX templates (PBX LAN, PBX WAN, Docker), chosen by the scenario. The transport is
    C(trunk-transport), C(trunk-nat-transport) or C(trunk-nat-docker-transport); C(rtp_symmetric),
    C(force_rport) and C(rewrite_contact) per scenario; authentication both ways with ONE secret
    (C(inbound_auth/*) for the PBX calling in, C(outbound_auth/*) for OML calling out);
    C(aor/qualify_frequency); C(endpoint/disallow=all) then the codecs; C(endpoint/context); C(remote_hosts).
  - The settings come from O(link), the C(oml) side of a C(pbx_link) (filter M(isp.ops.pbx_link_oml)),
    and any option set here overrides the matching key.
  - Before writing it checks that the transport exists, in the running Asterisk (C(pjsip show transports))
    or in the config files, because Asterisk does not report a missing transport until a call fails.
    After a change it reloads PJSIP (C(module reload res_pjsip.so)) through the CLI or AMI.
author:
  - isp.ops contributors (@isp-ops)
extends_documentation_fragment:
  - isp.ops.asterisk
  - isp.ops.attributes
attributes:
  check_mode:
    support: full
    details:
      - The transport is checked (read-only); nothing is written or reloaded.
  diff_mode:
    support: full
    details:
      - The managed block before and after, with the secret masked.
options:
  config_dir:
    description: Asterisk's configuration directory on the OML host (in OML 2.x, the one the Asterisk container mounts).
    type: path
    default: /etc/asterisk
  file:
    description: The wizard file inside O(config_dir).
    type: str
    default: oml_pjsip_wizard_custom.conf
  state:
    description: Whether the trunk's block is in the file.
    type: str
    choices: [present, absent]
    default: present
  link:
    description:
      - The C(oml) side of a C(pbx_link), as the filter C(isp.ops.pbx_link_oml) returns it. Keys used
        C(scenario), C(trunk_name), C(transport), C(remote_hosts), C(inbound_auth), C(outbound_auth),
        C(codecs), C(dtmf_mode), C(context), C(qualify_frequency), C(from_user), C(rtp_symmetric),
        C(force_rport), C(rewrite_contact).
      - Its passwords are hidden from the output like O(secret).
    type: dict
  scenario:
    description: OML's template, when O(link) is not given or to override it.
    type: str
    choices: [lan, cloud, docker]
  name:
    description: The wizard section name (the trunk's endpoint name in OML). Required with O(state=absent) without O(link).
    type: str
  transport:
    description: Transport name, instead of the scenario's.
    type: str
  remote_hosts:
    description: V(host:port) of the PBX, the source OML accepts calls from (the PBX's SIP port, 5060 for Issabel's chan_sip).
    type: list
    elements: str
  inbound_username:
    description: The user name the PBX authenticates with (C(inbound_auth/username)).
    type: str
  outbound_username:
    description: The user name OML authenticates with at the PBX (C(outbound_auth/username)), the PBX's peer name.
    type: str
  secret:
    description: The one secret of both directions. Never logged.
    type: str
  codecs:
    description: Codecs in order of preference.
    type: list
    elements: str
  dtmf_mode:
    description: DTMF mode.
    type: str
    choices: [rfc4733, inband, info, auto]
  context:
    description: Dialplan context of calls from the PBX (OML's is C(from-pbx)).
    type: str
  qualify_frequency:
    description: Seconds between OPTIONS qualifies (0 turns them off).
    type: int
  check_transport:
    description:
      - Where to look for the transport. V(running) asks the running Asterisk; V(files) reads the transports
        defined in O(config_dir)'s C(*.conf) files; V(skip) does not check.
    type: str
    choices: [running, files, skip]
    default: running
  reload:
    description: Reload PJSIP after a change.
    type: bool
    default: true
notes:
  - Do not also register a trunk with the same name in OML's web UI; a second PJSIP object of the same name
    and type makes Asterisk refuse the whole PJSIP configuration. The module refuses to write when a
    C(*pjsip*.conf) file in O(config_dir) already defines the name outside its block.
seealso:
  - module: isp.ops.omnileads_route
  - module: isp.ops.asterisk_info
"""

EXAMPLES = r"""
- name: OML side of the link, from pbx_link
  isp.ops.omnileads_trunk:
    link: "{{ pbx_link | isp.ops.pbx_link_oml }}"
    asterisk_cli: [docker, exec, oml-asterisk-prodenv, asterisk]

- name: Explicit settings (PBX LAN template), transport looked up in the files, no reload
  isp.ops.omnileads_trunk:
    config_dir: /opt/omnileads/asterisk/etc/asterisk
    scenario: lan
    name: issabel
    remote_hosts: ["192.0.2.10:5060"]
    inbound_username: issabel
    outbound_username: omnileads
    secret: "{{ vault_pbx_link_secret }}"
    codecs: [alaw, ulaw]
    check_transport: files
    reload: false

- name: Remove the trunk
  isp.ops.omnileads_trunk:
    name: issabel
    state: absent
"""

RETURN = r"""
path:
  description: The wizard file.
  returned: always
  type: str
  sample: /etc/asterisk/oml_pjsip_wizard_custom.conf
block:
  description: The managed block's section as written, with the secret masked (empty when absent).
  returned: always
  type: str
  sample: "[issabel]\ntype=wizard\ntransport=trunk-transport\n..."
transports:
  description: The transports found where O(check_transport) looked.
  returned: when O(state=present) and O(check_transport) is not V(skip)
  type: list
  elements: str
  sample: [agent-transport, trunk-transport]
reloaded:
  description: Whether PJSIP was reloaded.
  returned: always
  type: bool
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.isp.ops.plugins.module_utils.asterisk.conf import (
    ConfError, find_block, parse, read_text, remove_block, replace_block, write_config)
from ansible_collections.isp.ops.plugins.module_utils.asterisk.control import (
    AsteriskControl, AsteriskError, control_options)
from ansible_collections.isp.ops.plugins.module_utils.omnileads import wizard

OVERRIDES = {"name": "trunk_name", "transport": "transport", "remote_hosts": "remote_hosts", "codecs": "codecs",
             "dtmf_mode": "dtmf_mode", "context": "context", "qualify_frequency": "qualify_frequency"}


def argument_spec():
    spec = dict(
        config_dir=dict(type="path", default="/etc/asterisk"),
        file=dict(type="str", default=wizard.WIZARD_FILE),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        link=dict(type="dict"),
        scenario=dict(type="str", choices=["lan", "cloud", "docker"]),
        name=dict(type="str"),
        transport=dict(type="str"),
        remote_hosts=dict(type="list", elements="str"),
        inbound_username=dict(type="str"),
        outbound_username=dict(type="str"),
        secret=dict(type="str", no_log=True),
        codecs=dict(type="list", elements="str"),
        dtmf_mode=dict(type="str", choices=["rfc4733", "inband", "info", "auto"]),
        context=dict(type="str"),
        qualify_frequency=dict(type="int"),
        check_transport=dict(type="str", choices=["running", "files", "skip"], default="running"),
        reload=dict(type="bool", default=True),
    )
    spec.update(control_options())
    return spec


def trunk_settings(module):
    """Merged settings; the link's passwords join the values Ansible masks."""
    params = module.params
    link = params["link"] or {}
    for side in ("inbound_auth", "outbound_auth"):
        password = (link.get(side) or {}).get("password") if isinstance(link.get(side), dict) else None
        if password:
            module.no_log_values.add(password)
    overrides = dict((key, params[option]) for option, key in OVERRIDES.items())
    for side, user_option in (("inbound_auth", "inbound_username"), ("outbound_auth", "outbound_username")):
        auth = dict(link.get(side) or {})
        if params[user_option]:
            auth["username"] = params[user_option]
        if params["secret"]:
            auth["password"] = params["secret"]
        overrides[side] = auth or None
    if params["outbound_username"]:  # the seed sends From: the same user OML authenticates as
        overrides["from_user"] = params["outbound_username"]
    return wizard.settings(link, params["scenario"], overrides)


def check_name_unique(config_dir, path, text_without_block, name):
    """A second PJSIP object of the same name and type makes Asterisk drop the whole PJSIP config."""
    candidates = [(path, text_without_block)]
    for other in sorted(os.listdir(config_dir)):
        full = os.path.join(config_dir, other)
        if "pjsip" in other and other.endswith(".conf") and full != path and os.path.isfile(full):
            candidates.append((full, read_text(full) or ""))
    for where, text in candidates:
        try:
            config = parse(text)
        except ConfError as exc:
            if where == path:
                raise ConfError("%s: %s" % (where, exc))
            continue
        for section in config.find(name, template=False):
            if not section.additive:
                raise ConfError("[%s] is already defined in %s line %d, outside the isp.ops block; remove it "
                                "(or the OML web UI trunk of that name) first" % (name, where, section.line))


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_together=[("ami_username", "ami_secret")])
    params = module.params
    present = params["state"] == "present"
    path = os.path.join(params["config_dir"], params["file"])
    result = dict(changed=False, path=path, block="", reloaded=False)
    try:
        if present:
            trunk = trunk_settings(module)
            name = trunk["trunk_name"]
        else:
            name = params["name"] or (params["link"] or {}).get("trunk_name")
            if not name:
                module.fail_json(msg="state=absent needs name (or link with trunk_name)", **result)
        secrets = [s for s in module.no_log_values if isinstance(s, str)]
        if not os.path.isdir(params["config_dir"]):
            module.fail_json(msg="config_dir %s is not a directory" % params["config_dir"], **result)
        block_id = "omnileads_trunk:%s" % name
        text = read_text(path)
        before_block = find_block(text or "", block_id) or ""
        control = None
        if present:
            check_name_unique(params["config_dir"], path, remove_block(text or "", block_id), name)
            body = wizard.render(trunk)
            new_text = replace_block(text or "", block_id, body)
            if params["check_transport"] == "running" or params["reload"]:
                control = AsteriskControl.from_module(module)
            if params["check_transport"] != "skip":
                if params["check_transport"] == "running":
                    found = wizard.transports_running(control.command("pjsip show transports"))
                    where = "the running Asterisk (%s)" % control.via
                else:
                    found = wizard.transports_in_files(params["config_dir"])
                    where = "the *.conf files of %s" % params["config_dir"]
                result["transports"] = found
                if trunk["transport"] not in found:
                    module.fail_json(msg="transport %r is not defined in %s (it has: %s); OML 1.x binds it in "
                                         "oml_pjsip_transports.conf, OML 2.x has only trunk-transport"
                                     % (trunk["transport"], where, ", ".join(found) or "none"), **result)
            result["block"] = wizard.masked(body, secrets)
        else:
            new_text = remove_block(text or "", block_id)
            if params["reload"]:
                control = AsteriskControl.from_module(module)
        changed = new_text != (text or "")
        result["changed"] = changed
        if module._diff:
            result["diff"] = dict(before=wizard.masked(before_block, secrets),
                                  after=wizard.masked(find_block(new_text, block_id) or "", secrets),
                                  before_header="%s [%s]" % (path, name), after_header="%s [%s]" % (path, name))
        if changed and not module.check_mode:
            write_config(path, new_text)
            if params["reload"]:
                control.reload("pjsip")
                result["reloaded"] = True
    except (wizard.WizardError, ConfError, AsteriskError, OSError) as exc:
        module.fail_json(msg=str(exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
