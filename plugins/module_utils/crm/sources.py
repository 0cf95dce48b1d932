# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The registry of CRM/NMS sources: which options each needs, and how to get a Snapshot.

A source module provides SOURCE (display name), DEFAULT_STRATEGY, session_options(params),
fetch(session, strategy) -> payloads, to_snapshot(payloads, settings), and optionally
base_url(url).
"""

from __future__ import annotations

from . import splynx, uisp
from .http import CrmSession

SOURCES = {"splynx": splynx, "uisp": uisp}
REQUIRED = {"splynx": ("url", "api_key", "api_secret"), "uisp": ("url", "token")}


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
                      headers=options.get("headers"), auth=options.get("auth"))


def load_snapshot(source, params, settings):
    module = SOURCES[source]
    payloads = module.fetch(open_session(source, params), settings.strategy)
    return module.to_snapshot(payloads, settings)
