# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures shared by every test layer."""

from __future__ import annotations

import pytest

from tests.module_runner import run_module as run_module_main


@pytest.fixture
def run_module():
    """main() in-process, as Ansible runs it: run_module(main, args, check_mode=, diff=)."""
    return run_module_main
