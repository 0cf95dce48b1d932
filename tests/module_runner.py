# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module's main() in-process, the way Ansible would, and return its JSON result."""

from __future__ import annotations

import contextlib
import io
import json

import pytest
from ansible.module_utils.testing import patch_module_args


def run_module(main, args, check_mode=False, diff=False):
    out = io.StringIO()
    with patch_module_args(dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)):
        with contextlib.redirect_stdout(out):
            with pytest.raises(SystemExit):
                main()
    return json.loads(out.getvalue())


def warnings_of(result):
    """ansible-core 2.19 returns warnings as structured events; older ones as strings."""
    return [w["event"]["msg"] if isinstance(w, dict) and "event" in w else str(w) for w in result.get("warnings", [])]
