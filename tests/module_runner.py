# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module's main() in-process, the way Ansible would, and return its JSON result."""

from __future__ import annotations

import contextlib
import io
import json
from unittest import mock

import pytest
from ansible.module_utils import _internal as module_utils_internal
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args


@contextlib.contextmanager
def module_side():
    """One in-process run seen as Ansible's target side sees it: a process of its own.

    ansible-core keeps a run's warnings and deprecations in process-global dicts; they are emptied
    before and after, so one run's warnings never show in the next one's result. And once anything
    imports controller code (ansible._internal, e.g. a filter plugin test), the process is flagged as
    the controller for good and module.warn() prints a [WARNING] instead of returning it; the flag is
    off for the run and restored after.
    """
    stores = (ansible_warnings._global_warnings, ansible_warnings._global_deprecations)
    for store in stores:
        store.clear()
    try:
        with mock.patch.object(module_utils_internal, "is_controller", False):
            yield
    finally:
        for store in stores:
            store.clear()


def run_module(main, args, check_mode=False, diff=False):
    out = io.StringIO()
    with module_side(), patch_module_args(dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)):
        with contextlib.redirect_stdout(out):
            with pytest.raises(SystemExit):
                main()
    return json.loads(out.getvalue())


def _messages(items):
    """ansible-core 2.19 returns warnings and deprecations as structured events; older ones as strings
    (warnings) or {'msg': ...} (deprecations)."""
    return [item["event"]["msg"] if isinstance(item, dict) and "event" in item
            else item["msg"] if isinstance(item, dict) else str(item) for item in items]


def warnings_of(result):
    return _messages(result.get("warnings", []))


def deprecations_of(result):
    return _messages(result.get("deprecations", []))
