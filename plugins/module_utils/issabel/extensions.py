# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issabel custom extensions that dial OMniLeads DIDs and agents over the trunk, and the outbound
route towards OML agents: as dialplan in extensions_custom.conf, or as the GUI's rows + AstDB keys.

A custom extension is what the GUI calls a "custom" device: `devices.tech='custom'` with a literal
dial string, plus a `users` row. Issabel's dialplan (macro-exten-vm / macro-dial) looks the device
and its dial string up in AstDB (`AMPUSER/<ext>/device`, `DEVICE/<ext>/dial`), which only
core_devices_add() writes, so database mode writes those keys through the Asterisk CLI or AMI.
"""

from __future__ import annotations

import os
import re

from .db import Scope
from .files import BlockEdit
from .trunk import find_trunk

CONF_FILE = "extensions_custom.conf"
_EXTENSION = re.compile(r"^[0-9]{2,15}$")
_NUMBER = re.compile(r"^\+?[0-9*#]{1,32}$")
_PATTERN = re.compile(r"^[0-9XZN.!\[\]*#-]{1,40}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
_LABEL_UNSAFE = re.compile(r"[;\"\\\r\n\x00]")
_ASTDB_LINE = re.compile(r"^/(\w+)/([^:]+?)\s*:\s?(.*)$")

DEVICE_COLUMNS = ("id", "tech", "dial", "devicetype", "user", "description", "emergency_cid")
USER_COLUMNS = ("extension", "password", "name", "voicemail", "ringtimer", "noanswer", "recording", "outboundcid",
                "sipname", "noanswer_cid", "busy_cid", "chanunavail_cid", "noanswer_dest", "busy_dest",
                "chanunavail_dest", "mohclass")
ROUTE_COLUMNS = ("route_id", "name", "outcid", "outcid_mode", "password", "emergency_route", "intracompany_route",
                 "mohclass", "time_group_id", "dest")


class ExtensionError(ValueError):
    """Bad options, or an extension that belongs to something else; the text names it."""


def check(params):
    """Validate the options; return (extensions, route) normalised. Raises ExtensionError."""
    if not _NAME.match(params["trunk"] or ""):
        raise ExtensionError("trunk: %r is not a trunk name" % params["trunk"])
    seen = set()
    extensions = []
    for index, item in enumerate(params["extensions"] or []):
        where = "extensions[%d]" % index
        extension = str(item.get("extension") or "")
        if not _EXTENSION.match(extension):
            raise ExtensionError("%s.extension: %r is not an extension number" % (where, extension))
        if extension in seen:
            raise ExtensionError("%s.extension: %s is listed twice" % (where, extension))
        seen.add(extension)
        number = str(item.get("number") or "")
        if params["state"] == "present" and not _NUMBER.match(number):
            raise ExtensionError("%s.number: %r is not a dialable number" % (where, number))
        name = item.get("name") or "OML %s" % number
        if _LABEL_UNSAFE.search(name) or len(name) > 50:
            raise ExtensionError("%s.name: at most 50 characters, without ; \" \\ or line breaks" % where)
        extensions.append(dict(extension=extension, number=number, name=name))
    route = params.get("outbound_route")
    if route:
        if not _NAME.match(route.get("name") or ""):
            raise ExtensionError("outbound_route.name: %r is not a route name" % route.get("name"))
        patterns = route.get("patterns") or []
        if params["state"] == "present" and not patterns:
            raise ExtensionError("outbound_route.patterns: at least one dial pattern is needed")
        for index, pattern in enumerate(patterns):
            if not _PATTERN.match(pattern):
                raise ExtensionError("outbound_route.patterns[%d]: %r is not a dial pattern" % (index, pattern))
        route = dict(name=route["name"], patterns=list(patterns), trunk=route.get("trunk") or params["trunk"])
    return extensions, route


def dial_string(technology, trunk, number):
    """What a custom extension dials: SIP/<trunk>/<number> or PJSIP/<number>@<trunk>."""
    if technology == "pjsip":
        return "PJSIP/%s@%s" % (number, trunk)
    return "SIP/%s/%s" % (trunk, number)


def context_name(trunk):
    return "isp-ops-" + trunk


def render_dialplan(params, extensions, route):
    """The managed block: our own context, included from params["include_from"]."""
    context = context_name(params["trunk"])
    lines = ["[%s]" % context]
    for item in extensions:
        dial = dial_string(params["technology"], params["trunk"], item["number"])
        lines += ["; %s" % item["name"], "exten => %s,1,Dial(%s)" % (item["extension"], dial), " same => n,Hangup()"]
    if route:
        for pattern in route["patterns"]:
            lines += ["; outbound route %s" % route["name"],
                      "exten => _%s,1,Dial(%s)" % (pattern, dial_string(params["technology"], route["trunk"], "${EXTEN}")),
                      " same => n,Hangup()"]
    lines += ["", "[%s]" % params["include_from"], "include => %s" % context]
    return "\n".join(lines) + "\n"


def plan_custom_conf(params, extensions, route):
    body = render_dialplan(params, extensions, route) if params["state"] == "present" else None
    return BlockEdit(os.path.join(params["config_dir"], CONF_FILE), "custom-extensions/" + params["trunk"], body)


# ---- database mode ----------------------------------------------------------------------------

def _device_row(params, item):
    dial = dial_string(params["technology"], params["trunk"], item["number"])
    return (item["extension"], "custom", dial, "fixed", item["extension"], item["name"], "")


def _user_row(item):
    return (item["extension"], "", item["name"], "novm", 0, "", "", "", "", "", "", "", "", "", "", "default")


def extension_scopes(db, params, extensions):
    """(scopes, extensions that are ours to write or delete)."""
    present = params["state"] == "present"
    planned, owned = [], set()
    for item in extensions:
        extension = item["extension"]
        devices = db.rows("SELECT `tech` FROM `devices` WHERE `id` = %s", (extension,))
        users = db.rows("SELECT `extension` FROM `users` WHERE `extension` = %s", (extension,))
        foreign = [row[0] for row in devices if row[0] != "custom"]
        if foreign or (users and not devices):
            what = "a %s device" % foreign[0] if foreign else "a user without a custom device"
            if present:
                raise ExtensionError("extension %s is already %s; not replacing it" % (extension, what))
            continue  # not ours: absent leaves it alone
        owned.add(extension)
        planned += [
            Scope("devices", {"id": extension}, DEVICE_COLUMNS, [_device_row(params, item)] if present else []),
            Scope("users", {"extension": extension}, USER_COLUMNS, [_user_row(item)] if present else []),
        ]
    for scope in planned:
        scope.load(db)
    return planned, owned


class RoutePlan(object):
    """The outbound route `route["name"]`: its four tables, for an existing or a new route id."""

    def __init__(self, db, route, present):
        self.route = route
        self.present = present
        ids = [row[0] for row in db.rows("SELECT `route_id` FROM `outbound_routes` WHERE `name` = %s", (route["name"],))]
        if len(ids) > 1:
            raise ExtensionError("outbound_route.name: routes %s are all named %s" % (ids, route["name"]))
        self.route_id = int(ids[0]) if ids else None
        self.trunk_id = None
        if present:
            found = find_trunk(db, route["trunk"])
            if not found:
                raise ExtensionError("outbound_route.trunk: no trunk named %s in the trunks table; create it with "
                                     "isp.ops.issabel_trunk mode=database first" % route["trunk"])
            self.trunk_id = found[0]
        sequence = db.rows("SELECT `seq` FROM `outbound_route_sequence` WHERE `route_id` = %s", (self.route_id or -1,))
        if sequence:
            self.seq = int(sequence[0][0])
        else:  # a new route goes last, as the GUI adds it
            self.seq = int(db.rows("SELECT COALESCE(MAX(`seq`), -1) + 1 FROM `outbound_route_sequence`")[0][0])
        self.scopes = self.build(db, self.route_id)

    def build(self, db, route_id):
        rid = route_id if route_id is not None else "new"
        want = self.present
        scopes = [
            Scope("outbound_routes", {"route_id": rid}, ROUTE_COLUMNS,
                  [(rid, self.route["name"], "", "", "", "", "", "default", None, "")] if want else []),
            Scope("outbound_route_patterns", {"route_id": rid},
                  ("route_id", "match_pattern_prefix", "match_pattern_pass", "match_cid", "prepend_digits"),
                  [(rid, "", pattern, "", "") for pattern in self.route["patterns"]] if want else []),
            Scope("outbound_route_trunks", {"route_id": rid}, ("route_id", "trunk_id", "seq"),
                  [(rid, self.trunk_id, 0)] if want else []),
            Scope("outbound_route_sequence", {"route_id": rid}, ("route_id", "seq"), [(rid, self.seq)] if want else []),
        ]
        for scope in scopes:
            if route_id is None:
                scope.current = []
            else:
                scope.load(db)
        return scopes

    def apply(self, db):
        """Write the route; a new one first gets its AUTO_INCREMENT id."""
        if self.route_id is None:
            if not self.present:
                return
            self.route_id = db.execute("INSERT INTO `outbound_routes` (`name`) VALUES (%s)", (self.route["name"],))
            self.scopes = self.build(db, self.route_id)
        for scope in self.scopes:
            if scope.changed:
                scope.apply(db)


# ---- AstDB ------------------------------------------------------------------------------------

def astdb_keys(params, item):
    """{(family, key): value} that core_devices_add/core_users_add write for a custom extension."""
    extension = item["extension"]
    dial = dial_string(params["technology"], params["trunk"], item["number"])
    return {
        ("AMPUSER", extension + "/device"): extension,
        ("AMPUSER", extension + "/cidname"): item["name"],
        ("AMPUSER", extension + "/cidnum"): extension,
        ("AMPUSER", extension + "/voicemail"): "novm",
        ("DEVICE", extension + "/dial"): dial,
        ("DEVICE", extension + "/type"): "fixed",
        ("DEVICE", extension + "/user"): extension,
        ("DEVICE", extension + "/default_user"): extension,
    }


def parse_database_show(output):
    """{(family, key): value} from `database show <family>` output."""
    entries = {}
    for line in output.splitlines():
        match = _ASTDB_LINE.match(line.strip())
        if match:
            entries[(match.group(1), match.group(2).strip())] = match.group(3).rstrip()
    return entries


def plan_astdb(control, params, extensions, owned):
    """CLI commands that bring AstDB in line, for the extensions in `owned` (those not foreign)."""
    current = {}
    for family in ("AMPUSER", "DEVICE"):
        current.update(parse_database_show(control.command("database show %s" % family)))
    commands = []
    for item in extensions:
        if item["extension"] not in owned:
            continue
        if params["state"] == "present":
            for (family, key), value in sorted(astdb_keys(params, item).items()):
                if current.get((family, key)) != value:
                    commands.append('database put %s %s "%s"' % (family, key, value))
        else:
            for family in ("AMPUSER", "DEVICE"):
                if any(f == family and k.startswith(item["extension"] + "/") for f, k in current):
                    commands.append("database deltree %s/%s" % (family, item["extension"]))
    return commands
