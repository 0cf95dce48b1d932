# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The registry of CRM/NMS sources: which options each needs, and how to get a Snapshot.

A source module provides SOURCE (display name), DEFAULT_STRATEGY, NEVER_EMPTY (payload keys
a working CRM always fills), endpoint_path(key), session_options(params),
fetch(session, strategy, params) -> payloads, to_snapshot(payloads, settings), and optionally
base_url(url) and WRITES_NETWORK_JSON = False (the operator maintains network.json).
session_options may return "headers", "auth" and "form" (credentials sent as form fields).
"""

from __future__ import annotations

import contextlib
import gc

from ..topology import engine, publish
from ..topology.settings import TopologyError
from . import mikrotik_ipv6, netzur, powercode, sonar, splynx, ubilling, uisp, wispgate
from .http import CrmSession

SOURCES = {"splynx": splynx, "uisp": uisp}
REQUIRED = {"splynx": ("url", "api_key", "api_secret"), "uisp": ("url", "token")}
SOURCES.update(netzur=netzur, wispgate=wispgate, powercode=powercode)
REQUIRED.update(netzur=("url", "api_key"), wispgate=("url", "token"), powercode=("url", "api_key"))
SOURCES.update(sonar=sonar)
REQUIRED.update(sonar=("url", "token"))
SOURCES.update(ubilling=ubilling)
REQUIRED.update(ubilling=("url", "serial"))


def default_strategy(source):
    return SOURCES[source].DEFAULT_STRATEGY


def missing_options(source, params):
    return [name for name in REQUIRED[source] if not params.get(name)]


def open_session(source, params):
    module = SOURCES[source]
    url = module.base_url(params["url"]) if hasattr(module, "base_url") else params["url"]
    options = module.session_options(params)
    return CrmSession(module.SOURCE, url, timeout=params["timeout"], retries=params["retries"],
                      backoff=params.get("retry_backoff", 1.0), validate_certs=params["validate_certs"],
                      headers=options.get("headers"), auth=options.get("auth"), form=options.get("form"))


def fetch(source, params, settings, session=None):
    """The CRM's answers, checked and ready to map (large lists decode lazily).
    `session` defaults to open_session(source, params); the benchmark passes one that replays
    recorded answers."""
    allowed = getattr(SOURCES[source], "STRATEGIES", None)  # a source may support only some strategies
    if allowed and settings.strategy not in allowed:
        raise TopologyError("source=%s supports strategy %s, not %s"
                            % (source, " or ".join(allowed), settings.strategy))
    routers = None
    if params.get("use_mikrotik_ipv6"):  # a bad router list fails before any request
        routers = mikrotik_ipv6.routers(params)
    with paused_gc():  # decoding many pages allocates as much as mapping does
        payloads = SOURCES[source].fetch(session or open_session(source, params), settings.strategy, params)
    if routers is not None:
        payloads[mikrotik_ipv6.PAYLOAD_KEY] = mikrotik_ipv6.fetch_bindings(routers, params["timeout"])
    return payloads


@contextlib.contextmanager
def paused_gc():
    """Decoding and mapping 100k subscribers allocate millions of small objects, none of them in
    cycles; the cyclic collector would rescan them over and over (about 45% of the run time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def check_not_empty(source, payloads):
    """An empty list where a working CRM always has data is treated as a failing CRM."""
    module = SOURCES[source]
    for key in module.NEVER_EMPTY:
        value = payloads.get(key)
        if value is not None and (value.is_empty() if hasattr(value, "is_empty") else not value):
            endpoint = getattr(value, "endpoint", None) or module.endpoint_path(key)
            raise publish.SafetyValveError(
                "%s %s answered with an empty list where data was expected; nothing written; check the "
                "CRM, or set force=true if this is intended" % (module.SOURCE, endpoint))


def build_outputs(source, payloads, settings, output_dir, force=False, **output_options):
    """CRM answers -> (Topology, OutputPlan). Reads the current files; writes nothing."""
    if not force:
        check_not_empty(source, payloads)
    output_options["force"] = force
    output_options.setdefault("write_network_json", getattr(SOURCES[source], "WRITES_NETWORK_JSON", True))
    with paused_gc():
        snapshot = SOURCES[source].to_snapshot(payloads, settings)
        if mikrotik_ipv6.PAYLOAD_KEY in payloads:
            mikrotik_ipv6.apply(snapshot, payloads[mikrotik_ipv6.PAYLOAD_KEY])
        if not output_options["write_network_json"]:
            publish.add_operator_nodes(snapshot, output_dir)
        topology = engine.build(snapshot, settings)
        plan = publish.plan_outputs(topology, output_dir, **output_options)
    return topology, plan
