# -*- coding: utf-8 -*-
# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    """Connection options shared by every module that talks to a CRM/NMS API."""

    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the CRM or NMS, for example V(https://splynx.example.net) or V(https://uisp.example.net).
      - For UISP, V(/nms/api/v2.1) is appended unless the URL already ends with it.
      - For Netzur, the full URL of its LibreQoS endpoint (C(api_url) in C(/etc/lqos.conf)), fetched as it is,
        for example V(https://netzur.example.net/api/libreqos).
      - For WISPGate, the base URL; V(/api/libreqos/shaped-devices) is appended.
      - For Powercode, the base URL; port V(444) is added unless the URL names a port, then
        V(/api/preseem/index.php).
      - For Sonar, the base URL; V(/api/graphql) is appended unless the URL already ends with it.
      - For Ubilling, the directory that holds its C(index.php), for example V(http://127.0.0.1/billing/); the
        UserSide API is read through C(?module=remoteapi&action=userside).
    type: str
  api_key:
    description:
      - API key (Splynx), Bearer token (Netzur C(api_key)) or C(apiKey) form field (Powercode).
        Falls back to the E(ISP_OPS_CRM_API_KEY) environment variable.
    type: str
  api_secret:
    description:
      - API secret (Splynx). Falls back to the E(ISP_OPS_CRM_API_SECRET) environment variable.
    type: str
  token:
    description:
      - API token (UISP C(X-Auth-Token); WISPGate C(api_token) form field; Sonar Bearer token). Falls back to the
        E(ISP_OPS_CRM_TOKEN) environment variable.
    type: str
  serial:
    description:
      - The Ubilling serial, the C(key) of its remote API (Ubilling only). Never shown, URLs in messages carry
        C(key=***). Falls back to the E(ISP_OPS_UBILLING_SERIAL) environment variable.
      - A separate option rather than O(api_key), so that the name says what Ubilling calls it and the
        same variable serves M(isp.ops.ubilling_remoteapi).
    type: str
  timeout:
    description:
      - Seconds to wait for each HTTP answer.
      - O(timeout_secs) is the Netzur name of the same setting (C(timeout_secs) in C(/etc/lqos.conf)).
    type: int
    default: 60
    aliases: [timeout_secs]
  retries:
    description:
      - How many times a request is retried after HTTP 429 or 5xx, a reset or a refused connection,
        with exponential backoff. V(0) disables retries.
    type: int
    default: 3
  retry_backoff:
    description: Backoff factor in seconds between retries (1, 2, 4... times this value).
    type: float
    default: 1.0
  validate_certs:
    description: Verify the TLS certificate of the API. Only turn this off for a lab.
    type: bool
    default: true
"""
