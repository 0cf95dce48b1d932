# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Normalising the addresses CRMs hand us into what ShapedDevices.csv expects.

This runs for every address of every subscriber (hundreds of thousands on a large network),
so it uses the C parsers of the socket module rather than the much slower ipaddress classes.
"""

from __future__ import annotations

import re
import socket

_V6 = socket.AF_INET6
# Four decimal octets without leading zeros; inet_aton then rejects octets above 255.
_DOTTED_QUAD = re.compile(r"(?:0|[1-9][0-9]{0,2})(?:\.(?:0|[1-9][0-9]{0,2})){3}").fullmatch


def _ipv4(text):
    """The dotted quad as an int, or raise ValueError (no octal, no short forms)."""
    if _DOTTED_QUAD(text) is None:
        raise ValueError("%r is not an IPv4 address" % text)
    try:
        return int.from_bytes(socket.inet_aton(text), "big")
    except OSError:
        raise ValueError("%r is not an IPv4 address" % text)


def _ipv6(text):
    try:
        packed = socket.inet_pton(_V6, text)
    except (OSError, ValueError):
        raise ValueError("%r is not an IPv6 address" % text)
    return int.from_bytes(packed, "big"), socket.inet_ntop(_V6, packed)


def normalize(text):
    """Return (version, canonical text) for an address or prefix, or raise ValueError.

    A bare address stays bare (a /32 or /128). A host address written with its subnet mask,
    as routers and UISP report them ("100.64.1.5/24"), is the host alone, as LibreQoS's
    fixSubnet does; a real network address keeps its prefix ("100.64.8.0/29").
    """
    text = text.strip()
    if _DOTTED_QUAD(text) is not None:  # the common case: a bare IPv4 address
        try:
            socket.inet_aton(text)
            return 4, text
        except OSError:
            raise ValueError("%r is not an IPv4 address" % text)
    address, slash, prefix = text.partition("/")
    if ":" in address:
        version, bits = 6, 128
        value, canonical = _ipv6(address)
    elif address:
        version, bits = 4, 32
        value = _ipv4(address)
        canonical = address
    else:
        raise ValueError("empty address")
    if not slash:
        return version, canonical
    if not prefix.isdigit() or int(prefix) > bits:
        raise ValueError("%r has an invalid prefix length" % text)
    length = int(prefix)
    host_bits = bits - length
    if length == bits or value & ((1 << host_bits) - 1):
        return version, canonical
    return version, "%s/%d" % (canonical, length)


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
