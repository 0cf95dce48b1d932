# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sonar emulator: one GraphQL endpoint, POST /api/graphql with a Bearer token.

Mapping from the lab network: every subscriber is an account. Active ones have status 1
("Active", or 4 "Active - Commercial" for businesses and every tenth account), both of which activate the account;
suspended ones have status 2 and inactive ones status 3, neither activating. Each account has
a VOICE and a DATA service (speeds in kilobits per second) and one address. Its first device
is an inventory item at that address (MAC in the primary "MAC Address" field, IPv4 assigned
to that field; every fourth account's CPE model has no MAC field), its second an uninventoried MAC address, its third an IP assigned to the
account itself. Sonar knows no IPv6 here: that comes from the routers' DHCPv6 bindings.
Network sites hold the customer APs (model ids in AP_MODEL_IDS) and, as noise a client must
filter out, their backhaul radios and routers.

Faults beyond httpbase's: ``graphql_errors`` (HTTP 200 with an ``errors`` member) and
``page_drift`` (every answer claims one more page than the last).
"""

from __future__ import annotations

import json
import threading

from tests.emulators.graphql import GraphQLError, execute
from tests.emulators.httpbase import LabApiEmulator
from tests.emulators.labnet import BUSINESS_NAMES, LabNetwork, Subscriber

API = "/api/graphql"
STATUSES = (
    {"id": 1, "name": "Active", "activates_account": True},
    {"id": 2, "name": "Suspended - Non-payment", "activates_account": False},
    {"id": 3, "name": "Inactive", "activates_account": False},
    {"id": 4, "name": "Active - Commercial", "activates_account": True},
)
ACTIVE, SUSPENDED, INACTIVE, COMMERCIAL = 1, 2, 3, 4
# lab model -> Sonar inventory model id
MODEL_IDS = {"LAP-120": 101, "Rocket 5AC Prism": 102, "LTU Rocket": 201, "LTU Long-Range": 202,
             "AF60": 301, "LiteBeam 5AC Gen2": 103, "EdgeRouter 8 XG": 401}
AIRMAX_AP_MODEL_IDS = (101, 102)
LTU_AP_MODEL_IDS = (201,)
CPE_MODEL = {"LTU Rocket": "LTU Long-Range"}  # others: LiteBeam 5AC Gen2
MAC_FIELD = {"id": 1, "name": "MAC Address", "primary": True}
SERIAL_FIELD = {"id": 2, "name": "Serial Number", "primary": False}
EXTRA_FAULTS = ("graphql_errors", "page_drift")


def account_id(subscriber: Subscriber) -> int:
    return subscriber.id


def inventory_item_id(number: int) -> int:
    """Lab equipment and subscriber device ids share one inventory item id space."""
    return number


def _subnet(address: str) -> str:
    return address if "/" in address else address + "/32"


def _assignments(addresses) -> list:
    return [{"subnet": _subnet(a)} for a in addresses]


class SonarEmulator(LabApiEmulator):
    """Sonar v2 GraphQL with Bearer auth on loopback."""

    name = "sonar"
    methods = ("POST",)

    def __init__(self, network: LabNetwork, token: str, **server_options) -> None:
        super().__init__(network, token, **server_options)
        self._current = threading.local()
        self._drift = 0
        self.operations: list[dict] = []  # operationName and variables.pages of each answered query
        self.data = self._build()

    def routes(self) -> dict:
        return {API: self._answer}

    def canonical_targets(self) -> list[str]:
        return [API]

    def is_authorized(self, headers) -> bool:
        scheme, supplied = (headers.get("Authorization") or "").partition(" ")[::2]
        return scheme == "Bearer" and self.is_secret(supplied)

    def error_payload(self, status: int, message: str) -> object:
        return {"message": "Unauthenticated." if status == 401 else message}

    def set_fault(self, path, kind, count=None) -> None:
        if kind not in EXTRA_FAULTS:
            return super().set_fault(path, kind, count)
        super().set_fault(path, "500", count)  # validated like any fault, then given its own kind
        with self._lock:
            self._faults[path].kind = kind
        return None

    def clear_faults(self) -> None:
        super().clear_faults()
        self._drift = 0

    def clear_log(self) -> None:
        super().clear_log()
        with self._lock:
            self.operations.clear()

    # --- requests -----------------------------------------------------------------
    def dispatch(self, handler) -> None:
        self._current.handler = handler  # render() has no handler argument; the body is on it
        super().dispatch(handler)

    def render(self, path: str, query: dict | None = None) -> tuple[bytes, bool]:
        """Every GraphQL request is answered afresh from its body (no cache: bodies differ)."""
        return self.encode(self._answer(query))

    def _request(self) -> tuple[str, dict, str | None]:
        handler = getattr(self._current, "handler", None)
        try:
            body = json.loads(getattr(handler, "request_body", b"") or b"{}")
        except ValueError as exc:
            raise GraphQLError("Syntax Error: the request body is not JSON (%s)." % exc)
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise GraphQLError("GraphQL Request must include at least one of those two parameters: "
                               "\"query\" or \"queryId\"")
        return body["query"], body.get("variables") or {}, body.get("operationName")

    def _answer(self, query=None, data=None) -> dict:
        try:
            source, variables, operation = self._request()
            answer = {"data": execute(source, variables, self.data if data is None else data)}
        except GraphQLError as exc:
            return {"errors": [{"message": str(exc), "extensions": {"category": "graphql"}}]}
        with self._lock:
            self.operations.append({"operation": operation, "pages": (variables or {}).get("pages")})
        return answer

    def _fault_reply(self, kind: str, path: str, query: dict):
        if kind == "graphql_errors":
            return self._json_reply(200, {"data": None, "errors": [
                {"message": "Internal server error", "extensions": {"category": "internal"}},
                {"message": "Injected fault: the accounts index is being rebuilt"}]})
        if kind == "empty":
            return self._json_reply(200, self._answer(data=dict((k, []) for k in self.data)))
        if kind == "page_drift":
            answer = self._answer()
            with self._lock:
                self._drift += 1
                for connection in (answer.get("data") or {}).values():
                    connection["page_info"]["total_pages"] = connection["page_info"]["page"] + self._drift
            return self._json_reply(200, answer)
        return super()._fault_reply(kind, path, query)

    # --- data -----------------------------------------------------------------
    def _build(self) -> dict:
        network = self.network
        return {
            "account_statuses": [dict(status) for status in STATUSES],
            "network_sites": [self._site(site) for site in network.sites],
            "accounts": [self._account(s) for s in network.subscribers],
        }

    def _item(self, number: int, model: str, mac: str, serial: str, addresses, on_field: bool) -> dict:
        """An inventory item; its IPs hang on the MAC field or on the item itself."""
        fields = [
            {"value": mac, "inventory_model_field": dict(MAC_FIELD), "ip_assignments": _assignments(addresses if on_field else ())},
            {"value": serial, "inventory_model_field": dict(SERIAL_FIELD), "ip_assignments": []},
        ]
        return {"id": inventory_item_id(number), "inventory_model_id": MODEL_IDS[model],
                "inventory_model": {"name": model}, "inventory_model_field_data": fields,
                "ip_assignments": _assignments(() if on_field else addresses)}

    def _site(self, site) -> dict:
        items = [self._item(e.id, e.model, e.mac, "SN%08d" % e.id, (e.ipv4,), e.customer_ap)
                 for e in self.network.equipment if e.site_id == site.id]
        return {"id": site.id, "name": site.name, "latitude": site.latitude, "longitude": site.longitude,
                "inventory_items": items}

    def _status(self, subscriber: Subscriber) -> int:
        if not subscriber.active:
            return INACTIVE
        if subscriber.suspended:
            return SUSPENDED
        return COMMERCIAL if subscriber.name in BUSINESS_NAMES or subscriber.id % 10 == 0 else ACTIVE

    def _account(self, subscriber: Subscriber) -> dict:
        ap = self.network.equipment_by_id(subscriber.ap_id)
        devices = subscriber.devices
        items = [self._item(devices[0].id, CPE_MODEL.get(ap.model, "LiteBeam 5AC Gen2"), devices[0].mac,
                            "SN%08d" % devices[0].id, devices[0].ipv4, True)]
        if subscriber.id % 4 == 0:  # this CPE's model has no MAC field: its IPs sit on the item
            item = items[0]
            item["ip_assignments"] = item["inventory_model_field_data"][0]["ip_assignments"]
            del item["inventory_model_field_data"][0]
        macs = [{"id": d.id, "mac_address": d.mac, "ip_assignments": _assignments(d.ipv4)} for d in devices[1:2]]
        own = _assignments(devices[2].ipv4) if len(devices) > 2 else []
        plan = subscriber.plan
        services = [
            {"service": {"id": 900, "name": "Home Phone", "type": "VOICE", "enabled": True, "data_service_detail": None}},
            {"service": {"id": 1000 + plan.download_mbps, "name": plan.name, "type": "DATA", "enabled": True,
                         "data_service_detail": {"download_speed_kilobits_per_second": plan.download_mbps * 1000,
                                                 "upload_speed_kilobits_per_second": plan.upload_mbps * 1000}}},
        ]
        address = {"line1": subscriber.street, "line2": None, "city": subscriber.city, "subdivision": "ES_MD",
                   "zip": subscriber.zip_code, "inventory_items": items}
        return {"id": account_id(subscriber), "name": subscriber.name, "account_status_id": self._status(subscriber),
                "ip_assignments": own, "account_services": services, "addresses": [address],
                "uninventoried_mac_addresses": macs}
