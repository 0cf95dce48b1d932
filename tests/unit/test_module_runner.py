# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/module_runner.py: each in-process run returns its own warnings and deprecations, and only those."""

from __future__ import annotations

import importlib

from ansible.module_utils import _internal as module_utils_internal
from ansible.module_utils.basic import AnsibleModule

from tests.module_runner import deprecations_of, run_module, warnings_of


def warning_module():
    """A module that warns and deprecates with the words it is given, then fails or exits."""
    module = AnsibleModule(argument_spec=dict(words=dict(type="str"), fail=dict(type="bool", default=False)))
    if module.params["words"]:
        module.warn("warned: %s" % module.params["words"])
        module.deprecate("deprecated: %s" % module.params["words"], version="9.0.0",
                         collection_name="isp.ops")
    if module.params["fail"]:
        module.fail_json(msg="failed as asked")
    module.exit_json(changed=False)


def test_a_warning_of_one_run_is_not_in_the_next():
    first = run_module(warning_module, dict(words="first"))
    assert warnings_of(first) == ["warned: first"]
    assert deprecations_of(first) == ["deprecated: first"]
    second = run_module(warning_module, dict(words="second"))
    assert warnings_of(second) == ["warned: second"]
    assert deprecations_of(second) == ["deprecated: second"]
    quiet = run_module(warning_module, {})
    assert "warnings" not in quiet and "deprecations" not in quiet


def test_a_failed_run_does_not_leave_its_warning_behind():
    failed = run_module(warning_module, dict(words="failing", fail=True))
    assert failed["failed"] is True and warnings_of(failed) == ["warned: failing"]
    assert "warnings" not in run_module(warning_module, {})


def test_warnings_are_returned_after_controller_code_was_imported():
    # A filter plugin test imports ansible._internal, which flags the whole process as the controller.
    importlib.import_module("ansible._internal")
    assert module_utils_internal.is_controller is True
    result = run_module(warning_module, dict(words="after the controller import"))
    assert warnings_of(result) == ["warned: after the controller import"]
    assert module_utils_internal.is_controller is True  # restored for the controller code around
