# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers every CRM client shares while mapping its JSON into the common model."""

from __future__ import annotations

from .http import CrmError


def mapped(source, endpoint, items, mapper):
    """Call `mapper(item)` for each item; a wrong-shaped item fails naming endpoint and index.

    The common case runs as one comprehension; only when an item is wrong is the list walked
    again, one item at a time, to name it (the run fails then anyway).
    """
    try:
        return [result for result in map(mapper, items) if result is not None]
    except (KeyError, TypeError, AttributeError, ValueError):
        pass
    results = []
    for index, item in enumerate(items):
        try:
            result = mapper(item)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise CrmError(source, endpoint, "item %d has an unexpected shape (%s: %s)"
                           % (index, type(exc).__name__, exc))
        if result is not None:
            results.append(result)
    return results


def number(value, default=0.0):
    """A CRM number that may come as a string, null or empty."""
    if value is None or value == "":
        return default
    return float(value)


def text(value):
    return "" if value is None else str(value).strip()


class Rows(list):
    """Rows cut out of a larger answer, remembering the endpoint they came from (for messages);
    a JsonArray answer carries its `endpoint` the same way."""

    def __init__(self, endpoint, items):
        super(Rows, self).__init__(items)
        self.endpoint = endpoint


def split_list(value):
    """Addresses given as one value, a comma-separated string, or a JSON list -> clean strings."""
    items = value if isinstance(value, list) else text(value).split(",")
    return [text(item) for item in items if text(item)]
