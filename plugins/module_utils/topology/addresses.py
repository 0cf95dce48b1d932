# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Normalising the addresses CRMs hand us into what ShapedDevices.csv expects."""

from __future__ import annotations

import ipaddress


def _plain_ipv4(text):
    """Fast path for the common case, a bare dotted quad; None when it is anything else."""
    parts = text.split(".")
    if len(parts) != 4:
        return None
    for part in parts:
        if not part.isdigit() or len(part) > 3 or (len(part) > 1 and part[0] == "0") or int(part) > 255:
            return None
    return text


def normalize(text):
    """Return (version, canonical text) for an address or prefix, or raise ValueError.

    A bare address stays bare (a /32 or /128). A host address written with its subnet mask,
    as routers and UISP report them ("100.64.1.5/24"), is the host alone, as LibreQoS's
    fixSubnet does; a real network address keeps its prefix ("100.64.8.0/29").
    """
    text = text.strip()
    if not text:
        raise ValueError("empty address")
    plain = _plain_ipv4(text)
    if plain is not None:
        return 4, plain
    if "/" not in text:
        address = ipaddress.ip_address(text)
        return address.version, str(address)
    interface = ipaddress.ip_interface(text)
    network = interface.network
    if interface.ip == network.network_address:
        if network.prefixlen == network.max_prefixlen:
            return network.version, str(network.network_address)
        return network.version, str(network)
    return network.version, str(interface.ip)


def split_list(value):
    """CRM address fields come as a list, or a string separated by commas or spaces."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        items = []
        for item in value:
            items.extend(split_list(item))
        return items
    return [item for item in str(value).replace(",", " ").split() if item]
