# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An Issabel SIP trunk towards OMniLeads: chan_sip peer / PJSIP objects, as config text or GUI rows.

The chan_sip peer has exactly the keys of the OMniLeads integration guide's Issabel trunk
(type, host, port, disallow, allow, qualify, secret, fromuser, defaultuser, context), plus
dtmfmode/qualifyfreq only when they differ from chan_sip's defaults.
"""

from __future__ import annotations

import os
import re

from ..asterisk import conf
from ..telephony.link import CHAN_SIP_DTMF
from .db import Scope, next_free_id
from .files import BlockEdit, defined_sections

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$")
# Breaks a config line, a section header, or Issabel's "&"-joined repeated keys.
_UNSAFE = re.compile(r"[;&\r\n\x00\[\]]")
SIP_ROW_IDS = ("tr-peer-%d", "tr-user-%d", "tr-reg-%d", "pjsip-%d")
TRUNK_COLUMNS = ("trunkid", "name", "tech", "outcid", "keepcid", "maxchans", "failscript", "dialoutprefix",
                 "channelid", "usercontext", "provider", "disabled", "continue")


class TrunkError(ValueError):
    """Bad trunk options; the text names the option."""


def check(params):
    """Validate the options a present trunk needs; raise TrunkError naming the option."""
    if not _NAME.match(params["name"] or ""):
        raise TrunkError("name: %r is not a valid trunk name (letters, digits, . _ -)" % params["name"])
    for key in ("host", "secret"):
        if not params.get(key):
            raise TrunkError("%s is required with state=present" % key)
    for key in ("host", "username", "peer_username", "secret", "context", "transport", "outbound_callerid"):
        value = params.get(key)
        if value is not None and (_UNSAFE.search(str(value)) or str(value) != str(value).strip()):
            raise TrunkError("%s: must not contain ; & [ ] line breaks or surrounding spaces" % key)
    if not 1 <= params["port"] <= 65535:
        raise TrunkError("port: %d is outside 1-65535" % params["port"])
    for codec in params["codecs"]:
        if not re.match(r"^[a-z0-9_]+$", codec):
            raise TrunkError("codecs: %r is not a codec name" % codec)


def sip_peer_items(p):
    """chan_sip peer details in the guide's order."""
    items = [
        ("type", "friend"),
        ("host", p["host"]),
        ("port", str(p["port"])),
        ("disallow", "all"),
        ("allow", ",".join(p["codecs"])),
        ("qualify", "yes" if p["qualify_frequency"] else "no"),
        ("secret", p["secret"]),
    ]
    if p.get("username"):
        items += [("fromuser", p["username"]), ("defaultuser", p["username"])]
    items.append(("context", p["context"]))
    if p["dtmf_mode"] != "rfc4733":
        items.append(("dtmfmode", CHAN_SIP_DTMF[p["dtmf_mode"]]))
    if p["qualify_frequency"] not in (0, 60):
        items.append(("qualifyfreq", str(p["qualify_frequency"])))
    return items


def pjsip_sections(p):
    """[(name, items)] of the PJSIP endpoint, aor, auths and identify for the trunk."""
    name = p["name"]
    host_port = "%s:%d" % ("[%s]" % p["host"] if ":" in p["host"] else p["host"], p["port"])
    endpoint = [("type", "endpoint")]
    if p.get("transport"):
        endpoint.append(("transport", p["transport"]))
    endpoint += [
        ("context", p["context"]),
        ("disallow", "all"),
        ("allow", ",".join(p["codecs"])),
        ("dtmf_mode", p["dtmf_mode"]),
        ("direct_media", "no"),
        ("aors", name),
        ("auth", name + "-in"),
        ("outbound_auth", name + "-out"),
    ]
    if p.get("username"):
        endpoint.append(("from_user", p["username"]))
    return [
        (name, endpoint),
        (name, [("type", "aor"), ("contact", "sip:" + host_port), ("qualify_frequency", str(p["qualify_frequency"]))]),
        # The far end authenticates to us with our trunk name (OML's outbound_auth/username).
        (name + "-in", [("type", "auth"), ("auth_type", "userpass"),
                        ("username", p.get("peer_username") or name), ("password", p["secret"])]),
        (name + "-out", [("type", "auth"), ("auth_type", "userpass"),
                         ("username", p.get("username") or name), ("password", p["secret"])]),
        (name, [("type", "identify"), ("endpoint", name), ("match", p["host"])]),
    ]


def section_names(p):
    return sorted(set(name for name, items in pjsip_sections(p))) if p["technology"] == "pjsip" else [p["name"]]


def render(p):
    """The managed block body for sip_custom.conf or pjsip_custom.conf."""
    if p["technology"] == "sip":
        return conf.render_section(p["name"], sip_peer_items(p))
    return "\n".join(conf.render_section(name, items) for name, items in pjsip_sections(p))


def pjsip_keywords(p):
    """The `pjsip-N` rows of Issabel's PJSIP trunk form, as generate_pjsip_additional() reads them.

    Issabel renders ONE auth object per trunk (named after the trunk) for both directions, so the far
    end can only be challenged when it authenticates with the same user name we send. When it uses
    another one (OML's outbound_auth is the PBX trunk name), our side authenticates outbound only and
    the far end is identified by its address (`match`)."""
    username = p.get("username") or p["name"]
    both = (p.get("peer_username") or p["name"]) == username
    host = "[%s]" % p["host"] if ":" in p["host"] else p["host"]
    return [
        ("username", username),
        ("secret", p["secret"]),
        ("server", "%s:%d" % (host, p["port"])),  # the aor contact is sip:<server>
        ("registration", "none"),
        ("authentication", "both" if both else "outbound"),
        ("context", p["context"]),
        ("transport", p.get("transport") or "transport-udp"),
        ("codecs", ",".join(p["codecs"])),
        ("qualify_frequency", str(p["qualify_frequency"])),
        ("match", p["host"]),
        ("from_user", username),
        ("dtmf_mode", p["dtmf_mode"]),
        ("direct_media", "no"),
    ]


def sip_rows(p, trunkid):
    """(id, keyword, data, flags) rows of the `sip` table for trunk `trunkid`."""
    if p["technology"] == "pjsip":
        return [("pjsip-%d" % trunkid, key, value, 0) for key, value in pjsip_keywords(p)]
    # core_trunks_addSipOrIax: `account` first, repeated keys joined with "&", flags counting up
    # from 2 (flags=1 marks a disabled row).
    merged = [("account", p["name"])]
    for key, value in sip_peer_items(p):
        for index, (seen, old) in enumerate(merged):
            if seen == key:
                merged[index] = (key, old + "&" + value)
                break
        else:
            merged.append((key, value))
    return [("tr-peer-%d" % trunkid, key, value, flags) for flags, (key, value) in enumerate(merged, start=2)]


def trunk_row(p, trunkid):
    return (trunkid, p["name"], p["technology"], p.get("outbound_callerid") or "", "off",
            str(p["max_channels"]) if p.get("max_channels") else "", "", "", p["name"], "", "", "off", "off")


def scopes(p, trunkid, present=True):
    """What trunk `trunkid` should look like in the database. Absent also drops what the GUI's
    delete drops (its dial patterns and its place in outbound routes); present leaves those alone."""
    ids = [pattern % trunkid for pattern in SIP_ROW_IDS]
    result = [
        Scope("trunks", {"trunkid": trunkid}, TRUNK_COLUMNS, [trunk_row(p, trunkid)] if present else []),
        Scope("sip", {"id": ids}, ("id", "keyword", "data", "flags"), sip_rows(p, trunkid) if present else []),
    ]
    if not present:
        result += [
            Scope("trunk_dialpatterns", {"trunkid": trunkid},
                  ("trunkid", "match_pattern_prefix", "match_pattern_pass", "prepend_digits", "seq"), []),
            Scope("outbound_route_trunks", {"trunk_id": trunkid}, ("route_id", "trunk_id", "seq"), []),
        ]
    return result


def find_trunk(db, name):
    """(trunkid, tech) of the trunk named `name`, or None. A name used twice is an error."""
    rows = db.rows("SELECT `trunkid`, `tech` FROM `trunks` WHERE `name` = %s OR `channelid` = %s", (name, name))
    ids = sorted(set((int(r[0]), r[1]) for r in rows))
    if len(ids) > 1:
        raise TrunkError("name: trunks %s are all named %s; resolve that in the GUI first"
                         % (", ".join(str(i) for i, t in ids), name))
    return ids[0] if ids else None


CONF_FILES = {"sip": "sip_custom.conf", "pjsip": "pjsip_custom.conf"}
ADDITIONAL = {"sip": "sip_additional.conf", "pjsip": "pjsip_additional.conf"}


def plan_custom_conf(p):
    """BlockEdits of sip_custom.conf and pjsip_custom.conf (the trunk lives in the one of its
    technology and nowhere else). Refuses a name that a hand-written or GUI section already uses."""
    block_id = "trunk/" + p["name"]
    present = p["state"] == "present"
    edits = []
    for technology, filename in sorted(CONF_FILES.items()):
        body = render(p) if present and technology == p["technology"] else None
        edits.append((technology, BlockEdit(os.path.join(p["config_dir"], filename), block_id, body)))
    if present:
        filename = CONF_FILES[p["technology"]]
        taken = defined_sections(p["config_dir"], [filename, ADDITIONAL[p["technology"]]],
                                 exclude_block=(filename, block_id))
        clashes = [name for name in section_names(p) if name in taken]
        if clashes:
            raise TrunkError("name: section [%s] is already defined in %s (a GUI trunk or a hand-written peer); "
                             "pick another name or remove it" % (clashes[0], taken[clashes[0]]))
    return edits


def plan_database(db, p):
    """(trunkid or None, scopes loaded from the database)."""
    found = find_trunk(db, p["name"])
    if found and found[1] not in CONF_FILES:
        raise TrunkError("name: trunk %d named %s is a %s trunk, not sip/pjsip; not touching it"
                         % (found[0], p["name"], found[1]))
    if p["state"] == "present":
        trunkid = found[0] if found else next_free_id(row[0] for row in db.rows("SELECT `trunkid` FROM `trunks`"))
        planned = scopes(p, trunkid)
    elif found:
        trunkid, planned = found[0], scopes(p, found[0], present=False)
    else:
        return None, []
    for scope in planned:
        scope.load(db)
    return trunkid, planned
