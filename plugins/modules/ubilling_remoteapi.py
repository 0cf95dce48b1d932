#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ubilling_remoteapi
short_description: Call one action of Ubilling's remote API and check its reply
version_added: 0.1.0
description:
  - Sends C(GET <url>?module=remoteapi&key=<serial>&action=<action>[&param=...][&name=value...]) to a
    Ubilling server and parses the reply, which is always HTTP 200 C(text/html) whatever happened.
  - "Understands every reply form, with Ubilling's loose spacing (C(OK: MULTIGEN)) and the progress lines
    some actions print before the last line: C(OK:), C(SKIP:), C(SKIPPED:), C(WARNING:), C(ERROR:),
    C(FAIL:), JSON, the literal C(undefined) (an empty UserSide result) and other C(WORD:WORD) texts such
    as C(CACHEDOG:CACHE_OK)."
  - Fails with a message that says what to do on C(ERROR:) replies (for example C(ERROR:API_DISABLED)
    means C(REMOTEAPI_ENABLED=0) in C(alter.ini)), on C(FAIL:), on an HTML page (an unknown action, or a
    URL that is not the API), on the maintenance text, on an empty reply, on other HTTP statuses and when
    the server cannot be reached.
  - The serial never appears in results, warnings or errors; a URL shown anywhere carries C(key=***).
  - C(identify) is sent without the serial, because Ubilling only answers it without one.
author:
  - isp.ops contributors (@isp-ops)
extends_documentation_fragment:
  - isp.ops.attributes
attributes:
  check_mode:
    support: full
    details:
      - Read-only actions (C(identify) without C(param=save), C(userbyip), C(userbynum), C(getagentdata),
        C(userside) with C(request=get_*), C(asterisk) lookups, ...) are called in check mode.
      - Actions with side effects are not called; the result reports the masked URL that would be called
        and C(changed=true).
  diff_mode:
    support: none
    details:
      - A remote action has no before and after state to compare; the reply is the result.
options:
  url:
    description:
      - Base URL of Ubilling, the directory that holds its C(index.php).
      - The installer puts it at C(/billing/) of the web server.
    type: str
    default: http://127.0.0.1/billing/
  serial:
    description:
      - The Ubilling serial (C(UB) and 32 hex digits), the only credential of the remote API.
      - Required for every action except C(identify).
      - Falls back to the environment variable E(ISP_OPS_UBILLING_SERIAL).
    type: str
  action:
    description:
      - The action, for example V(multigen), V(backupdb) or V(userside).
      - The upstream C(ubapi) form with parameters after C(&) is accepted too, for example
        V(fullhostscan&param=traffdiff&nn=1).
    type: str
    required: true
  param:
    description: The C(param) parameter of the action, for example the login for V(reset).
    type: str
  params:
    description:
      - Further query parameters as a dictionary of names and values, for example C(period) for
        V(vserviceschargefee), C(login) and C(summ) for V(usercash), C(request) for V(userside) or C(nn) for
        V(fullhostscan). Values are URL-encoded; see the examples.
      - C(module), C(key) and C(action) are set by the module and refused here.
    type: dict
    default: {}
    aliases: [extra_params]
  expect:
    description:
      - The kind of reply the task needs.
      - V(auto) accepts any reply that is not a failure; V(status) needs C(OK:)/C(SKIP:)/C(SKIPPED:)/C(WARNING:);
        V(json) needs JSON or C(undefined); V(text) needs plain text such as the last 4 characters that
        C(identify) returns, or a status line.
    type: str
    choices: [auto, status, json, text]
    default: auto
  timeout:
    description: Seconds to wait for the reply. Some actions (C(swpoll), C(multigen) on a big network) take minutes.
    type: int
    default: 300
  retries:
    description:
      - How many times to try again after a connection failure, a timeout or HTTP 502/503/504.
      - An action with side effects that timed out may still be running; Ubilling's own locks answer
        C(SKIP:) for the actions that have them (C(multigen)).
    type: int
    default: 2
  retry_delay:
    description: Seconds between tries.
    type: float
    default: 1.0
  validate_certs:
    description: Verify the TLS certificate of an https URL.
    type: bool
    default: true
notes:
  - The module uses only the Python standard library, so it runs on the billing host itself.
seealso:
  - name: Ubilling remote API
    description: The remoteapi page of the Ubilling wiki.
    link: https://wiki.ubilling.net.ua/doku.php?id=remoteapi
"""

EXAMPLES = r"""
- name: Regenerate the NAS attributes
  isp.ops.ubilling_remoteapi:
    url: http://127.0.0.1/billing/
    serial: "{{ vault_ubilling_serial }}"
    action: multigen

- name: Host scan without nmap, as the crontab does it
  isp.ops.ubilling_remoteapi:
    serial: "{{ vault_ubilling_serial }}"
    action: fullhostscan
    param: traffdiff
    params:
      nn: 1

- name: Charge the monthly virtual services only
  isp.ops.ubilling_remoteapi:
    serial: "{{ vault_ubilling_serial }}"
    action: vserviceschargefee
    params:
      period: 30

- name: Read the tariffs through the UserSide API (runs in check mode too)
  isp.ops.ubilling_remoteapi:
    serial: "{{ vault_ubilling_serial }}"
    action: userside
    params:
      request: get_tariff_list
    expect: json
  register: tariffs

- name: Check which serial the server has, without sending one
  isp.ops.ubilling_remoteapi:
    url: https://billing.example.net/billing/
    action: identify
    expect: text
  register: identify

- name: The stored serial belongs to this server
  ansible.builtin.assert:
    that: identify.detail == (vault_ubilling_serial[-4:])
"""

RETURN = r"""
status:
  description: The reply's status word; C(OK) for JSON, C(undefined) and other plain text.
  returned: when the action was called
  type: str
  sample: SKIP
tag:
  description: The first word after the status (usually the action in capitals), or the prefix of a C(WORD:WORD) reply.
  returned: when the action was called
  type: str
  sample: MULTIGEN
detail:
  description: The rest of the status line, or the whole text of a plain-text reply.
  returned: when the action was called
  type: str
  sample: ALREADY RUNNING
json:
  description: The decoded JSON reply; null for C(undefined).
  returned: when the reply is JSON
  type: raw
  sample: {"Home 25": {"id": "Home 25", "speed": {"up": "5000", "down": "25000"}}}
kind:
  description: V(status), V(json), V(undefined) or V(text).
  returned: when the action was called
  type: str
  sample: status
output_lines:
  description: Progress lines printed before the final status line (C(swpoll), C(fullhostscan) without C(nn)).
  returned: when the action was called
  type: list
  elements: str
  sample: ["100.64.0.0/24 :2026-11-27 08:00:00:SCANNED"]
url:
  description: The URL called (or that would be called in check mode), with C(key=***).
  returned: always
  type: str
  sample: http://127.0.0.1/billing/?module=remoteapi&key=***&action=multigen
read_only:
  description: Whether the action only reads (never changed, called in check mode).
  returned: always
  type: bool
  sample: false
called:
  description: Whether the action was sent (false for a side-effect action in check mode).
  returned: always
  type: bool
  sample: true
"""

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.isp.ops.plugins.module_utils import ubilling


def argument_spec():
    return dict(
        url=dict(type="str", default="http://127.0.0.1/billing/"),
        serial=dict(type="str", no_log=True, fallback=(env_fallback, ["ISP_OPS_UBILLING_SERIAL"])),
        action=dict(type="str", required=True),
        param=dict(type="str"),
        params=dict(type="dict", default={}, aliases=["extra_params"]),
        expect=dict(type="str", choices=list(ubilling.EXPECT), default="auto"),
        timeout=dict(type="int", default=300),
        retries=dict(type="int", default=2),
        retry_delay=dict(type="float", default=1.0),
        validate_certs=dict(type="bool", default=True),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    serial = p["serial"] or None
    try:
        name = ubilling.split_action(p["action"])[0]
        ubilling.check_action(name)
        if name != "identify" and not serial:
            module.fail_json(msg="serial is required for action %s (or set ISP_OPS_UBILLING_SERIAL)" % name)
        dummy, shown = ubilling.build_url(p["url"], serial, p["action"], p["param"], p["params"])
    except ubilling.UbillingError as exc:
        module.fail_json(msg=ubilling.mask(exc.message, serial))
    read_only = ubilling.is_read_only(p["action"], p["param"], p["params"])
    result = dict(url=shown, read_only=read_only, called=False, changed=False)
    if module.check_mode and not read_only:
        result.update(changed=True, msg="check mode: would call %s" % shown)
        module.exit_json(**result)

    try:
        reply, shown = ubilling.call(p["url"], serial, p["action"], p["param"], p["params"], p["expect"],
                                     p["timeout"], p["retries"], p["retry_delay"], p["validate_certs"])
    except ubilling.UbillingError as exc:
        result.update(called=exc.kind != "connection", failure=exc.kind)
        if exc.reply is not None:
            result.update(exc.reply.as_dict())
        module.fail_json(msg=exc.message, **result)
    if reply.status == "WARNING":
        module.warn("Ubilling answered %s" % ubilling.mask(reply.text.splitlines()[-1], serial))
    result.update(reply.as_dict())
    result.update(called=True, changed=ubilling.changed(reply, read_only))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
