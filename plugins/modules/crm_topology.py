#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: crm_topology
short_description: Build LibreQoS ShapedDevices.csv and network.json from a CRM or NMS
version_added: 0.1.0
description:
  - Fetches subscribers and network structure from a CRM/NMS API and writes the LibreQoS-compatible
    C(ShapedDevices.csv) and C(network.json) that the shaper reads, plus C(graph.dot) with the link costs.
  - Every source is mapped into one common model; strategies, exclusions, overrides and rate
    formulas are the same for every CRM.
  - Files are written atomically and only when their content changes. The replaced files are kept
    as C(ShapedDevices.lastGood.csv) and C(network.lastGood.json).
  - Any CRM failure (HTTP error, timeout, reset, bad JSON, HTML page, wrong shape) fails the task with
    one message naming the CRM and the endpoint, and leaves the files untouched.
author:
  - isp.ops contributors (@isp-ops)
requirements:
  - requests
  - librouteros, for O(use_mikrotik_ipv6)
  - Graphviz C(dot) on the host, optional, to render C(graph.svg)
extends_documentation_fragment:
  - isp.ops.crm
  - isp.ops.attributes
attributes:
  check_mode:
    support: full
    details:
      - The CRM is read (read-only API calls); nothing is written.
  diff_mode:
    support: full
    details:
      - The diff lists only the circuits and nodes added, removed or changed.
options:
  source:
    description: The CRM or NMS to read.
    type: str
    required: true
    choices: [netzur, powercode, sonar, splynx, ubilling, uisp, wispgate]
  strategy:
    description:
      - How much of the network becomes shaping nodes.
      - V(flat) shapes subscribers only; V(ap_only) adds one level of access points; V(ap_site) adds the
        sites of those APs above them; V(full) maps the whole hierarchy, each node taking its cheapest
        path to O(root_site) (10 a hop unless O(route_overrides) says otherwise).
      - Defaults to V(ap_only) for Splynx and V(full) for UISP.
      - Defaults to V(full) for Netzur (its zones become top-level sites), V(flat) for WISPGate, and V(full)
        for Powercode, whose tree is the operator's C(network.json) (see O(always_overwrite_network_json)).
      - Sonar supports V(flat) and V(full) (the default); V(full) adds the network sites holding APs and
        those APs (see O(sonar_airmax_ap_model_ids)).
      - Ubilling's UserSide API knows no sites or APs, so its topology is V(flat).
    type: str
    choices: [flat, ap_only, ap_site, full]
  root_site:
    description: Name of the site the shaper sits at (UISP). Its children become the top level.
    type: str
  promote_to_root:
    description:
      - Node names lifted to the top level with their subtree, so their traffic is spread over other CPU
        queues instead of sharing their parent's.
    type: list
    elements: str
    default: []
  exclude_sites:
    description: Site or AP names (case-insensitive) left out, with the circuits directly under them.
    type: list
    elements: str
    default: []
  exception_cpes:
    description:
      - CPEs placed under a named parent regardless of the CRM, as V(cpe:parent) strings. The CPE is matched
        against the circuit name and the device names.
    type: list
    elements: str
    default: []
  suspended_strategy:
    description:
      - What to do with suspended subscribers. V(none) shapes them at full speed, V(ignore) leaves them
        out, V(slow) shapes them at 0.1 Mbps both ways.
    type: str
    choices: [none, ignore, slow]
    default: none
  airmax_capacity:
    description: Share of the reported capacity used for AP models containing C(5AC).
    type: float
    default: 0.65
  ltu_capacity:
    description: Share of the reported capacity used for AP models containing C(LTU).
    type: float
    default: 0.95
  bandwidth_overhead_factor:
    description: Max rate = (plan + burst) times this factor.
    type: float
    default: 1.15
  commit_bandwidth_multiplier:
    description: Min rate = plan times this factor.
    type: float
    default: 0.98
  use_ptmp_as_parent:
    description: A site fed by a point-to-multipoint AP hangs under that AP instead of the AP's site.
    type: bool
    default: false
  bandwidth_overrides:
    description: CSV with a header and rows V(ParentNode,Download Mbps,Upload Mbps) that set node rates by name.
    type: path
  route_overrides:
    description:
      - CSV without a header with rows V(From Site, To Site, Cost) that replace the default cost of 10 for
        that direction of a link, in strategy V(full).
    type: path
  default_node_mbps:
    description: Rate of a node the CRM gives no capacity for and that has no parent to inherit from.
    type: float
    default: 10000
  keep_top_level:
    description:
      - When set, only these top-level nodes and everything under them are kept. Lets several shapers
        share one CRM, each shaping its own part of the network.
    type: list
    elements: str
    default: []
  always_overwrite_network_json:
    description: Replace an existing C(network.json). When false, an existing file is kept as the operator edited it.
    type: bool
    default: false
  output_dir:
    description: Directory the files are written to. It must exist.
    type: path
    required: true
  csv_layout:
    description:
      - V(legacy) writes the 13-column C(ShapedDevices.csv) every LibreQoS version reads; V(extended) adds
        C(Parent Node ID) and C(Anchor Node ID).
    type: str
    choices: [legacy, extended]
    default: legacy
  graph:
    description: Write C(graph.dot), and C(graph.svg) when Graphviz is installed.
    type: bool
    default: true
  max_circuit_drop_percent:
    description:
      - Safety valve. If the circuit count would drop by more than this percentage against the current file,
        or to zero, fail without writing anything.
    type: float
    default: 20
  force:
    description: Write even when the safety valve would refuse.
    type: bool
    default: false
  fail_on_duplicate_ip:
    description:
      - Fail when one IP address appears in two circuits. By default the address stays with the first circuit
        and the clash is reported as a warning.
    type: bool
    default: false
  sonar_airmax_ap_model_ids:
    description:
      - Sonar inventory model ids of your airMax APs. With O(sonar_ltu_ap_model_ids) they select the AP
        inventory items of network sites for strategy V(full), which needs at least one id.
      - Sonar does not record which AP a CPE uses (LibreQoS SNMP-walks each AP for that; this module does
        not), so circuits stay at the top level unless O(exception_cpes) places them under an AP.
    type: list
    elements: int
    default: []
  sonar_ltu_ap_model_ids:
    description: Sonar inventory model ids of your LTU APs (see O(sonar_airmax_ap_model_ids)).
    type: list
    elements: int
    default: []
  sonar_active_status_ids:
    description:
      - Sonar account status ids whose accounts are shaped. Empty asks Sonar for the statuses that
        activate an account.
    type: list
    elements: int
    default: []
  use_mikrotik_ipv6:
    description:
      - Add the IPv6 prefixes that MikroTik routers delegated by DHCPv6 to the matching circuits, for any
        O(source). Each router in O(mikrotik_router_list) is read through the RouterOS API (C(librouteros)).
      - A binding is matched to a device by MAC address (from the DUID, else from the IPv6 neighbour of its
        client address), then by the IPv4 address the router's ARP table and DHCP leases give that MAC.
      - A router that cannot be reached or refuses the login is skipped with a warning.
    type: bool
    default: false
  mikrotik_router_list:
    description:
      - CSV of the routers to read, like LibreQoS's C(mikrotikDHCPRouterList.csv), a header row and then
        V(name,host,username,password,port) rows (port is the plain API port, usually V(8728)).
      - Defaults to C(mikrotikDHCPRouterList.csv) in O(output_dir).
    type: path
seealso:
  - name: LibreQoS CRM integrations
    description: The LibreQoS documentation of the same options.
    link: https://libreqos.readthedocs.io/
"""

EXAMPLES = r"""
- name: Build the topology from UISP
  isp.ops.crm_topology:
    source: uisp
    url: https://uisp.example.net
    token: "{{ vault_uisp_token }}"
    root_site: Core
    strategy: full
    suspended_strategy: slow
    route_overrides: /opt/libreqos/src/integrationUISProutes.csv
    always_overwrite_network_json: true
    output_dir: /opt/libreqos/src

- name: Build the topology from Splynx, APs only
  isp.ops.crm_topology:
    source: splynx
    url: https://splynx.example.net
    api_key: "{{ vault_splynx_api_key }}"
    api_secret: "{{ vault_splynx_api_secret }}"
    strategy: ap_only
    promote_to_root: [Tower North, Tower South]
    output_dir: /opt/libreqos/src

- name: Build the topology from Netzur (zones become sites)
  isp.ops.crm_topology:
    source: netzur
    url: https://netzur.example.net/api/libreqos
    api_key: "{{ vault_netzur_api_key }}"
    timeout_secs: 120
    output_dir: /opt/libreqos/src

- name: Build a flat ShapedDevices.csv from WISPGate
  isp.ops.crm_topology:
    source: wispgate
    url: https://wispgate.example.net
    token: "{{ vault_wispgate_api_token }}"
    output_dir: /opt/libreqos/src

- name: Build ShapedDevices.csv from Powercode; network.json stays as the operator wrote it
  isp.ops.crm_topology:
    source: powercode
    url: https://powercode.example.net
    api_key: "{{ vault_powercode_api_key }}"
    output_dir: /opt/libreqos/src

- name: Build the topology from Sonar, with the IPv6 prefixes the MikroTik DHCPv6 servers delegated
  isp.ops.crm_topology:
    source: sonar
    url: https://example.sonar.software
    token: "{{ vault_sonar_api_token }}"
    strategy: full
    sonar_airmax_ap_model_ids: [12, 13]
    sonar_ltu_ap_model_ids: [40]
    use_mikrotik_ipv6: true
    mikrotik_router_list: /opt/libreqos/src/mikrotikDHCPRouterList.csv
    output_dir: /opt/libreqos/src

- name: Build ShapedDevices.csv from Ubilling's UserSide API; nomoney, pause and disable users get slowed
  isp.ops.crm_topology:
    source: ubilling
    url: http://billing.example.net/billing/
    serial: "{{ vault_ubilling_serial }}"
    suspended_strategy: slow
    output_dir: /opt/libreqos/src
"""

RETURN = r"""
stats:
  description: Counts of the topology that was built.
  returned: success
  type: dict
  sample: {circuits: 1200, devices: 1410, nodes: 48, top_level_nodes: 6, depth: 4, unparented_circuits: 3}
changes:
  description: Circuits and nodes added, removed and changed against the files on disk (ids listed up to 50).
  returned: success
  type: dict
  sample:
    circuits: {added: 2, removed: 0, changed: 1, added_ids: ["118", "119"], removed_ids: [], changed_ids: ["7"]}
    nodes: {added: 0, removed: 0, changed: 0, added_names: [], removed_names: [], changed_names: []}
report:
  description: Number of rows corrected, dropped or flagged, by kind. Each kind is also a warning with examples.
  returned: success
  type: dict
  sample: {"invalid IP address dropped": 1, "suspended circuit shaped at full speed (suspended_strategy=none)": 4}
files:
  description: Paths of the files the module manages; O(graph) files are null when not written.
  returned: success
  type: dict
  sample:
    shaped_devices: /opt/libreqos/src/ShapedDevices.csv
    network_json: /opt/libreqos/src/network.json
    graph_dot: /opt/libreqos/src/graph.dot
    graph_svg: /opt/libreqos/src/graph.svg
written:
  description: Files written in this run (none in check mode or when nothing changed).
  returned: success
  type: list
  elements: str
  sample: [/opt/libreqos/src/ShapedDevices.csv]
network_json_kept:
  description:
    - True when an existing network.json was kept because O(always_overwrite_network_json) is false, or
      because the source never writes it (V(powercode), whose network.json the operator maintains).
  returned: success
  type: bool
crm_error:
  description: On a CRM failure, the CRM, endpoint and reason (never a credential).
  returned: failure
  type: dict
  sample: {source: UISP, endpoint: /nms/api/v2.1/devices, reason: "HTTP 401: the credentials were rejected"}
"""

import os

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.isp.ops.plugins.module_utils.crm import http, mikrotik_ipv6, options, sources
from ansible_collections.isp.ops.plugins.module_utils.topology import publish
from ansible_collections.isp.ops.plugins.module_utils.topology.settings import TopologyError


def argument_spec():
    """The shared spec (module_utils crm/options.py, also read by the sync CLI) plus env fallbacks."""
    spec = options.argument_spec()
    for name, variable in options.ENV_FALLBACKS.items():
        spec[name]["fallback"] = (env_fallback, [variable])
    return spec


def render_svg(module, dot_path):
    """graph.dot -> graph.svg with Graphviz, if installed; returns the SVG path or None."""
    dot = module.get_bin_path("dot")
    if dot is None:
        return None
    svg_path = os.path.splitext(dot_path)[0] + ".svg"
    tmp_path = svg_path + ".tmp"
    rc, _out, err = module.run_command([dot, "-Tsvg", dot_path, "-o", tmp_path])
    if rc != 0:
        module.warn("Graphviz could not render %s: %s" % (dot_path, err.strip()))
        return None
    os.replace(tmp_path, svg_path)
    return svg_path


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    if not http.HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=http.REQUESTS_IMPORT_ERROR)
    if params["use_mikrotik_ipv6"] and not mikrotik_ipv6.HAS_LIBROUTEROS:
        module.fail_json(msg=missing_required_lib("librouteros"), exception=mikrotik_ipv6.LIBROUTEROS_IMPORT_ERROR)
    missing = sources.missing_options(params["source"], params)
    if missing:
        module.fail_json(msg="source=%s needs the options: %s" % (params["source"], ", ".join(missing)))
    if not os.path.isdir(params["output_dir"]):
        module.fail_json(msg="output_dir %s does not exist or is not a directory" % params["output_dir"])

    try:
        settings = options.build_settings(params)
        payloads = sources.fetch(params["source"], params, settings)
        topology, plan = sources.build_outputs(
            params["source"], payloads, settings, params["output_dir"], layout=params["csv_layout"],
            overwrite_network_json=params["always_overwrite_network_json"], write_graph=params["graph"],
            max_circuit_drop_percent=params["max_circuit_drop_percent"], force=params["force"])
    except http.CrmError as exc:
        module.fail_json(msg=str(exc), crm_error=dict(source=exc.source, endpoint=exc.endpoint, reason=exc.reason))
    except (TopologyError, publish.SafetyValveError) as exc:
        module.fail_json(msg=str(exc))

    for message in topology.report.messages() + plan.warnings:
        module.warn(message)

    out_dir = params["output_dir"]
    files = dict(shaped_devices=os.path.join(out_dir, publish.SHAPED_DEVICES),
                 network_json=os.path.join(out_dir, publish.NETWORK_JSON),
                 graph_dot=None, graph_svg=None)
    written = []
    if not module.check_mode:
        written = publish.write_outputs(plan)
    if params["graph"]:
        files["graph_dot"] = os.path.join(out_dir, publish.GRAPH_DOT)
        svg = os.path.splitext(files["graph_dot"])[0] + ".svg"
        if not module.check_mode and (files["graph_dot"] in written or not os.path.exists(svg)):
            files["graph_svg"] = render_svg(module, files["graph_dot"])
        elif os.path.exists(svg):
            files["graph_svg"] = svg

    result = dict(changed=plan.changed, stats=topology.stats(), changes=plan.summary,
                  report=topology.report.counts(), files=files, written=written,
                  network_json_kept=plan.network_json_kept)
    if module._diff:
        result["diff"] = plan.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
