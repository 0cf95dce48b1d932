# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""crm_topology use_mikrotik_ipv6: Sonar emulator process + RouterOS API emulators on loopback."""

from __future__ import annotations

import pytest

from tests.emulators.labnet import generate
from tests.emulators.routeros import lab_routers
from tests.integration.crm_source_checks import files, rows, run, start_crm
from tests.module_runner import warnings_of

TOKEN = "sonar-ipv6-token-5a1f0c"
USER, PASSWORD = "libreqos", "Mk-router-pass-4Tq8"
SUBSCRIBERS = 120
HEADER = "Router Name / ID,IP,API Username,API Password,API Port\n"


@pytest.fixture
def crm(emulator):
    return start_crm(emulator, "sonar", SUBSCRIBERS, "--token", TOKEN)


@pytest.fixture
def routers():
    started = [router.start() for router in lab_routers(generate(SUBSCRIBERS, 1), 2, USER, PASSWORD)]
    yield started
    for router in started:
        router.stop()


def router_list(directory, routers):
    path = directory / "mikrotikDHCPRouterList.csv"
    path.write_text(HEADER + "".join("%s,127.0.0.1,%s,%s,%d\n" % (r.name, USER, PASSWORD, r.bound_port)
                                     for r in routers))
    return path


def expected_ipv6(network):
    """Device id as Sonar names it -> the lab's IPv6 prefixes of that device."""
    result = {}
    for subscriber in network.subscribers:
        for index, device in enumerate(subscriber.devices):
            kind = ("sonar:device:%d", "sonar:uninventoried-mac-address:%d")[index] % device.id if index < 2 \
                else "sonar:account-ip-assignments:%d" % subscriber.id
            result[kind] = ", ".join(device.ipv6)
    return result


def test_delegated_prefixes_reach_the_matching_circuits(crm, routers, out):
    network = generate(SUBSCRIBERS, 1)
    options = dict(token=TOKEN, strategy="flat", use_mikrotik_ipv6=True)
    router_list(out, routers)  # the default place: mikrotikDHCPRouterList.csv in output_dir
    first = run("sonar", crm.url, out, **options)
    assert first.get("failed") is None and first["changed"], first
    expected = expected_ipv6(network)
    written = rows(out)
    with_prefixes = [row for row in written if row["IPv6"]]
    assert len(with_prefixes) > 10 and any(not row["MAC"] for row in with_prefixes)  # by MAC and by IPv4
    for row in written:
        assert row["IPv6"] == expected[row["Device ID"]], row
    # Prefixes of accounts Sonar does not shape (inactive, suspended) and each router's stray binding.
    unshaped = sum(len(d.ipv6) for s in network.subscribers if not s.active or s.suspended for d in s.devices)
    assert any(w.startswith("MikroTik DHCPv6 binding matches no circuit, prefix not used (%d)" % (unshaped + 2))
               for w in warnings_of(first)), warnings_of(first)
    assert all(router.logins == {"ok": 1, "failed": 0} for router in routers)

    second = run("sonar", crm.url, out, **options)
    assert second["changed"] is False and second["written"] == []


def test_an_unreachable_router_only_warns(crm, routers, out):
    options = dict(token=TOKEN, strategy="flat", use_mikrotik_ipv6=True,
                   mikrotik_router_list=str(router_list(out.parent, routers)))
    run("sonar", crm.url, out, **options)
    full = dict((row["Device ID"], row["IPv6"]) for row in rows(out))
    port = routers[1].bound_port
    routers[1].stop()
    result = run("sonar", crm.url, out, **options)
    assert result.get("failed") is None, result
    assert result["changed"] is True
    messages = warnings_of(result)
    assert "MikroTik router not read, its DHCPv6 prefixes are missing (1): core-2 (127.0.0.1:%d): " \
        "Connection refused" % port in messages, messages
    after = dict((row["Device ID"], row["IPv6"]) for row in rows(out))
    assert set(after) == set(full)
    assert [d for d in after if after[d] != full[d]] and all(after[d] in ("", full[d]) for d in after)
    assert PASSWORD not in repr(result)


def test_wrong_password_warns_and_bad_router_list_fails_without_writing(crm, routers, out):
    options = dict(token=TOKEN, strategy="flat", use_mikrotik_ipv6=True)
    path = router_list(out.parent, routers)
    path.write_text(path.read_text().replace(PASSWORD, "not-the-password", 1))
    result = run("sonar", crm.url, out, mikrotik_router_list=str(path), **options)
    assert result.get("failed") is None and any(
        "core-1 (127.0.0.1:%d): invalid user name or password (6)" % routers[0].bound_port in m
        for m in warnings_of(result))
    before = files(out)
    path.write_text(HEADER + "core-1,127.0.0.1,%s,%s,api\n" % (USER, PASSWORD))
    result = run("sonar", crm.url, out, mikrotik_router_list=str(path), **options)
    assert result["failed"] is True
    assert result["msg"] == "mikrotik_router_list %s row 2 field port: 'api' is not a TCP port number" % path
    assert files(out) == before
    result = run("sonar", crm.url, out, mikrotik_router_list=str(out.parent / "missing.csv"), **options)
    assert result["failed"] is True and "missing.csv: cannot be read" in result["msg"]
    assert PASSWORD not in repr(result)


@pytest.mark.playbook
def test_sonar_with_mikrotik_ipv6_through_the_playbook(crm, routers, playbook, recap, out):
    path = router_list(out.parent, routers)
    extra = ["-e", "crm_source=sonar", "-e", "crm_url=%s" % crm.url, "-e", "crm_token=%s" % TOKEN,
             "-e", "crm_strategy=flat", "-e", "crm_root_site=''", "-e", "crm_route_overrides=''",
             "-e", "crm_use_mikrotik_ipv6=true", "-e", "crm_mikrotik_router_list=%s" % path,
             "-e", "shaper_data_dir=%s" % out, "--tags", "crm"]
    first = playbook("shapers.yml", *extra)
    assert first.returncode == 0, first.stdout[-3000:]
    assert recap(first.stdout)["changed"] == 1
    assert any(row["IPv6"] for row in rows(out))
    again = playbook("shapers.yml", *extra, "-vvv")
    assert again.returncode == 0, again.stdout[-3000:]
    assert recap(again.stdout)["changed"] == 0
    assert PASSWORD not in again.stdout + again.stderr and TOKEN not in again.stdout + again.stderr
