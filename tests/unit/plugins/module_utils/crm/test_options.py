# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""crm/options.py: the one spec crm_topology and the sync CLI share, and its plain-dict checker."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.isp.ops.plugins.module_utils.crm import options
from ansible_collections.isp.ops.plugins.modules import crm_topology


def test_the_module_uses_the_shared_spec_plus_env_fallbacks():
    module_spec = crm_topology.argument_spec()
    shared = options.argument_spec()
    assert sorted(module_spec) == sorted(shared)
    for name, option in module_spec.items():
        fallback = option.pop("fallback", None)
        assert (fallback is not None) == (name in options.ENV_FALLBACKS)
        assert option == shared[name]


def test_secret_names_are_the_no_log_options():
    assert {"api_key", "api_secret", "token"} <= set(options.secret_names())
    assert "url" not in options.secret_names()


def test_defaults_filled_and_values_converted():
    params = options.with_defaults({"source": "uisp", "output_dir": "/x", "timeout": "30", "graph": "no",
                                    "promote_to_root": "A,B", "max_circuit_drop_percent": 5})
    assert params["timeout"] == 30 and params["graph"] is False
    assert params["promote_to_root"] == ["A", "B"]
    assert params["max_circuit_drop_percent"] == 5.0
    assert params["retries"] == 3 and params["suspended_strategy"] == "none" and params["strategy"] is None
    # a default list is a copy, not the spec's own object
    params["exclude_sites"].append("Z")
    assert options.with_defaults({"source": "uisp", "output_dir": "/x"})["exclude_sites"] == []


@pytest.mark.parametrize("params, message", [
    ({"source": "uisp", "output_dir": "/x", "colour": "red"}, "unknown option(s): colour"),
    ({"output_dir": "/x"}, "option source is required"),
    ({"source": "nope", "output_dir": "/x"}, "option source: 'nope' is not one of"),
    ({"source": "uisp", "output_dir": "/x", "timeout": "soon"}, "option timeout: 'soon' is not a valid int"),
    ({"source": "uisp", "output_dir": "/x", "timeout": 1.5}, "option timeout: 1.5 is not a valid int"),
    ({"source": "uisp", "output_dir": "/x", "graph": "maybe"}, "option graph: 'maybe' is not a valid bool"),
    ({"source": "uisp", "output_dir": "/x", "url": ["a"]}, "option url: ['a'] is not a valid str"),
    ({"source": "uisp", "output_dir": "/x", "strategy": "tree"}, "option strategy: 'tree' is not one of"),
])
def test_bad_params_name_the_option(params, message):
    with pytest.raises(options.OptionsError) as caught:
        options.with_defaults(params)
    assert message in str(caught.value)


def test_build_settings_takes_the_source_default_strategy():
    params = options.with_defaults({"source": "uisp", "output_dir": "/x", "exception_cpes": ["cpe1:AP 1"]})
    settings = options.build_settings(params)
    assert settings.strategy == "full"
    assert settings.exception_cpes == {"cpe1": "AP 1"}


def test_crm_sync_role_passes_every_option_of_the_spec():
    """The crm_sync role's lists of crm_* variables cover the whole spec, so a new source option
    cannot reach crm_topology and silently miss the timer's runs."""
    role_vars = os.path.join(os.path.dirname(crm_topology.__file__), "..", "..", "roles", "crm_sync", "vars",
                             "main.yml")
    with open(role_vars) as handle:
        listed = yaml.safe_load(handle)
    # source, url and output_dir are set by the role itself; force is for one-off runs only.
    set_by_role = {"source", "url", "output_dir", "force"}
    spec = set(options.argument_spec()) - set_by_role
    assert set(listed["crm_sync_inventory_secrets"]) == set(options.secret_names())
    assert set(listed["crm_sync_inventory_options"]) == spec - set(options.secret_names())


def test_shapers_playbook_passes_every_option_from_its_crm_variable():
    """playbooks/shapers.yml's one-off import reads the same crm_<option> variables as the timer."""
    playbook_path = os.path.join(os.path.dirname(crm_topology.__file__), "..", "..", "playbooks", "shapers.yml")
    with open(playbook_path) as handle:
        plays = yaml.safe_load(handle)
    tasks = [task for play in plays for task in play.get("tasks", ()) if "isp.ops.crm_topology" in task]
    assert len(tasks) == 1
    passed = tasks[0]["isp.ops.crm_topology"]
    assert set(passed) == set(options.argument_spec())
    for name, value in passed.items():
        if name not in ("url", "source", "output_dir"):
            assert value == "{{ crm_%s | default(omit) }}" % name, name
