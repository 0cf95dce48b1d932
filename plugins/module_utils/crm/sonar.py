# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sonar (GraphQL at <url>/api/graphql, Bearer token); DATA service speeds in kilobits per second.

A circuit is an account with an active status and a DATA service. Its devices are the inventory
items at its address, its uninventoried MAC addresses and the IPs assigned to the account itself.
Strategy `full` adds the network sites that hold AP inventory items (by model id) and those APs.
Sonar does not record which AP a CPE talks to (LibreQoS SNMP-walks each AP for that), so circuits
stay at the top level unless `exception_cpes` places them.
"""

from __future__ import annotations

from ..topology.model import AP, SITE, Circuit, Device, Node, Snapshot
from ..topology.settings import TopologyError
from .common import mapped, number, text
from .http import CrmError

SOURCE = "Sonar"
DEFAULT_STRATEGY = "full"
STRATEGIES = ("flat", "full")
API = "/api/graphql"
NEVER_EMPTY = ("accounts",)
RECORDS_PER_PAGE = 100
MAX_PAGES = 20000  # 2 million records: far beyond any ISP; a larger total_pages is a broken server
PAGE_INFO = "page_info { page records_per_page total_count total_pages }"
IP_ASSIGNMENTS = "ip_assignments { entities { subnet } }"

QUERIES = {
    "statuses": ("getActiveStatuses", "account_statuses", """query getActiveStatuses($pages: Paginator) {
  account_statuses(paginator: $pages, activates_account: true) {
    entities { id activates_account }
    %s
  }
}""" % PAGE_INFO),
    "sites": ("getSitesAndAps", "network_sites", """query getSitesAndAps($pages: Paginator,
    $rr_ap_models: ReverseRelationFilter, $ap_models: Search) {
  network_sites(paginator: $pages, reverse_relation_filters: [$rr_ap_models]) {
    entities {
      id
      name
      inventory_items(search: [$ap_models]) {
        entities {
          id
          inventory_model_id
          inventory_model { name }
          inventory_model_field_data { entities { %s } }
          %s
        }
      }
    }
    %s
  }
}""" % (IP_ASSIGNMENTS, IP_ASSIGNMENTS, PAGE_INFO)),
    "accounts": ("getAccounts", "accounts", """query getAccounts($pages: Paginator, $account_search: Search,
    $data: ReverseRelationFilter) {
  accounts(paginator: $pages, search: [$account_search]) {
    entities {
      id
      name
      account_status_id
      %s
      account_services(reverse_relation_filters: [$data]) {
        entities {
          service {
            name
            type
            data_service_detail { download_speed_kilobits_per_second upload_speed_kilobits_per_second }
          }
        }
      }
      addresses {
        entities {
          line1
          line2
          city
          subdivision
          inventory_items {
            entities {
              id
              inventory_model { name }
              inventory_model_field_data {
                entities { value inventory_model_field { name primary } %s }
              }
              %s
            }
          }
        }
      }
      uninventoried_mac_addresses { entities { id mac_address %s } }
    }
    %s
  }
}""" % (IP_ASSIGNMENTS, IP_ASSIGNMENTS, IP_ASSIGNMENTS, IP_ASSIGNMENTS, PAGE_INFO)),
}


def base_url(url):
    url = url.rstrip("/")
    return url[:-len(API)] if url.endswith(API) else url


def session_options(params):
    return {"headers": {"Authorization": "Bearer %s" % params["token"]}}


def endpoint_path(key):
    return "%s query %s" % (API, QUERIES[key][0])


def ap_model_ids(params):
    return list(params.get("sonar_airmax_ap_model_ids") or ()) + list(params.get("sonar_ltu_ap_model_ids") or ())


def _equals(attribute, values):
    return [{"attribute": attribute, "operator": "EQ", "search_value": value} for value in values]


def fetch(session, strategy, params):
    models = _equals("inventory_model_id", ap_model_ids(params))
    if strategy == "full" and not models:
        raise TopologyError("source=sonar with strategy=full needs sonar_airmax_ap_model_ids or "
                            "sonar_ltu_ap_model_ids (the Sonar inventory model ids of your APs)")
    statuses = list(params.get("sonar_active_status_ids") or ())
    if not statuses:
        statuses = mapped(SOURCE, endpoint_path("statuses"), _paged(session, "statuses", {}), lambda row: int(row["id"]))
        if not statuses:  # an empty search would match every account, active or not
            raise CrmError(SOURCE, endpoint_path("statuses"), "no account status activates an account; set "
                           "sonar_active_status_ids")
    payloads = {"accounts": _paged(session, "accounts", {
        "account_search": {"integer_fields": _equals("account_status_id", statuses)},
        "data": {"relation": "service",
                 "search": [{"string_fields": [{"attribute": "type", "match": True, "search_value": "DATA"}]}]},
    })}
    if strategy == "full":
        payloads["sites"] = _paged(session, "sites", {
            "rr_ap_models": {"relation": "inventory_items", "search": [{"integer_fields": models}]},
            "ap_models": {"integer_fields": models},
        })
    return payloads


def _paged(session, key, variables):
    """Every entity of one query, page by page, until page_info.total_pages.

    The page count of the first answer is the plan; an answer that changes it, or names another
    page than the one asked for, fails rather than loop (a server ignoring the paginator).
    """
    name, field, query = QUERIES[key]
    endpoint = endpoint_path(key)
    entities = []
    total = None
    page = 1
    while True:
        pages = {"records_per_page": RECORDS_PER_PAGE, "page": page}
        answer = session.request_json("POST", API, expect=dict, endpoint=endpoint, json={
            "query": query, "operationName": name, "variables": dict(variables, pages=pages)})
        items, info = _connection(answer, field, endpoint)
        try:
            total_pages, answered_page = int(info["total_pages"]), int(info.get("page", page))
        except (KeyError, TypeError, ValueError):
            raise CrmError(SOURCE, endpoint, "page_info has no usable total_pages: %r" % (info,))
        if total is None:
            if total_pages > MAX_PAGES:
                raise CrmError(SOURCE, endpoint, "total_pages is %d, more than %d pages of %d; refusing to read"
                               % (total_pages, MAX_PAGES, RECORDS_PER_PAGE))
            total = total_pages
        elif total_pages != total:
            raise CrmError(SOURCE, endpoint, "total_pages changed from %d to %d at page %d; the data changed "
                           "while it was read or the server pages wrongly; try again" % (total, total_pages, page))
        if answered_page != page:
            raise CrmError(SOURCE, endpoint, "asked for page %d, the answer is page %d" % (page, answered_page))
        entities.extend(items)
        if page >= total:
            return entities
        page += 1


def _connection(answer, field, endpoint):
    """data.<field> of a GraphQL answer as (entities, page_info); `errors` fails with their messages."""
    errors = answer.get("errors")
    if errors:
        messages = [text(e.get("message")) if isinstance(e, dict) else text(e)
                    for e in (errors if isinstance(errors, list) else [errors])]
        raise CrmError(SOURCE, endpoint, "GraphQL errors: %s" % ("; ".join(m for m in messages if m) or "no message"))
    connection = (answer.get("data") or {}).get(field) if isinstance(answer.get("data"), dict) else None
    if not isinstance(connection, dict) or not isinstance(connection.get("entities"), list) \
            or not isinstance(connection.get("page_info"), dict):
        raise CrmError(SOURCE, endpoint, "answered without data.%s.entities and page_info (wrong shape)" % field)
    return connection["entities"], connection["page_info"]


def _entities(value):
    """The list inside a Sonar relation `{entities: [...]}` (null or missing: none)."""
    return (value or {}).get("entities") or []


def _subnets(*holders):
    """IPv4 and IPv6 subnets of the ip_assignments of every holder, in order, without repeats."""
    found = []
    for holder in holders:
        for assignment in _entities(holder.get("ip_assignments")):
            subnet = text(assignment.get("subnet"))
            if subnet and subnet not in found:
                found.append(subnet)
    return [s for s in found if ":" not in s], [s for s in found if ":" in s]


def _mac(item):
    """The value of the item's field named like "MAC", the primary field first."""
    fields = _entities(item.get("inventory_model_field_data"))
    candidates = [f for f in fields if "mac" in text((f.get("inventory_model_field") or {}).get("name")).lower()]
    candidates.sort(key=lambda f: not (f.get("inventory_model_field") or {}).get("primary"))
    return text(candidates[0].get("value")) if candidates else ""


def _devices(account):
    devices = []
    for address in _entities(account.get("addresses")):
        for item in _entities(address.get("inventory_items")):
            v4, v6 = _subnets(item, *_entities(item.get("inventory_model_field_data")))
            devices.append(Device("sonar:device:%s" % item["id"], text((item.get("inventory_model") or {}).get("name")),
                                  _mac(item), v4, v6))
    for entry in _entities(account.get("uninventoried_mac_addresses")):
        v4, v6 = _subnets(entry)
        devices.append(Device("sonar:uninventoried-mac-address:%s" % entry["id"], text(entry.get("mac_address")),
                              text(entry.get("mac_address")), v4, v6))
    v4, v6 = _subnets(account)
    if v4 or v6:
        devices.append(Device("sonar:account-ip-assignments:%s" % account["id"], text(account.get("name")), "", v4, v6))
    return devices


def _rates(account):
    """(download, upload) Mbps of the first DATA service, or None."""
    for entry in _entities(account.get("account_services")):
        detail = (entry.get("service") or {}).get("data_service_detail")
        if detail:
            return (number(detail.get("download_speed_kilobits_per_second")) / 1000.0,
                    number(detail.get("upload_speed_kilobits_per_second")) / 1000.0)
    return None


def to_snapshot(payloads, settings):
    snapshot = Snapshot(SOURCE)
    if settings.strategy == "full":
        for node in (n for nodes in mapped(SOURCE, endpoint_path("sites"), payloads.get("sites", ()), _site_nodes)
                     for n in nodes):
            snapshot.add_node(node)

    def account(row):
        name = text(row.get("name")) or "account %s" % row["id"]
        label = "%s (account %s)" % (name, row["id"])
        rates = _rates(row)
        if rates is None:
            snapshot.warnings.append(("account without a DATA service, not shaped", label))
            return None
        devices = _devices(row)
        if not devices:
            snapshot.warnings.append(("account without equipment or IP assignments, not shaped", label))
            return None
        return Circuit(text(row["id"]), name, None, devices, rates[0], rates[1])

    snapshot.circuits = mapped(SOURCE, endpoint_path("accounts"), payloads["accounts"], account)
    return snapshot


def _site_nodes(row):
    """A network site and its AP inventory items (the query returns only sites that have some)."""
    site_id = "sonar:site:%s" % row["id"]
    name = text(row.get("name")) or site_id
    nodes = [Node(site_id, name, SITE)]
    for item in _entities(row.get("inventory_items")):
        model = text((item.get("inventory_model") or {}).get("name")) or "AP"
        nodes.append(Node("sonar:ap:%s" % item["id"], "%s %s %s" % (name, model, item["id"]), AP, site_id))
    return nodes
