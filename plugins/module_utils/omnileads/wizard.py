# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The OML side of a PBX trunk: one PJSIP `type=wizard` section in OML's custom wizard file.

OML's pjsip_wizard.conf includes oml_pjsip_wizard_override.conf, oml_pjsip_wizard.conf and
oml_pjsip_wizard_custom.conf (reference C.1); OML regenerates the first two, the custom one is
for hand edits, so the trunk goes there as a managed block. The settings are the `oml` side of
`pbx_link` (telephony.link.derive), optionally overridden key by key; the section's lines are the
seed's templates (PBX LAN / PBX WAN / Docker) as link.wizard_lines renders them, plus
`endpoint/disallow=all` so that only the link's codecs are offered.
"""

from __future__ import annotations

import glob
import os
import re

from ansible_collections.isp.ops.plugins.module_utils.asterisk.conf import (
    ConfError, parse, render_section, strip_comments)
from ansible_collections.isp.ops.plugins.module_utils.telephony.link import SCENARIO_DEFAULTS, wizard_lines

WIZARD_FILE = "oml_pjsip_wizard_custom.conf"
REQUIRED = ("trunk_name", "transport", "remote_hosts", "inbound_auth", "outbound_auth", "codecs", "context")
# Settings a caller may leave out: the seed's values for every template.
COMMON_DEFAULTS = dict(accepts_registrations=False, sends_registrations=False, accepts_auth=True, sends_auth=True,
                       timers=True, qualify_frequency=60, dtmf_mode="rfc4733", context="from-pbx")
_TRANSPORT_LINE = re.compile(r"^\s*Transport:\s+(\S+)\s+(udp|tcp|tls|ws|wss)\s", re.IGNORECASE)


class WizardError(ValueError):
    pass


def settings(link_side=None, scenario=None, overrides=None):
    """The trunk's settings: scenario defaults, then the link's `oml` dict, then explicit overrides."""
    merged = dict(COMMON_DEFAULTS)
    merged.update(_template((link_side or {}).get("scenario")))
    merged.update(link_side or {})
    merged.update(_template(scenario))  # an explicit scenario wins over the link's template
    merged.update((k, v) for k, v in (overrides or {}).items() if v is not None)
    missing = [key for key in REQUIRED if not merged.get(key)]
    if missing:
        raise WizardError("the trunk needs %s (give the pbx_link oml side as `link`, or the options)"
                          % ", ".join(missing))
    for side in ("inbound_auth", "outbound_auth"):
        auth = merged[side]
        if not isinstance(auth, dict) or not auth.get("username") or not auth.get("password"):
            raise WizardError("%s needs username and password" % side)
    if merged["inbound_auth"]["password"] != merged["outbound_auth"]["password"]:
        raise WizardError("inbound_auth and outbound_auth must share one password: the PBX side uses one secret")
    merged.setdefault("from_user", merged["outbound_auth"]["username"])
    if isinstance(merged["remote_hosts"], str):
        merged["remote_hosts"] = [merged["remote_hosts"]]
    if isinstance(merged["codecs"], str):
        merged["codecs"] = [c.strip() for c in merged["codecs"].split(",") if c.strip()]
    return merged


def _template(scenario):
    """Transport and NAT switches of OML's template for a scenario ({} for None)."""
    if scenario is None:
        return {}
    if scenario not in SCENARIO_DEFAULTS:
        raise WizardError("scenario %r is not one of %s" % (scenario, ", ".join(sorted(SCENARIO_DEFAULTS))))
    chosen = dict((k, v) for k, v in SCENARIO_DEFAULTS[scenario].items() if k not in ("port", "template"))
    chosen["scenario"] = scenario
    return chosen


def lines(trunk):
    """The wizard's key=value pairs: the seed's order, with disallow=all just before allow."""
    items = wizard_lines(trunk)
    at = [key for key, value in items].index("endpoint/allow")
    return items[:at] + [("endpoint/disallow", "all")] + items[at:]


def render(trunk):
    return render_section(trunk["trunk_name"], lines(trunk))


def masked(text, secrets):
    """The block as diff and return values show it: passwords replaced."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    return text


def transports_running(output):
    """Transport names from `pjsip show transports` (the header line `<TransportId..>` is skipped)."""
    return [m.group(1) for m in (_TRANSPORT_LINE.match(line) for line in output.splitlines()) if m]


def transports_in_files(config_dir):
    """Transport names defined in the *.conf files of config_dir (OML keeps them in
    oml_pjsip_transports.conf, stock Asterisk in pjsip.conf)."""
    names = set()
    for path in sorted(glob.glob(os.path.join(config_dir, "*.conf"))):
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError:
            continue
        if "transport" not in strip_comments(text):
            continue
        try:
            config = parse(text)
        except ConfError:
            continue  # a file we cannot read as Asterisk config defines nothing we can trust
        for section in config.sections:
            if section.template:
                continue
            try:
                items = config.effective_items(section.name)
            except ConfError:  # a name shared by several objects: read the section alone
                items = section.items
            if dict(items).get("type") == "transport":
                names.add(section.name)
    return sorted(names)
