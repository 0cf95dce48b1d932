# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The seed's Ubilling crontab (the remoteapi wiki's "minimum gentleman's set") as test data."""

from __future__ import annotations

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEED_CRONTAB = os.path.join(ROOT, "tests", "integration", "files", "ubilling_minimum_set.crontab")
# "#Ansible: isp.ops ubilling: <name>" then "<5 fields> [user] <wrapper> [--lock] "<action>""
ENTRY = re.compile(r'^#Ansible: isp\.ops ubilling: (\S+)\n(\S+ \S+ \S+ \S+ \S+) (?:\S+ )?\S+/ubapi( --lock)? "([^"]*)"$',
                   re.M)


def seed_jobs() -> list[tuple[str, str]]:
    """[(schedule, action)] of the seed's crontab lines, in its order."""
    jobs = []
    with open(SEED_CRONTAB, encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            if fields and not line.startswith("#"):
                assert fields[5] == "/bin/ubapi" and len(fields) == 7, line
                jobs.append((" ".join(fields[:5]), fields[6].strip('"')))
    assert len(jobs) == 19
    return jobs


def managed_entries(text: str) -> list[tuple[str, str, str, bool]]:
    """[(name, schedule, action, locked)] of the role's entries in a crontab or cron file."""
    return [(name, schedule, action, bool(lock)) for name, schedule, lock, action in ENTRY.findall(text)]
