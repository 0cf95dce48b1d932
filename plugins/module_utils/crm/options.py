# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The options of an import, shared by isp.ops.crm_topology and the controller-less sync CLI.

`argument_spec()` is the module's argument spec (plain Python, no Ansible import, so the copy of
module_utils on a shaper can use it too); `with_defaults(params)` checks a plain dict against it
the way AnsibleModule would for the CLI; `build_settings(params)` turns checked params into the
engine's Settings. A source's new options go into `argument_spec()` only.
"""

from __future__ import annotations

from ..topology.overrides import read_bandwidth_overrides, read_route_overrides
from ..topology.settings import STRATEGIES, SUSPENDED_STRATEGIES, Settings, parse_exception_cpes
from . import sources

# Environment variables the module falls back to for its secrets (see crm_topology.py).
ENV_FALLBACKS = {"api_key": "ISP_OPS_CRM_API_KEY", "api_secret": "ISP_OPS_CRM_API_SECRET",
                 "token": "ISP_OPS_CRM_TOKEN", "serial": "ISP_OPS_UBILLING_SERIAL"}


class OptionsError(Exception):
    """A params dict the spec rejects (unknown, missing, wrong type or choice)."""


def argument_spec():
    return dict(
        source=dict(type="str", required=True, choices=sorted(sources.SOURCES)),
        url=dict(type="str"),
        api_key=dict(type="str", no_log=True),
        api_secret=dict(type="str", no_log=True),
        token=dict(type="str", no_log=True),
        serial=dict(type="str", no_log=True),
        timeout=dict(type="int", default=60, aliases=["timeout_secs"]),
        retries=dict(type="int", default=3),
        retry_backoff=dict(type="float", default=1.0),
        validate_certs=dict(type="bool", default=True),
        strategy=dict(type="str", choices=list(STRATEGIES)),
        root_site=dict(type="str"),
        promote_to_root=dict(type="list", elements="str", default=[]),
        exclude_sites=dict(type="list", elements="str", default=[]),
        exception_cpes=dict(type="list", elements="str", default=[]),
        suspended_strategy=dict(type="str", choices=list(SUSPENDED_STRATEGIES), default="none"),
        airmax_capacity=dict(type="float", default=0.65),
        ltu_capacity=dict(type="float", default=0.95),
        bandwidth_overhead_factor=dict(type="float", default=1.15),
        commit_bandwidth_multiplier=dict(type="float", default=0.98),
        use_ptmp_as_parent=dict(type="bool", default=False),
        bandwidth_overrides=dict(type="path"),
        route_overrides=dict(type="path"),
        default_node_mbps=dict(type="float", default=10000),
        keep_top_level=dict(type="list", elements="str", default=[]),
        always_overwrite_network_json=dict(type="bool", default=False),
        output_dir=dict(type="path", required=True),
        csv_layout=dict(type="str", choices=["legacy", "extended"], default="legacy"),
        graph=dict(type="bool", default=True),
        max_circuit_drop_percent=dict(type="float", default=20),
        force=dict(type="bool", default=False),
        fail_on_duplicate_ip=dict(type="bool", default=False),
        sonar_airmax_ap_model_ids=dict(type="list", elements="int", default=[]),
        sonar_ltu_ap_model_ids=dict(type="list", elements="int", default=[]),
        sonar_active_status_ids=dict(type="list", elements="int", default=[]),
        use_mikrotik_ipv6=dict(type="bool", default=False),
        mikrotik_router_list=dict(type="path"),
    )


def secret_names(spec=None):
    return sorted(name for name, option in (spec or argument_spec()).items() if option.get("no_log"))


BOOL_WORDS = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}


def _convert(name, option, value):
    """One value to the option's type, or OptionsError naming the option."""
    kind = option.get("type", "str")
    try:
        if kind in ("str", "path"):
            if isinstance(value, (dict, list, bool)):
                raise ValueError("not a string")
            return str(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            return BOOL_WORDS[str(value).strip().lower()]
        if kind == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError("not an integer")
            return int(value)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError("not a number")
            return float(value)
        if kind == "list":
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, list):
                raise ValueError("not a list")
            element = dict(type=option.get("elements", "str"))
            return [_convert(name, element, item) for item in items]
        if kind == "dict":
            if not isinstance(value, dict):
                raise ValueError("not a mapping")
            return value
    except (KeyError, TypeError, ValueError) as exc:
        raise OptionsError("option %s: %r is not a valid %s (%s)" % (name, value, kind, exc))
    raise OptionsError("option %s: unsupported type %s in the spec" % (name, kind))


def with_defaults(params, spec=None):
    """A copy of `params` checked against the spec, with every default filled in."""
    spec = spec or argument_spec()
    aliases = dict((alias, name) for name, option in spec.items() for alias in option.get("aliases", ()))
    params = dict((aliases.get(name, name), value) for name, value in params.items())
    unknown = sorted(set(params) - set(spec))
    if unknown:
        raise OptionsError("unknown option(s): %s" % ", ".join(unknown))
    result = {}
    for name, option in spec.items():
        value = params.get(name)
        if value is None:
            if option.get("required"):
                raise OptionsError("option %s is required" % name)
            default = option.get("default")
            result[name] = list(default) if isinstance(default, list) else default
            continue
        value = _convert(name, option, value)
        if option.get("choices") and value not in option["choices"]:
            raise OptionsError("option %s: %r is not one of %s" % (name, value, ", ".join(map(str, option["choices"]))))
        result[name] = value
    return result


def build_settings(params):
    p = params
    return Settings(
        strategy=p["strategy"] or sources.default_strategy(p["source"]), root_site=p["root_site"],
        promote_to_root=p["promote_to_root"], exclude_sites=p["exclude_sites"],
        exception_cpes=parse_exception_cpes(p["exception_cpes"]),
        suspended_strategy=p["suspended_strategy"], airmax_capacity=p["airmax_capacity"],
        ltu_capacity=p["ltu_capacity"], bandwidth_overhead_factor=p["bandwidth_overhead_factor"],
        commit_bandwidth_multiplier=p["commit_bandwidth_multiplier"],
        use_ptmp_as_parent=p["use_ptmp_as_parent"],
        bandwidth_overrides=read_bandwidth_overrides(p["bandwidth_overrides"]) if p["bandwidth_overrides"] else None,
        route_overrides=read_route_overrides(p["route_overrides"]) if p["route_overrides"] else None,
        default_node_mbps=p["default_node_mbps"], fail_on_duplicate_ip=p["fail_on_duplicate_ip"],
        keep_top_level=p["keep_top_level"])
