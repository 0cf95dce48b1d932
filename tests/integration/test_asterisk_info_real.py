# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""asterisk_info and AsteriskControl against two real Asterisk 22 instances (PBX and OML) in
network namespaces, with minimal hand-written PJSIP trunks on both sides (the OML side is the
seed's "PBX LAN" wizard template): qualify, RTT, CLI and AMI, reload failures, and the diagnosis
of a wrong secret, a wrong port and an unreachable host."""

from __future__ import annotations

import pytest

from ansible_collections.isp.ops.plugins.module_utils.asterisk.control import AsteriskControl, AsteriskError
from ansible_collections.isp.ops.plugins.modules import asterisk_info
from tests.integration.asterisk_lab import asterisk_marks, lab_fixture, wait_for

pytestmark = asterisk_marks()
lab = lab_fixture()

SECRET = "Lab-Secret-1"

# Issabel-style PJSIP trunk (endpoint, auths, aor with qualify, identify) towards OML.
PBX_TRUNK = """\
[omnileads]
type = endpoint
transport = transport-udp
context = from-internal
disallow = all
allow = alaw,ulaw
outbound_auth = omnileads
auth = omnileads-in
aors = omnileads
from_user = issabel

[omnileads]
type = auth
auth_type = userpass
username = issabel
password = {password}

[omnileads-in]
type = auth
auth_type = userpass
username = omnileads
password = {secret}

[omnileads]
type = aor
contact = sip:{oml}
qualify_frequency = 2

[omnileads]
type = identify
endpoint = omnileads
match = 10.66.0.2
"""

# The seed's OML "PBX LAN" wizard, with a short qualify so the lab converges fast.
OML_WIZARD = """\
[issabel]
type = wizard
transport = trunk-transport
accepts_registrations = no
sends_auth = yes
sends_registrations = no
accepts_auth = yes
endpoint/rtp_symmetric = no
endpoint/force_rport = no
endpoint/rewrite_contact = no
endpoint/timers = yes
aor/qualify_frequency = 2
endpoint/allow = alaw,ulaw
endpoint/dtmf_mode = rfc4733
endpoint/context = from-pbx
remote_hosts = 10.66.0.1:5066
inbound_auth/username = issabel
inbound_auth/password = {secret}
outbound_auth/username = omnileads
outbound_auth/password = {secret}
endpoint/from_user = omnileads
"""


def configure(lab, password=SECRET, oml="10.66.0.2:5161"):
    lab.pbx.write("pjsip_custom.conf", PBX_TRUNK.format(password=password, secret=SECRET, oml=oml))
    lab.oml.write("oml_pjsip_wizard.conf", OML_WIZARD.format(secret=SECRET))
    for instance in (lab.pbx, lab.oml):
        AsteriskControl(cli=instance.cli, runner=runner).reload("pjsip")


def runner(argv):
    import subprocess
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def info(run_module, **args):
    result = run_module(asterisk_info.main, args)
    assert "failed" not in result, result.get("msg")
    return result


def wait_trunk(run_module, status, **args):
    """asterisk_info until the named trunk's status is `status` (bounded)."""
    def reached():
        result = info(run_module, **args)
        return result if result["trunk"]["status"] == status else None

    return wait_for(reached, timeout=30, what="trunk %s %s" % (args.get("name"), status))


def test_trunk_qualifies_both_ways_with_rtt_via_cli_and_ami(lab, run_module):
    configure(lab)
    pbx = wait_trunk(run_module, "Avail", name="omnileads", asterisk_cli=lab.pbx.cli)
    assert pbx["trunk"]["up"] and pbx["diagnosis"] is None
    assert pbx["trunk"]["rtt_ms"] > 0 and (pbx["trunk"]["host"], pbx["trunk"]["port"]) == ("10.66.0.2", 5161)
    assert pbx["endpoints"][0]["transport"]["bind"] == "0.0.0.0:5066"

    oml = wait_trunk(run_module, "Avail", name="issabel", **lab.oml.ami)
    assert oml["trunk"]["up"] and oml["trunk"]["rtt_ms"] > 0
    assert oml["endpoints"][0]["matches"] == ["10.66.0.1:5066/32"]

    everything = info(run_module, technology="pjsip", **lab.pbx.ami)
    assert [c["status"] for c in everything["contacts"]] == ["Avail"]
    assert lab.pbx.ami_secret not in repr(everything)


def test_probe_of_a_good_trunk_sees_no_rejection_and_restores_the_history(lab, run_module):
    configure(lab)
    wait_trunk(run_module, "Avail", name="omnileads", asterisk_cli=lab.pbx.cli)
    result = info(run_module, name="omnileads", probe=True, asterisk_cli=lab.pbx.cli)
    assert result["trunk"]["up"] and result["trunk"]["rejected_by_peer"] is False
    assert result["trunk"]["seen_ports"] == [5161]
    assert "SIP/2.0" not in lab.pbx.rx("pjsip show history")   # switched off and empty again


def test_reloads_through_cli_and_ami_and_a_clear_failure(lab):
    for control in (AsteriskControl(cli=lab.pbx.cli, runner=runner),
                    AsteriskControl(ami=dict(host=lab.pbx.ami_host, port=5038, username=lab.pbx.ami_username,
                                             secret=lab.pbx.ami_secret))):
        assert "reloaded successfully" in control.reload("pjsip")
        assert control.reload("dialplan") == "Dialplan reloaded.\n"
        control.reload()
        with pytest.raises(AsteriskError) as failure:
            control.reload("sip")   # Asterisk 22 has no chan_sip
        assert "'sip reload'" in str(failure.value) and "No such command 'sip reload'" in str(failure.value)
        assert lab.pbx.ami_secret not in str(failure.value)


def test_wrong_secret_shows_as_avail_but_the_probe_diagnoses_it(lab, run_module):
    configure(lab, password="not-the-secret")
    wait_trunk(run_module, "Avail", name="omnileads", asterisk_cli=lab.pbx.cli)  # a 401 counts as an answer
    for args in (dict(asterisk_cli=lab.pbx.cli), lab.pbx.ami):
        result = info(run_module, name="omnileads", probe=True, **args)
        assert result["trunk"]["rejected_by_peer"] is True and result["trunk"]["up"] is False
        assert result["diagnosis"]["cause"] == "wrong_secret"
        assert "rejects our credentials" in result["diagnosis"]["message"]
    assert "Failed to authenticate" in lab.oml.read_log()


def test_wrong_port_is_told_apart_from_an_unreachable_host(lab, run_module):
    configure(lab, oml="10.66.0.2:5199")
    wait_trunk(run_module, "Unavail", name="omnileads", asterisk_cli=lab.pbx.cli)
    # OML still qualifies the PBX from 5161 during the probe window, which is how the port is told.
    result = info(run_module, name="omnileads", probe=True, probe_wait=5, asterisk_cli=lab.pbx.cli)
    assert (result["trunk"]["status"], result["trunk"]["rtt_ms"]) == ("Unavail", None)
    assert result["diagnosis"]["cause"] == "wrong_port", result["diagnosis"]
    assert "10.66.0.2:5199" in result["diagnosis"]["message"] and "5161" in result["diagnosis"]["message"]

    configure(lab, oml="10.66.0.9:5161")
    wait_trunk(run_module, "Unavail", name="omnileads", asterisk_cli=lab.pbx.cli)
    result = info(run_module, name="omnileads", probe=True, probe_wait=3, **lab.pbx.ami)
    assert result["diagnosis"]["cause"] == "unreachable_host", result["diagnosis"]


def test_a_trunk_that_is_not_there(lab, run_module):
    result = info(run_module, name="nothere", asterisk_cli=lab.oml.cli)
    assert result["trunk"]["found"] is False and result["diagnosis"]["cause"] == "not_configured"
