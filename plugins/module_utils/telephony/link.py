# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One `pbx_link` definition -> the Issabel (PBX) side and the OMniLeads (OML) side of the trunk.

Both sides are derived from the same validated data, so they cannot disagree: one credential set
(the PBX authenticates to OML as `credentials.username`; OML authenticates to the PBX as the PBX
trunk name, which is the chan_sip peer name chan_sip checks; both use `credentials.secret`), one
codec list, one DTMF mode, one set of addresses and ports.

Input (`pbx_link`):

    scenario: lan | cloud | docker
    pbx:
      address: 192.0.2.10          # where OML reaches the PBX (OML remote_hosts)
      port: 5060                   # PBX SIP port OML expects calls from; default 5060 (sip), 5066 (pjsip)
      trunk_name: omnileads        # trunk on Issabel (chan_sip peer / PJSIP endpoint); default omnileads
      technology: sip | pjsip      # default sip (chan_sip, Issabel on Asterisk <= 20)
      transport: transport-udp     # pjsip only, optional
    oml:
      address: 192.0.2.20          # where the PBX reaches OML; docker: defaults to pbx.address
      port: 5161                   # OML trunk transport; default 5161 lan / 5162 cloud / 5163 docker
      trunk_name: issabel          # wizard section on OML; default issabel
    credentials: {username: issabel, secret: ...}
    codecs: [alaw, ulaw]
    dtmf_mode: rfc4733             # rfc4733 | inband | info | auto
    qualify_frequency: 60
    contexts: {pbx: from-internal, oml: from-pbx}
    dids: ['098098', {did: '098099', extension: '7002', name: Sales}]
    agents: all | [{id: 1, sip_extension: 1006, extension: '7101', name: Adrian}]
    agent_patterns: ['1XXX.']      # PBX outbound route towards OML agents
    route_name: omnileads-agents

Errors raise LinkError whose message starts with the field path, e.g. `pbx_link.oml.port: ...`.
"""

from __future__ import annotations

import ipaddress
import re

SCENARIOS = ("lan", "cloud", "docker")
TECHNOLOGIES = ("sip", "pjsip")
DTMF_MODES = ("rfc4733", "inband", "info", "auto")

# Per scenario: the OML template (seed "plantilla PBX LAN / PBX WAN / Docker"), its transport,
# the port that transport binds in OML 1.x (the seed's Issabel `port`), and the NAT switches.
SCENARIO_DEFAULTS = {
    "lan": dict(template="pbx_lan", transport="trunk-transport", port=5161,
                rtp_symmetric=False, force_rport=False, rewrite_contact=False),
    "cloud": dict(template="pbx_wan", transport="trunk-nat-transport", port=5162,
                  rtp_symmetric=True, force_rport=True, rewrite_contact=False),
    "docker": dict(template="docker", transport="trunk-nat-docker-transport", port=5163,
                   rtp_symmetric=True, force_rport=True, rewrite_contact=True),
}
# Issabel keeps 5060 for chan_sip and binds its generated PJSIP transports on 5066 (reference B.1).
PBX_PORT_DEFAULT = {"sip": 5060, "pjsip": 5066}
# chan_sip spells RFC 4733 by its older RFC number.
CHAN_SIP_DTMF = {"rfc4733": "rfc2833", "inband": "inband", "info": "info", "auto": "auto"}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$")
_CODEC = re.compile(r"^[a-z0-9_]{2,20}$")
_NUMBER = re.compile(r"^\+?[0-9*#]{1,32}$")
_EXTENSION = re.compile(r"^[0-9]{2,15}$")
_PATTERN = re.compile(r"^[0-9XZN.!\[\]*#-]{1,40}$")  # Issabel pattern, no "+"/"|" (prepend/prefix)
# A value that would break a config line or an SQL-free text field.
_UNSAFE = re.compile(r"[;\r\n\x00\[\]]")

_TOP_KEYS = {"scenario", "pbx", "oml", "credentials", "codecs", "dtmf_mode", "qualify_frequency",
             "contexts", "dids", "agents", "agent_patterns", "route_name"}


class LinkError(ValueError):
    """A bad pbx_link; the message starts with the field path."""

    def __init__(self, path, message):
        super().__init__("%s: %s" % (path, message))
        self.path = path


def _mapping(value, path, allowed):
    if not isinstance(value, dict):
        raise LinkError(path, "must be a mapping, got %s" % type(value).__name__)
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise LinkError("%s.%s" % (path, unknown[0]), "unknown key (allowed: %s)" % ", ".join(sorted(allowed)))
    return value


def _text(value, path, pattern=None, what="a string"):
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise LinkError(path, "must be %s" % what)
    text = str(value).strip()
    if not text:
        raise LinkError(path, "must not be empty")
    if pattern is not None and not pattern.match(text):
        raise LinkError(path, "%r is not %s" % (text, what))
    return text


def _address(value, path):
    text = _text(value, path, what="an IP address or host name")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if not _HOST.match(text):
        raise LinkError(path, "%r is not an IP address or host name" % text)
    return text


def _port(value, path):
    if isinstance(value, bool):
        raise LinkError(path, "must be a port number")
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise LinkError(path, "%r is not a port number" % (value,))
    if not 1 <= port <= 65535:
        raise LinkError(path, "%d is outside 1-65535" % port)
    return port


def _secret(value, path):
    text = _text(value, path)
    if _UNSAFE.search(text) or text != str(value):
        raise LinkError(path, "must not contain ';', brackets, line breaks or surrounding spaces")
    return text


def _dids(value, path):
    if value is None:
        return []
    if not isinstance(value, list):
        raise LinkError(path, "must be a list")
    dids = []
    for index, item in enumerate(value):
        item_path = "%s[%d]" % (path, index)
        if isinstance(item, dict):
            _mapping(item, item_path, ("did", "extension", "name"))
            if "did" not in item:
                raise LinkError(item_path + ".did", "is required")
            did = _text(item["did"], item_path + ".did", _NUMBER, "a dialable number")
            extension = _text(item.get("extension", did), item_path + ".extension", _EXTENSION, "an extension number")
            name = _secret(item.get("name", "OML DID %s" % did), item_path + ".name")
        else:
            did = _text(item, item_path, _NUMBER, "a dialable number")
            extension, name = did, "OML DID %s" % did
            if not _EXTENSION.match(extension):
                raise LinkError(item_path, "%r cannot be an extension number; give {did, extension}" % did)
        dids.append(dict(did=did, extension=extension, name=name))
    return dids


def _agents(value, path):
    if value in (None, "all"):
        return value or "all"
    if not isinstance(value, list):
        raise LinkError(path, "must be 'all' or a list of {id, sip_extension}")
    agents = []
    for index, item in enumerate(value):
        item_path = "%s[%d]" % (path, index)
        _mapping(item, item_path, ("id", "sip_extension", "extension", "name"))
        for key in ("id", "sip_extension"):
            if key not in item:
                raise LinkError("%s.%s" % (item_path, key), "is required")
        agent_id = _text(item["id"], item_path + ".id", re.compile(r"^[0-9]{1,9}$"), "an agent id")
        sip = _text(item["sip_extension"], item_path + ".sip_extension", re.compile(r"^[0-9]{2,9}$"),
                    "a SIP extension number")
        # OML: an agent is dialled as its SIP number followed by its agent id (1006 + 1 -> 10061).
        number = sip + agent_id
        extension = _text(item.get("extension", number), item_path + ".extension", _EXTENSION, "an extension number")
        name = _secret(item.get("name", "OML agent %s" % agent_id), item_path + ".name")
        agents.append(dict(id=int(agent_id), sip_extension=sip, number=number, extension=extension, name=name))
    return agents


def derive(pbx_link):
    """Validate `pbx_link` and return dict(pbx=..., oml=...). Raises LinkError."""
    link = _mapping(pbx_link, "pbx_link", _TOP_KEYS)
    for key in ("scenario", "pbx", "credentials"):
        if key not in link:
            raise LinkError("pbx_link." + key, "is required")
    scenario = _text(link["scenario"], "pbx_link.scenario")
    if scenario not in SCENARIOS:
        raise LinkError("pbx_link.scenario", "%r is not one of %s" % (scenario, ", ".join(SCENARIOS)))
    defaults = SCENARIO_DEFAULTS[scenario]

    pbx_in = _mapping(link["pbx"], "pbx_link.pbx", ("address", "port", "trunk_name", "technology", "transport"))
    oml_in = _mapping(link.get("oml") or {}, "pbx_link.oml", ("address", "port", "trunk_name"))
    creds = _mapping(link["credentials"], "pbx_link.credentials", ("username", "secret"))

    if "address" not in pbx_in:
        raise LinkError("pbx_link.pbx.address", "is required")
    pbx_address = _address(pbx_in["address"], "pbx_link.pbx.address")
    technology = _text(pbx_in.get("technology", "sip"), "pbx_link.pbx.technology")
    if technology not in TECHNOLOGIES:
        raise LinkError("pbx_link.pbx.technology", "%r is not one of sip, pjsip" % technology)
    pbx_port = _port(pbx_in.get("port", PBX_PORT_DEFAULT[technology]), "pbx_link.pbx.port")
    pbx_trunk = _text(pbx_in.get("trunk_name", "omnileads"), "pbx_link.pbx.trunk_name", _NAME, "a trunk name")
    transport = pbx_in.get("transport")
    if transport is not None:
        transport = _text(transport, "pbx_link.pbx.transport", _NAME, "a transport name")

    if "address" in oml_in:
        oml_address = _address(oml_in["address"], "pbx_link.oml.address")
    elif scenario == "docker":
        oml_address = pbx_address  # OML runs in Docker on the PBX host (seed: host=PBX IP)
    else:
        raise LinkError("pbx_link.oml.address", "is required for scenario %s" % scenario)
    oml_port = _port(oml_in.get("port", defaults["port"]), "pbx_link.oml.port")
    oml_trunk = _text(oml_in.get("trunk_name", "issabel"), "pbx_link.oml.trunk_name", _NAME, "a trunk name")

    for key in ("username", "secret"):
        if key not in creds:
            raise LinkError("pbx_link.credentials." + key, "is required")
    username = _text(creds["username"], "pbx_link.credentials.username", _NAME, "a SIP user name")
    secret = _secret(creds["secret"], "pbx_link.credentials.secret")

    codecs_in = link.get("codecs", ["alaw", "ulaw"])
    if not isinstance(codecs_in, list) or not codecs_in:
        raise LinkError("pbx_link.codecs", "must be a non-empty list")
    codecs = [_text(c, "pbx_link.codecs[%d]" % i, _CODEC, "a codec name") for i, c in enumerate(codecs_in)]
    if len(set(codecs)) != len(codecs):
        raise LinkError("pbx_link.codecs", "lists a codec twice")
    dtmf_mode = _text(link.get("dtmf_mode", "rfc4733"), "pbx_link.dtmf_mode")
    if dtmf_mode not in DTMF_MODES:
        raise LinkError("pbx_link.dtmf_mode", "%r is not one of %s" % (dtmf_mode, ", ".join(DTMF_MODES)))
    qualify = link.get("qualify_frequency", 60)
    if isinstance(qualify, bool) or not isinstance(qualify, int) or not 0 <= qualify <= 86400:
        raise LinkError("pbx_link.qualify_frequency", "must be seconds between 0 and 86400")
    contexts = _mapping(link.get("contexts") or {}, "pbx_link.contexts", ("pbx", "oml"))
    pbx_context = _text(contexts.get("pbx", "from-internal"), "pbx_link.contexts.pbx", _NAME, "a context name")
    oml_context = _text(contexts.get("oml", "from-pbx"), "pbx_link.contexts.oml", _NAME, "a context name")

    dids = _dids(link.get("dids"), "pbx_link.dids")
    agents = _agents(link.get("agents", "all"), "pbx_link.agents")
    patterns_in = link.get("agent_patterns", ["1XXX."])
    if not isinstance(patterns_in, list):
        raise LinkError("pbx_link.agent_patterns", "must be a list")
    patterns = [_text(p, "pbx_link.agent_patterns[%d]" % i, _PATTERN, "a dial pattern") for i, p in enumerate(patterns_in)]
    route_name = _text(link.get("route_name", "omnileads-agents"), "pbx_link.route_name", _NAME, "a route name")

    extensions = [dict(extension=d["extension"], name=d["name"], number=d["did"], kind="did") for d in dids]
    if agents != "all":
        extensions += [dict(extension=a["extension"], name=a["name"], number=a["number"], kind="agent") for a in agents]
    seen = {}
    for item in extensions:
        if item["extension"] in seen:
            raise LinkError("pbx_link", "extension %s is used by both %s and %s"
                            % (item["extension"], seen[item["extension"]], item["name"]))
        seen[item["extension"]] = item["name"]

    pbx = dict(
        scenario=scenario,
        technology=technology,
        trunk_name=pbx_trunk,
        host=oml_address,
        port=oml_port,
        username=username,
        secret=secret,
        # OML authenticates to the PBX with the PBX trunk name (chan_sip checks the peer name).
        peer_username=pbx_trunk,
        codecs=codecs,
        dtmf_mode=dtmf_mode,
        context=pbx_context,
        qualify_frequency=qualify,
        transport=transport,
        custom_extensions=extensions,
        outbound_route=dict(name=route_name, patterns=patterns, trunk=pbx_trunk),
        oml_address=oml_address,
        oml_port=oml_port,
        address=pbx_address,
        local_port=pbx_port,
    )
    oml = dict(
        scenario=scenario,
        trunk_name=oml_trunk,
        template=defaults["template"],
        transport=defaults["transport"],
        port=oml_port,
        address=oml_address,
        accepts_registrations=False,
        sends_registrations=False,
        accepts_auth=True,
        sends_auth=True,
        rtp_symmetric=defaults["rtp_symmetric"],
        force_rport=defaults["force_rport"],
        rewrite_contact=defaults["rewrite_contact"],
        timers=True,
        qualify_frequency=qualify,
        codecs=codecs,
        dtmf_mode=dtmf_mode,
        context=oml_context,
        remote_hosts=["%s:%d" % (_host_port(pbx_address), pbx_port)],
        inbound_auth=dict(username=username, password=secret),
        outbound_auth=dict(username=pbx_trunk, password=secret),
        from_user=pbx_trunk,
        dids=dids,
        agents=agents,
        pbx_address=pbx_address,
        pbx_port=pbx_port,
    )
    return dict(pbx=pbx, oml=oml)


def _host_port(address):
    """IPv6 literals need brackets in host:port."""
    return "[%s]" % address if ":" in address else address


def wizard_lines(oml):
    """The OML side as the seed's wizard key=value lines, in the seed's order."""
    yes = {True: "yes", False: "no"}
    lines = [
        ("type", "wizard"),
        ("transport", oml["transport"]),
        ("accepts_registrations", yes[oml["accepts_registrations"]]),
        ("sends_auth", yes[oml["sends_auth"]]),
        ("sends_registrations", yes[oml["sends_registrations"]]),
        ("accepts_auth", yes[oml["accepts_auth"]]),
        ("endpoint/rtp_symmetric", yes[oml["rtp_symmetric"]]),
        ("endpoint/force_rport", yes[oml["force_rport"]]),
        ("endpoint/rewrite_contact", yes[oml["rewrite_contact"]]),
        ("endpoint/timers", yes[oml["timers"]]),
        ("aor/qualify_frequency", str(oml["qualify_frequency"])),
        ("endpoint/allow", ",".join(oml["codecs"])),
        ("endpoint/dtmf_mode", oml["dtmf_mode"]),
        ("endpoint/context", oml["context"]),
        ("remote_hosts", ",".join(oml["remote_hosts"])),
        ("inbound_auth/username", oml["inbound_auth"]["username"]),
        ("inbound_auth/password", oml["inbound_auth"]["password"]),
        ("outbound_auth/username", oml["outbound_auth"]["username"]),
        ("outbound_auth/password", oml["outbound_auth"]["password"]),
        ("endpoint/from_user", oml["from_user"]),
    ]
    return lines
