# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""OML inbound and outbound routes as desired state, and OML's agents as dial numbers.

A route is matched by name. Only the fields the caller sets are compared; an update sends the
whole object (OML's update views are full PUTs) built from the current one. Routes are shown to
the user in plain words (name, did, destination, patterns, trunks), not OML's Spanish field
names.
"""

from __future__ import annotations

from ansible_collections.isp.ops.plugins.module_utils.omnileads.api import OmlError

API = "/api/v1/"
PATHS = {"inbound": API + "inbound_routes/", "outbound": API + "outbound_routes/"}
LIST_KEYS = {"inbound": "inboundRoutes", "outbound": "outboundRoutes"}
DESTINATIONS = PATHS["inbound"] + "destinations_by_type/"
SIP_TRUNKS = PATHS["outbound"] + "sip_trunks/"
ACTIVE_AGENTS = API + "active_agents/"
# DestinoEntrante.TIPOS_DESTINOS
DESTINATION_TYPES = {"campaign": 1, "time_condition": 2, "ivr": 3, "hangup": 5, "custom": 7, "customer_id": 9}
LANGUAGES = {"en": 1, "es": 2}
PATTERN_FIELDS = ("prepend", "prefix", "match_pattern")


def _listed(data, key, path):
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise OmlError(path, "the answer has no %r list (got %s)" % (key, type(data).__name__))
    return items


def list_routes(client, kind):
    return _listed(client.get(PATHS[kind]), LIST_KEYS[kind], PATHS[kind])


def find_route(client, kind, name):
    matches = [route for route in list_routes(client, kind) if route.get("nombre") == name]
    if len(matches) > 1:
        raise OmlError(PATHS[kind], "%d %s routes are named %r; rename all but one" % (len(matches), kind, name))
    return matches[0] if matches else None


def resolve_destination(client, destination_type, destination, destination_id):
    """The DestinoEntrante {id, nombre, tipo} named by type and name, or by id."""
    grouped = client.get(DESTINATIONS)
    grouped = grouped.get("inboundRoutesDestinations") if isinstance(grouped, dict) else None
    if not isinstance(grouped, dict):
        raise OmlError(DESTINATIONS, "the answer has no 'inboundRoutesDestinations' mapping")
    every = [d for items in grouped.values() for d in (items or [])]
    if destination_id is not None:
        found = [d for d in every if d.get("id") == destination_id]
        wanted = "id %s" % destination_id
    else:
        tipo = DESTINATION_TYPES[destination_type]
        candidates = grouped.get(str(tipo)) or []
        found = [d for d in candidates if d.get("nombre") == destination]
        wanted = "%s %r" % (destination_type, destination)
        every = candidates
    if not found:
        known = ", ".join(sorted(repr(d.get("nombre")) for d in every)) or "none"
        raise OmlError(DESTINATIONS, "no inbound destination %s in OML (known: %s)" % (wanted, known))
    return found[0]


def resolve_trunks(client, trunks):
    """OML trunk ids for names (or ids given as numbers), in order."""
    known = _listed(client.get(SIP_TRUNKS), "sipTrunks", SIP_TRUNKS)
    ids = []
    for trunk in trunks:
        found = [t for t in known if t.get("nombre") == trunk or str(t.get("id")) == str(trunk)]
        if not found:
            names = ", ".join(repr(t.get("nombre")) for t in known) or "none"
            raise OmlError(SIP_TRUNKS, "no SIP trunk %r in OML (known: %s). OML has no REST call for trunks: "
                           "register it in OML's web UI (Telephony > SIP trunks) before routing to it"
                           % (trunk, names))
        ids.append(found[0]["id"])
    return ids


def _pattern(item):
    if isinstance(item, str):
        item = {"match_pattern": item}
    return dict((field, (item.get(field) or None) if field != "match_pattern" else item.get(field))
                for field in PATTERN_FIELDS)


def desired_inbound(client, spec):
    """OML's RutaEntrante body for the fields the caller set (None = keep or OML's default)."""
    body = {"nombre": spec["name"]}
    if spec.get("did") is not None:
        body["telefono"] = spec["did"]
    if spec.get("language") is not None:
        body["idioma"] = LANGUAGES[spec["language"]]
    if spec.get("caller_id_prefix") is not None:
        body["prefijo_caller_id"] = spec["caller_id_prefix"] or None
    if spec.get("destination") is not None or spec.get("destination_id") is not None:
        body["destino"] = resolve_destination(client, spec.get("destination_type"), spec.get("destination"),
                                              spec.get("destination_id"))
    return body


def desired_outbound(client, spec):
    body = {"nombre": spec["name"]}
    if spec.get("ring_time") is not None:
        body["ring_time"] = spec["ring_time"]
    if spec.get("dial_options") is not None:
        body["dial_options"] = spec["dial_options"]
    if spec.get("patterns") is not None:
        body["patrones_de_discado"] = [_pattern(item) for item in spec["patterns"]]
    if spec.get("trunks") is not None:
        body["troncales"] = [{"troncal": pk} for pk in resolve_trunks(client, spec["trunks"])]
    return body


def comparable(kind, route):
    """A route (OML shape) in user terms, without OML's row ids: what diffs and compares."""
    if route is None:
        return {}
    if kind == "inbound":
        shown = {"name": route.get("nombre"), "did": route.get("telefono"),
                 "caller_id_prefix": route.get("prefijo_caller_id") or "",
                 "language": dict((v, k) for k, v in LANGUAGES.items()).get(route.get("idioma"), route.get("idioma"))}
        destination = route.get("destino")
        if isinstance(destination, dict):
            shown["destination"] = {"id": destination.get("id"), "name": destination.get("nombre"),
                                    "type": dict((v, k) for k, v in DESTINATION_TYPES.items()).get(
                                        destination.get("tipo"), destination.get("tipo"))}
        return dict((k, v) for k, v in shown.items() if v is not None)
    shown = {"name": route.get("nombre"), "ring_time": route.get("ring_time"), "dial_options": route.get("dial_options")}
    if "patrones_de_discado" in route:
        shown["patterns"] = [dict((f, p.get(f) or "") for f in PATTERN_FIELDS) for p in route["patrones_de_discado"]]
    if "troncales" in route:
        shown["trunk_ids"] = [t.get("troncal") for t in route["troncales"]]
    return dict((k, v) for k, v in shown.items() if v is not None)


def merged(kind, current, wanted):
    """The full PUT body: the current route with the wanted fields laid over it.

    Existing pattern and trunk rows keep their ids position by position, so OML updates them in
    place rather than deleting and recreating them.
    """
    body = dict((k, v) for k, v in current.items() if k != "id")
    body.update(wanted)
    if kind == "outbound":
        for field in ("patrones_de_discado", "troncales"):
            old = current.get(field) or []
            new = [dict(item) for item in body.get(field) or []]
            for index, item in enumerate(new):
                item["id"] = old[index].get("id") if index < len(old) else None
            body[field] = new
    return body


def fresh(kind, wanted):
    """A create body: required fields checked here so the error names the module option."""
    required = {"inbound": (("telefono", "did"), ("destino", "destination or destination_id")),
                "outbound": (("patrones_de_discado", "patterns"), ("troncales", "trunks"))}[kind]
    missing = [option for field, option in required if field not in wanted]
    if missing:
        raise OmlError(PATHS[kind] + "create/", "%s route %r does not exist yet; creating it needs %s"
                       % (kind, wanted["nombre"], " and ".join(missing)))
    body = dict(wanted)
    if kind == "inbound":
        body.setdefault("idioma", LANGUAGES["es"])
    return body


def wire(body):
    """What OML's serializer takes: the inbound destination by id only."""
    if isinstance(body.get("destino"), dict):
        body = dict(body, destino={"id": body["destino"].get("id")})
    return body


def ensure(client, kind, spec, state, check_mode):
    """Bring one route to `state`; returns (changed, before, after) in user terms."""
    current = find_route(client, kind, spec["name"])
    before = comparable(kind, current)
    base = PATHS[kind]
    if state == "absent":
        if current is None:
            return False, before, {}
        if not check_mode:
            client.call("DELETE", "%s%s/delete/" % (base, current["id"]))
        return True, before, {}
    wanted = desired_inbound(client, spec) if kind == "inbound" else desired_outbound(client, spec)
    if current is None:
        body = fresh(kind, wanted)
        if not check_mode:
            client.call("POST", base + "create/", wire(body))
            current = find_route(client, kind, spec["name"])  # the create answer carries no id
            if current is None:
                raise OmlError(base, "OML accepted %s route %r but does not list it" % (kind, spec["name"]))
            return True, before, comparable(kind, current)
        return True, before, comparable(kind, body)
    body = merged(kind, current, wanted)
    after = comparable(kind, body)
    if after == before:
        return False, before, before
    if not check_mode:
        client.call("PUT", "%s%s/update/" % (base, current["id"]), wire(body))
        after = comparable(kind, find_route(client, kind, spec["name"]))
    return True, before, after


def agents(client, wanted=None):
    """Active agents with their dial number: SIP extension followed by the agent id (1006 + 1 -> 10061).

    `wanted` filters by username or agent id; a name OML does not know is an error.
    """
    listed = _listed(client.get(ACTIVE_AGENTS), "activeAgents", ACTIVE_AGENTS)
    result = []
    for item in listed:
        sip = str(item.get("agent_sip_id") or "").rpartition("/")[2]
        if not sip.isdigit() or item.get("agent_id") is None:
            raise OmlError(ACTIVE_AGENTS, "agent entry without a SIP extension or id: %r" % (item,))
        result.append({"id": item["agent_id"], "username": item.get("agent_username"),
                       "full_name": item.get("agent_full_name"), "sip_extension": sip,
                       "dial_number": "%s%s" % (sip, item["agent_id"])})
    if wanted:
        keys = set(str(w) for w in wanted)
        unknown = keys - set(str(a["id"]) for a in result) - set(a["username"] for a in result)
        if unknown:
            raise OmlError(ACTIVE_AGENTS, "no active agent %s in OML (known: %s)" % (
                ", ".join(sorted(unknown)), ", ".join(a["username"] for a in result) or "none"))
        result = [a for a in result if str(a["id"]) in keys or a["username"] in keys]
    return result
