# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Collect warnings by kind, so 10,000 bad rows make one readable line, not 10,000."""

from __future__ import annotations

EXAMPLES_PER_KIND = 5


class Report(object):
    def __init__(self):
        self._kinds = {}  # kind -> [count, [examples]]

    def add(self, kind, example):
        entry = self._kinds.get(kind)
        if entry is None:
            entry = self._kinds[kind] = [0, []]
        entry[0] += 1
        if len(entry[1]) < EXAMPLES_PER_KIND:
            entry[1].append(example)

    def count(self, kind):
        entry = self._kinds.get(kind)
        return entry[0] if entry else 0

    def examples(self, kind):
        entry = self._kinds.get(kind)
        return list(entry[1]) if entry else []

    def messages(self):
        lines = []
        for kind, (count, examples) in self._kinds.items():
            more = "; and %d more" % (count - len(examples)) if count > len(examples) else ""
            lines.append("%s (%d): %s%s" % (kind, count, "; ".join(examples), more))
        return lines

    def counts(self):
        return dict((kind, entry[0]) for kind, entry in self._kinds.items())
