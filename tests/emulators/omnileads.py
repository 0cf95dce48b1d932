# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""OMniLeads (OML) REST API emulator: login, inbound/outbound routes, SIP trunks, agents.

It follows ominicontacto's api_app (Release 2.x) as read from the source:
- ``POST /api/v1/login`` {username, password} -> {user, expires_in, token}; a wrong password is
  HTTP 404 {"detail": "Invalid Credentials or activate account"}, a missing field HTTP 400.
- Every other call needs ``Authorization: Bearer <token>``. The views list SessionAuthentication
  first, which has no WWW-Authenticate header, so DRF answers a missing, unknown or expired token
  with HTTP 403 {"detail": ...}, not 401.
- Routes: ``<kind>_routes/`` (list, wrapped: {status, message, inboundRoutes|outboundRoutes}),
  ``create/`` (POST), ``<pk>/`` (GET), ``<pk>/update/`` (PUT, a full update), ``<pk>/delete/``
  (DELETE). Writes answer {status, errors, message} without the new id. A serializer error is
  HTTP 400 {status: ERROR, message, errors: {field: [..]}}; an unknown pk or an unknown inbound
  destination id is HTTP 500 (the views catch DoesNotExist that way). No pagination.
- ``outbound_routes/sip_trunks/`` lists {id, nombre}; ``inbound_routes/destinations_by_type/``
  lists destinations per type id; ``agent/list`` (a plain list) and ``active_agents/`` (with
  ``agent_sip_id`` "SIP/<sip_extension>", sip_extension = 1000 + user id).
Trunks and agents have no REST writes in OML; the emulator is seeded with them.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import threading

from tests.emulators.httpbase import CONTROL_PREFIX, EmulatorServer, Reply

API = "/api/v1/"
LOGIN = API + "login"
INBOUND = API + "inbound_routes/"
OUTBOUND = API + "outbound_routes/"
DESTINATIONS = INBOUND + "destinations_by_type/"
SIP_TRUNKS = OUTBOUND + "sip_trunks/"
AGENT_LIST = API + "agent/list"
ACTIVE_AGENTS = API + "active_agents/"
# DestinoEntrante.TIPOS_DESTINOS ids, in the order destinations_by_type lists them
DESTINATION_TYPES = (1, 2, 3, 5, 9, 7)
R_MATCH_PATTERN = re.compile(r"^[\w|\.|\[|\]|-]+$")
R_ALPHANUMERIC = re.compile(r"^[\w]+$")
R_DIAL_OPT = re.compile(r"^[HhKkRrL():MATtWw]+$")
R_DECIMAL = re.compile(r"^\d+$")
REQUIRED = "This field is required."
INVALID = "Enter a valid value."
ITEM_PATH = re.compile(r"^(?P<base>%s(?:inbound|outbound)_routes/)(?P<pk>\d+)/(?P<action>update/|delete/)?$"
                       % re.escape(API))

SEED_AGENTS = (  # (agent id, user id, username, full name): the seed's two agents, SIP 1006 and 1007
    (1, 6, "abelew", "Adrian Belew"),
    (2, 7, "mackerfeldt", "Mikael Ackerfeldt"),
)
SEED_DESTINATIONS = ((1, 1, "Ventas"), (2, 1, "Soporte"), (3, 3, "IVR principal"), (4, 5, "HangUp"))


def _max_length(value, limit):
    return None if len(value) <= limit else "Ensure this field has no more than %d characters." % limit


class OmniLeadsEmulator(EmulatorServer):
    """OML's api_app with token login, route CRUD and DRF-style validation on loopback."""

    name = "omnileads"

    def __init__(self, username="admin", password="admin-pass", trunks=("issabel",), **server_options):
        self.username, self.password = username, password
        self._tokens = set()
        self._state_lock = threading.RLock()
        self.trunks = [{"id": index, "nombre": name} for index, name in enumerate(trunks, 1)]
        self.destinations = [{"id": pk, "nombre": nombre, "tipo": tipo} for pk, tipo, nombre in SEED_DESTINATIONS]
        self.agents = [{"id": agent, "user_id": user, "username": login, "full_name": full}
                       for agent, user, login, full in SEED_AGENTS]
        self.routes_by_kind = {INBOUND: {}, OUTBOUND: {}}
        self._next_id = {INBOUND: 1, OUTBOUND: 1, "pattern": 1, "trunk_order": 1}
        super().__init__(**server_options)

    # --- read-only payloads (also what a "truncated" fault cuts in half) ------------------
    def routes(self) -> dict:
        return {
            INBOUND: self.inbound_list, OUTBOUND: self.outbound_list, SIP_TRUNKS: self.sip_trunks,
            DESTINATIONS: self.destinations_by_type, AGENT_LIST: self.agent_list, ACTIVE_AGENTS: self.active_agents,
        }

    def render(self, path: str, query: dict | None = None) -> tuple[bytes, bool]:
        """No cache: the routes change under the emulator's feet."""
        return self.encode(self._routes[path](query or {}))

    def inbound_list(self, query):
        with self._state_lock:
            items = [dict(route) for pk, route in sorted(self.routes_by_kind[INBOUND].items())]
        return {"status": "SUCCESS", "message": "Se obtuvieron las rutas entrantes de forma exitosa",
                "inboundRoutes": items}

    def outbound_list(self, query):
        with self._state_lock:
            items = [json.loads(json.dumps(route)) for pk, route in sorted(self.routes_by_kind[OUTBOUND].items())]
        return {"status": "SUCCESS", "message": "Se obtuvieron las rutas entrantes de forma exitosa",
                "outboundRoutes": items}

    def sip_trunks(self, query):
        return {"status": "SUCCESS", "message": "Se obtuvieron las troncales sip de forma exitosa",
                "sipTrunks": list(self.trunks)}

    def destinations_by_type(self, query):
        grouped = {str(kind): [d for d in self.destinations if d["tipo"] == kind] for kind in DESTINATION_TYPES}
        return {"status": "SUCCESS", "message": "Se obtuvo la informacion de los destinos de forma exitosa",
                "inboundRoutesDestinations": grouped}

    def agent_list(self, query):
        return [{"id": a["id"], "username": a["username"], "full_name": a["full_name"], "group": 1}
                for a in self.agents]

    def active_agents(self, query):
        active = [{"agent_id": a["id"], "agent_username": a["username"], "agent_full_name": a["full_name"],
                   "agent_sip_id": "SIP/%d" % (1000 + a["user_id"]), "agent_penalty": 0} for a in self.agents]
        return {"status": "SUCCESS", "message": "Se obtuvieron los agentes de forma exitosa",
                "activeAgents": active, "groups": [{"group": {"id": 1, "nombre": "Grupo 1"}, "agents": active}]}

    # --- auth ----------------------------------------------------------------------------------
    def _auth_failure(self, headers):
        """DRF's 403 detail for a request without a valid Bearer token, or None."""
        header = headers.get("Authorization") or ""
        scheme, dummy, token = header.partition(" ")
        if not header:
            return "Authentication credentials were not provided."
        if scheme != "Bearer" or not token.strip():
            return "Authentication credentials were not provided."
        with self._state_lock:
            known = any(hmac.compare_digest(token.strip(), t) for t in self._tokens)
        return None if known else "Invalid Token"

    def expire_tokens(self) -> None:
        """Every issued token becomes unknown, as after TOKEN_EXPIRED_AFTER_SECONDS."""
        with self._state_lock:
            self._tokens.clear()

    def _login(self, method, body):
        if method != "POST":
            return self._json_reply(405, {"detail": 'Method "%s" not allowed.' % method})
        data, error = self._json_body(body)
        if error:
            return error
        missing = {field: [REQUIRED if data.get(field) is None else "This field may not be blank."]
                   for field in ("username", "password") if not data.get(field)}
        if missing:
            return self._json_reply(400, missing)
        good = (hmac.compare_digest(str(data["username"]), self.username)
                and hmac.compare_digest(str(data["password"]), self.password))
        if not good:
            return self._json_reply(404, {"detail": "Invalid Credentials or activate account"})
        token = secrets.token_hex(20)
        with self._state_lock:
            self._tokens.add(token)
        return self._json_reply(200, {"user": {"id": 1, "username": self.username}, "expires_in": "8:59:59.999",
                                      "token": token})

    # --- dispatch ----------------------------------------------------------------------------
    def _normal_reply(self, handler, path: str, query: dict) -> Reply:
        method, body = handler.command, getattr(handler, "request_body", b"")
        if path == LOGIN:
            return self._login(method, body)
        failure = self._auth_failure(handler.headers)
        if failure:
            return self._json_reply(403, {"detail": failure})
        with self._state_lock:
            return self._api_reply(method, path, query, body)

    def _api_reply(self, method, path, query, body):
        if path in self._routes:
            if method != "GET":
                return self._json_reply(405, {"detail": 'Method "%s" not allowed.' % method})
            return self._json_reply(200, self._routes[path](query))
        for base in (INBOUND, OUTBOUND):
            if path == base + "create/":
                if method != "POST":
                    return self._json_reply(405, {"detail": 'Method "%s" not allowed.' % method})
                return self._save(base, None, body)
        match = ITEM_PATH.match(path)
        if not match:
            return self._json_reply(404, {"detail": "Not found."})
        base, pk, action = match.group("base"), int(match.group("pk")), match.group("action")
        wanted = {None: "GET", "update/": "PUT", "delete/": "DELETE"}[action]
        if method != wanted:
            return self._json_reply(405, {"detail": 'Method "%s" not allowed.' % method})
        noun = "ruta entrante" if base == INBOUND else "ruta saliente"
        if pk not in self.routes_by_kind[base]:
            return self._json_reply(500, {"status": "ERROR", "message": "No existe la %s" % noun})
        if action is None:
            key = "inboundRoute" if base == INBOUND else "outboundRoute"
            return self._json_reply(200, {"status": "SUCCESS", "message": "Se obtuvo la informacion", key:
                                          self.routes_by_kind[base][pk]})
        if action == "delete/":
            del self.routes_by_kind[base][pk]
            return self._json_reply(200, {"status": "SUCCESS", "message": "Se elimino la %s de forma exitosa" % noun})
        return self._save(base, pk, body)

    def _json_body(self, body):
        try:
            data = json.loads(body or b"{}")
        except ValueError as exc:
            return None, self._json_reply(400, {"detail": "JSON parse error - %s" % exc})
        if not isinstance(data, dict):
            return None, self._json_reply(400, {"non_field_errors": [
                "Invalid data. Expected a dictionary, but got %s." % type(data).__name__]})
        return data, None

    def _save(self, base, pk, body):
        """Create (pk None) or fully update a route, validating like the DRF serializers."""
        data, error = self._json_body(body)
        if error:
            return error
        noun = "ruta entrante" if base == INBOUND else "ruta saliente"
        if base == INBOUND:
            errors, route = self._validate_inbound(data, pk)
        else:
            errors, route = self._validate_outbound(data, pk)
        if errors:
            message = json.dumps(errors) if base == INBOUND else list(errors.values())
            return self._json_reply(400, {"status": "ERROR", "message": message, "errors": errors})
        if route is None:  # the view's `except Exception` around a missing destination
            verb = "crear" if pk is None else "actualizar"
            return self._json_reply(500, {"status": "ERROR", "message": "Error al %s la %s" % (verb, noun)})
        verb = "creo" if pk is None else "actualizo"
        if pk is None:
            pk = self._next_id[base]
            self._next_id[base] += 1
        route["id"] = pk
        self.routes_by_kind[base][pk] = route
        return self._json_reply(200, {"status": "SUCCESS", "errors": {},
                                      "message": "Se %s la %s de forma exitosa" % (verb, noun)})

    def _unique(self, base, field, value, pk, label):
        taken = any(r[field] == value and r["id"] != pk for r in self.routes_by_kind[base].values())
        return "%s with this %s already exists." % (label, field) if taken else None

    def _validate_inbound(self, data, pk):
        errors = {}
        for field, limit in (("nombre", 30), ("telefono", 30)):
            value = data.get(field)
            if value in (None, ""):
                errors[field] = [REQUIRED if value is None else "This field may not be blank."]
                continue
            value = str(value)
            problem = (_max_length(value, limit)
                       or (INVALID if field == "telefono" and not R_MATCH_PATTERN.match(value) else None)
                       or self._unique(INBOUND, field, value, pk, "ruta entrante"))
            if problem:
                errors[field] = [problem]
        prefix = data.get("prefijo_caller_id")
        if prefix is not None and _max_length(str(prefix), 30):
            errors["prefijo_caller_id"] = [_max_length(str(prefix), 30)]
        language = data.get("idioma")
        if language is None:
            errors["idioma"] = [REQUIRED]
        elif str(language) not in ("1", "2"):
            errors["idioma"] = ['"%s" is not a valid choice.' % language]
        destination = data.get("destino")
        if destination is None:
            errors["destino"] = [REQUIRED]
        elif not isinstance(destination, dict):
            errors["destino"] = {"non_field_errors": ["Invalid data. Expected a dictionary, but got %s."
                                                      % type(destination).__name__]}
        if errors:
            return errors, None
        found = [d for d in self.destinations if d["id"] == destination.get("id")]
        if not found:
            return {}, None
        route = {"nombre": str(data["nombre"]), "telefono": str(data["telefono"]),
                 "prefijo_caller_id": prefix, "idioma": int(language), "destino": dict(found[0])}
        return {}, route

    def _validate_outbound(self, data, pk):
        errors = {}
        name = data.get("nombre")
        if name in (None, ""):
            errors["nombre"] = [REQUIRED if name is None else "This field may not be blank."]
        else:
            name = str(name)
            problem = (_max_length(name, 128) or (INVALID if not R_ALPHANUMERIC.match(name) else None)
                       or self._unique(OUTBOUND, "nombre", name, pk, "ruta saliente"))
            if problem:
                errors["nombre"] = [problem]
        ring_time = data.get("ring_time", 25)
        if isinstance(ring_time, bool) or not str(ring_time).isdigit():
            errors["ring_time"] = ["A valid integer is required."]
        elif not 1 <= int(ring_time) <= 3600:
            errors["ring_time"] = ["Ensure this value is %s." % (
                "less than or equal to 3600" if int(ring_time) > 3600 else "greater than or equal to 1")]
        dial_options = data.get("dial_options", "Tt")
        if not R_DIAL_OPT.match(str(dial_options)):
            errors["dial_options"] = [INVALID]
        patterns, pattern_errors = self._patterns(data.get("patrones_de_discado"))
        if pattern_errors:
            errors["patrones_de_discado"] = pattern_errors
        trunks, trunk_errors = self._trunk_sequence(data.get("troncales"))
        if trunk_errors:
            errors["troncales"] = trunk_errors
        if errors:
            return errors, None
        # RutaSalienteSerializer.validate(): trunks first, then patterns
        trunk_ids = [t["troncal"] for t in trunks]
        if not trunk_ids:
            return {"troncales": ["Debe existir al menos una troncal"]}, None
        if len(set(trunk_ids)) != len(trunk_ids):
            return {"troncales": ["Las troncales deben ser diferentes"]}, None
        if not patterns:
            return {"patrones_de_discado": ["Debe existir al menos un patron de discado"]}, None
        keys = [(p["prefix"], p["match_pattern"]) for p in patterns]
        if len(set(keys)) != len(keys):
            return {"patrones_de_discado": ["Los patrones de discado deben ser diferentes"]}, None
        return {}, {"nombre": name, "ring_time": int(ring_time), "dial_options": str(dial_options),
                    "patrones_de_discado": self._with_ids(patterns, "pattern", pk, "patrones_de_discado"),
                    "troncales": self._with_ids(trunks, "trunk_order", pk, "troncales")}

    def _with_ids(self, items, counter, pk, field):
        """Items keeping a posted id of the same route are updated in place, the rest get new ids."""
        current = {item["id"] for item in self.routes_by_kind[OUTBOUND].get(pk, {}).get(field, [])}
        for item in items:
            if item.get("id") not in current:
                item["id"] = self._next_id[counter]
                self._next_id[counter] += 1
        return items

    @staticmethod
    def _patterns(raw):
        if raw is None:
            return [], [REQUIRED]
        if not isinstance(raw, list):
            return [], ['Expected a list of items but got type "%s".' % type(raw).__name__]
        patterns, item_errors = [], []
        for item in raw:
            item = item if isinstance(item, dict) else {}
            problems = {}
            for field in ("prepend", "prefix"):
                value = item.get(field)
                if value not in (None, "") and not R_DECIMAL.match(str(value)):
                    problems[field] = [INVALID]
            match = item.get("match_pattern")
            if match in (None, ""):
                problems["match_pattern"] = [REQUIRED if match is None else "This field may not be blank."]
            elif not R_MATCH_PATTERN.match(str(match)):
                problems["match_pattern"] = [INVALID]
            item_errors.append(problems)
            patterns.append({"id": item.get("id"), "prepend": item.get("prepend"), "prefix": item.get("prefix"),
                             "match_pattern": match})
        return patterns, item_errors if any(item_errors) else []

    def _trunk_sequence(self, raw):
        if raw is None:
            return [], [REQUIRED]
        if not isinstance(raw, list):
            return [], ['Expected a list of items but got type "%s".' % type(raw).__name__]
        known = {t["id"] for t in self.trunks}
        sequence, item_errors = [], []
        for item in raw:
            item = item if isinstance(item, dict) else {}
            trunk = item.get("troncal")
            if trunk is None:
                item_errors.append({"troncal": [REQUIRED]})
            elif trunk not in known:
                item_errors.append({"troncal": ['Invalid pk "%s" - object does not exist.' % trunk]})
            else:
                item_errors.append({})
            sequence.append({"id": item.get("id"), "troncal": trunk})
        return sequence, item_errors if any(item_errors) else []

    # --- test control ------------------------------------------------------------------------
    def _control(self, method: str, path: str, body: bytes) -> Reply:
        """Adds POST /_emulator/expire_tokens and GET /_emulator/state to the base endpoints."""
        if path == CONTROL_PREFIX + "expire_tokens" and method == "POST":
            self.expire_tokens()
            return Reply(200, b'{"ok":true}', "application/json")
        if path == CONTROL_PREFIX + "state" and method == "GET":
            with self._state_lock:
                state = {"inbound": self.inbound_list({})["inboundRoutes"],
                         "outbound": self.outbound_list({})["outboundRoutes"], "trunks": self.trunks}
            return Reply(200, self.encode(state)[0], "application/json")
        return super()._control(method, path, body)
