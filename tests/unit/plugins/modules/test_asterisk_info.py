# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""asterisk_info's main(): options, AMI path (a loopback AMI server answering with listings captured
from the real Asterisk 22 lab), check mode, failures and the secret kept out of the result."""

from __future__ import annotations

import os

import pytest

from ansible_collections.isp.ops.plugins.modules import asterisk_info
from tests.emulators.fake_ami import FakeAmi

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "module_utils", "asterisk", "fixtures")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


OUTPUTS = {"pjsip show endpoints": fixture("pjsip_endpoints_oml_wizard.txt"),
           "pjsip show contacts": fixture("pjsip_aors.txt"),
           "pjsip show history": fixture("pjsip_history_wrong_secret_oml.txt")}


def ami_args(fake, **extra):
    return dict(ami_host="127.0.0.1", ami_port=fake.port, ami_username=fake.username, ami_secret=fake.secret,
                ami_timeout=3, **extra)


@pytest.mark.parametrize("reply_format", ["output", "follows"])
def test_lists_everything_over_ami_in_check_mode(run_module, reply_format):
    with FakeAmi(outputs=OUTPUTS, reply_format=reply_format) as fake:
        result = run_module(asterisk_info.main, ami_args(fake), check_mode=True)
    assert not result["changed"] and "failed" not in result
    assert result["technologies"] == ["pjsip"]
    (endpoint,) = result["endpoints"]
    assert endpoint["name"] == "issabel" and endpoint["contacts"][0]["status"] == "Avail"
    assert fake.secret not in repr(result)


def test_named_trunk_with_the_history_on_gets_a_diagnosis(run_module):
    with FakeAmi(outputs=OUTPUTS) as fake:
        result = run_module(asterisk_info.main, ami_args(fake, name="issabel"))
    assert result["trunk"]["status"] == "Avail" and result["trunk"]["rejected_here"] is True
    assert result["trunk"]["up"] is False
    assert result["diagnosis"]["cause"] == "wrong_secret"
    assert fake.commands == ["sip show peers", "pjsip show endpoints", "pjsip show contacts", "pjsip show history"]


def test_wrong_ami_secret_fails_without_the_secret(run_module):
    with FakeAmi(outputs=OUTPUTS) as fake:
        result = run_module(asterisk_info.main, dict(ami_args(fake), ami_secret="guessed-wrong"))
    assert result["failed"]
    assert "login as 'isptest' refused" in result["msg"] and "guessed-wrong" not in result["msg"]


@pytest.mark.parametrize("args, message", [
    (dict(probe=True), "probe needs a trunk name"),
    (dict(name="x", probe_wait=0), "probe_wait must be between 0 and 60"),
    (dict(ami_host="127.0.0.1"), "ami_username"),
])
def test_bad_options(run_module, args, message):
    result = run_module(asterisk_info.main, args)
    assert result["failed"] and message in result["msg"]
