# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shaping bridge: one Linux bridge joining to_internet and to_network.

Plain Python, no Ansible imports; pyroute2 is imported under a guard (``HAS_PYROUTE2``).

    current = read_links(ipr)                                  # {ifname: link dict}
    steps, after = plan_present(current, "br-shaper", ("eth1", "eth2"), mtu=None)
    apply_steps(ipr, steps)

The plan is pure (unit-tested without a kernel): it raises ``BridgeError`` for a missing port,
a port enslaved elsewhere or disagreeing MTUs, and otherwise lists the netlink steps in the
order they must run (STP off before forward delay 0, port MTUs before enslaving, the bridge MTU
and "up" last).

Offloads (GRO, GSO, TSO, LRO) go through ``ethtool``: ``ethtool_command()`` builds the
argument list (wrapped in ``ip netns exec`` for a namespace), ``parse_features()`` reads
``ethtool -k`` and ``offload_plan()`` says which features to turn off and which cannot be
(``[fixed]`` by the driver, or refused earlier: ``[requested off]``).
"""

from __future__ import annotations

import os
import re

from .pyroute2_guard import HAS_PYROUTE2, PYROUTE2_IMPORT_ERROR, IPRoute

IFF_UP = 0x1
IFNAMSIZ = 16  # including the trailing NUL: 15 characters at most
USER_HZ = 100  # IFLA_BR_FORWARD_DELAY is in clock_t (centiseconds)
NETNS_DIR = "/run/netns"

# short name (ethtool -K) -> long name in `ethtool -k` output. tcp-segmentation-offload is a
# group (tx-tcp-segmentation, tx-tcp6-segmentation, ...): its indented members carry the flags.
OFFLOADS = (
    ("gro", "generic-receive-offload"),
    ("gso", "generic-segmentation-offload"),
    ("tso", "tcp-segmentation-offload"),
    ("lro", "large-receive-offload"),
)
OFF = "off"
OFF_FIXED = "off (fixed)"
ON_FIXED = "on (fixed)"        # the driver does not allow turning it off
ON_REFUSED = "on (refused)"    # asked to turn off before, the driver kept it on
ON = "on"                      # only reported with offloads=keep, or before a change
UNSUPPORTED = "unsupported"    # the device does not list the feature at all
NOT_CHANGEABLE = (ON_FIXED, ON_REFUSED)

_FEATURE_LINE = re.compile(r"^(\s*)([A-Za-z0-9_-]+): (on|off)(?: \[(fixed|requested on|requested off)\])?\s*$")


class BridgeError(Exception):
    """A problem the user must fix (message names the interface); nothing was changed for it."""


def valid_ifname(name):
    """True for a name the kernel accepts (1..15 characters, no '/', ':' or white space)."""
    return (isinstance(name, str) and 0 < len(name) < IFNAMSIZ and name not in (".", "..")
            and not re.search(r"[/:\s]", name))


def where(netns):
    return " in netns %s" % netns if netns else ""


# -- netlink ----------------------------------------------------------------------------------
def open_ipr(netns=None):
    """IPRoute on the host or inside an existing namespace (never creates one)."""
    if not HAS_PYROUTE2:
        raise BridgeError("pyroute2 is missing: %s" % PYROUTE2_IMPORT_ERROR)
    if not netns:
        return IPRoute()
    if "/" in netns or netns in (".", "..") or not os.path.exists(os.path.join(NETNS_DIR, netns)):
        raise BridgeError("network namespace %s does not exist (%s/%s is missing)" % (netns, NETNS_DIR, netns))
    try:
        return IPRoute(netns=netns, flags=0)
    except OSError as err:
        raise BridgeError("cannot enter network namespace %s: %s" % (netns, err))


def link_dict(msg, names):
    """One RTM_NEWLINK message as a plain dict; `names` maps ifindex -> name (for master)."""
    info = msg.get_attr("IFLA_LINKINFO")
    kind = info.get_attr("IFLA_INFO_KIND") if info else None
    link = {
        "index": msg["index"],
        "kind": kind,
        "mtu": msg.get_attr("IFLA_MTU"),
        "up": bool(msg["flags"] & IFF_UP),
        "master": names.get(msg.get_attr("IFLA_MASTER")) if msg.get_attr("IFLA_MASTER") else None,
        "master_kind": None,
    }
    if kind == "bridge":
        data = info.get_attr("IFLA_INFO_DATA")
        link["stp_state"] = data.get_attr("IFLA_BR_STP_STATE") if data else None
        delay = data.get_attr("IFLA_BR_FORWARD_DELAY") if data else None
        link["forward_delay"] = None if delay is None else delay / float(USER_HZ)
    return link


def read_links(ipr):
    """{ifname: link dict} of every interface of the namespace, with the master's kind filled in."""
    msgs = list(ipr.get_links())
    names = dict((m["index"], m.get_attr("IFLA_IFNAME")) for m in msgs)
    links = dict((m.get_attr("IFLA_IFNAME"), link_dict(m, names)) for m in msgs)
    for link in links.values():
        if link["master"] in links:
            link["master_kind"] = links[link["master"]]["kind"]
    return links


def bridge_ports(links, name):
    return sorted(n for n, link in links.items() if link["master"] == name)


# -- plan -------------------------------------------------------------------------------------
def describe(links, name, ports):
    """The settings diff mode shows: bridge, member ports, and the managed ports' state."""
    bridge = links.get(name)
    if bridge is None or bridge["kind"] != "bridge":
        out = {"name": name, "state": "absent"}
    else:
        out = {"name": name, "state": "present", "stp_state": bridge.get("stp_state"),
               "forward_delay": bridge.get("forward_delay"), "mtu": bridge["mtu"], "up": bridge["up"],
               "ports": bridge_ports(links, name)}
    out["interfaces"] = dict((p, {"mtu": links[p]["mtu"], "up": links[p]["up"], "master": links[p]["master"]})
                             for p in ports if p in links)
    return out


def check_names(name, ports):
    for what, value in [("name", name)] + list(ports.items()):
        if not valid_ifname(value):
            raise BridgeError("%s: %r is not a valid interface name (1 to 15 characters, no '/', ':' or space)"
                              % (what, value))
    if len(set(ports.values())) != len(ports):
        raise BridgeError("to_internet and to_network are the same interface (%s)" % ports["to_internet"])
    for role, port in ports.items():
        if port == name:
            raise BridgeError("%s %s is the bridge itself" % (role, port))


def target_mtu(links, ports, mtu):
    """The MTU to use: the option, else the ports' common MTU; fails if they disagree."""
    if mtu is not None:
        if not 68 <= int(mtu) <= 65535:
            raise BridgeError("mtu %s is out of range (68 to 65535)" % mtu)
        return int(mtu)
    current = dict((role, links[port]["mtu"]) for role, port in ports.items())
    if len(set(current.values())) > 1:
        raise BridgeError("the ports disagree on the MTU: %s; set mtu to the one to use on both and the bridge"
                          % ", ".join("%s %s has %s" % (role, ports[role], current[role]) for role in sorted(current)))
    return next(iter(current.values()))


def plan_present(links, name, ports, mtu=None, netns=None):
    """Steps to make bridge `name` join `ports` ({"to_internet": ifname, "to_network": ifname}).

    Returns (steps, mtu, warnings), mtu being the MTU the ports and the bridge get. Each step is a tuple whose first item is the action:
    ("create", name), ("stp_off", name), ("forward_delay_0", name), ("mtu", ifname, mtu),
    ("enslave", port, name), ("up", ifname). Raises BridgeError naming the interface.
    """
    check_names(name, ports)
    bridge = links.get(name)
    if bridge is not None and bridge["kind"] != "bridge":
        raise BridgeError("%s exists%s and is not a bridge (kind %s)" % (name, where(netns), bridge["kind"]))
    for role in sorted(ports):
        port = ports[role]
        if port not in links:
            raise BridgeError("%s: interface %s does not exist%s" % (role, port, where(netns)))
        link = links[port]
        if link["kind"] == "bridge":
            raise BridgeError("%s: interface %s is itself a bridge" % (role, port))
        master = link["master"]
        if master is not None and master != name:
            owner = ("bridge %s" % master if link["master_kind"] == "bridge"
                     else "%s (%s)" % (master, link["master_kind"] or "another master device"))
            raise BridgeError("%s: interface %s already belongs to %s%s; release it first"
                              % (role, port, owner, where(netns)))
    mtu = target_mtu(links, ports, mtu)
    steps, warnings = [], []
    if bridge is None:
        steps.append(("create", name))
    else:
        if bridge.get("stp_state") != 0:
            steps.append(("stp_off", name))
        if bridge.get("forward_delay") != 0:
            steps.append(("forward_delay_0", name))
        extra = [p for p in bridge_ports(links, name) if p not in ports.values()]
        if extra:
            warnings.append("bridge %s has other ports besides to_internet and to_network: %s (left as they are; "
                            "traffic through them bypasses the shaper)" % (name, ", ".join(extra)))
    for role in sorted(ports):
        if links[ports[role]]["mtu"] != mtu:
            steps.append(("mtu", ports[role], mtu))
    for role in sorted(ports):
        if links[ports[role]]["master"] != name:
            steps.append(("enslave", ports[role], name))
    if bridge is not None and bridge["mtu"] != mtu:
        # a new bridge takes its ports' MTU when they join (see ensure_bridge_mtu())
        steps.append(("mtu", name, mtu))
    for role in sorted(ports):
        if not links[ports[role]]["up"]:
            steps.append(("up", ports[role]))
    if bridge is None or not bridge["up"]:
        steps.append(("up", name))
    return steps, mtu, warnings


def predict(links, steps, mtu):
    """`links` as they will be after `steps` (for check and diff mode)."""
    after = dict((n, dict(link)) for n, link in links.items())
    for step in steps:
        action, ifname = step[0], step[1]
        if action == "create":
            after[ifname] = {"index": None, "kind": "bridge", "mtu": mtu, "up": False, "master": None,
                             "master_kind": None, "stp_state": 0, "forward_delay": 0.0}
        elif action == "stp_off":
            after[ifname]["stp_state"] = 0
        elif action == "forward_delay_0":
            after[ifname]["forward_delay"] = 0.0
        elif action == "mtu":
            after[ifname]["mtu"] = step[2]
        elif action == "enslave":
            after[ifname]["master"], after[ifname]["master_kind"] = step[2], "bridge"
        elif action == "up":
            after[ifname]["up"] = True
    return after


def step_text(step):
    action = step[0]
    if action == "create":
        return "create bridge %s (stp off, forward delay 0)" % step[1]
    if action == "stp_off":
        return "turn STP off on %s" % step[1]
    if action == "forward_delay_0":
        return "set forward delay of %s to 0" % step[1]
    if action == "mtu":
        return "set MTU of %s to %d" % (step[1], step[2])
    if action == "enslave":
        return "add %s to bridge %s" % (step[1], step[2])
    if action == "up":
        return "set %s up" % step[1]
    if action == "delete":
        return "delete bridge %s" % step[1]
    return " ".join(str(s) for s in step)


def _index(ipr, ifname):
    found = ipr.link_lookup(ifname=ifname)
    if not found:
        raise BridgeError("interface %s vanished while it was being configured" % ifname)
    return found[0]


def apply_steps(ipr, steps):
    """Run the planned steps through netlink, in order; returns the steps done.

    A netlink failure raises BridgeError naming the step; the steps before it stay done.
    """
    done = []
    for step in steps:
        try:
            _apply_step(ipr, step)
        except BridgeError:
            raise
        except Exception as err:  # NetlinkError, OSError
            raise BridgeError("%s failed: %s (done before: %s)"
                              % (step_text(step), err, "; ".join(step_text(d) for d in done) or "nothing"))
        done.append(step)
    return done


def _apply_step(ipr, step):
    action, ifname = step[0], step[1]
    if action == "create":
        # a new bridge starts with STP off; forward delay 0 is accepted only with STP off
        ipr.link("add", ifname=ifname, kind="bridge", br_stp_state=0, br_forward_delay=0)
    elif action == "stp_off":
        ipr.link("set", index=_index(ipr, ifname), kind="bridge", br_stp_state=0)
    elif action == "forward_delay_0":
        ipr.link("set", index=_index(ipr, ifname), kind="bridge", br_forward_delay=0)
    elif action == "mtu":
        index = _index(ipr, ifname)
        if ipr.get_links(index)[0].get_attr("IFLA_MTU") != step[2]:
            ipr.link("set", index=index, mtu=step[2])
    elif action == "enslave":
        ipr.link("set", index=_index(ipr, ifname), master=_index(ipr, step[2]))
    elif action == "up":
        ipr.link("set", index=_index(ipr, ifname), state="up")
    elif action == "delete":
        ipr.link("del", index=_index(ipr, ifname))
    else:
        raise ValueError("unknown step %r" % (step,))


def ensure_bridge_mtu(ipr, name, mtu):
    """Set the bridge's MTU if it is not `mtu` (after its ports joined); True if it was set."""
    if ipr.get_links(_index(ipr, name))[0].get_attr("IFLA_MTU") == mtu:
        return False
    apply_steps(ipr, [("mtu", name, mtu)])
    return True


def plan_absent(links, name, netns=None):
    if not valid_ifname(name):
        raise BridgeError("name: %r is not a valid interface name" % (name,))
    bridge = links.get(name)
    if bridge is None:
        return []
    if bridge["kind"] != "bridge":
        raise BridgeError("%s exists%s and is not a bridge (kind %s); not deleting it" % (name, where(netns), bridge["kind"]))
    return [("delete", name)]


# -- offloads (ethtool) -----------------------------------------------------------------------
def ethtool_command(ethtool, ifname, args, netns=None, ip="ip"):
    """Argument list for `ethtool <args...> <ifname>`-style calls, inside `netns` if given."""
    command = [ethtool] + list(args[:1]) + [ifname] + list(args[1:])
    if netns:
        command = [ip, "netns", "exec", netns] + command
    return command


def parse_features(text):
    """`ethtool -k` output -> {long name: {"on", "fixed", "requested", "members": {...}}}.

    Indented lines are members of the group above them (tcp-segmentation-offload's
    tx-tcp-segmentation, ...); lines in other formats (the "Features for X:" title) are skipped.
    """
    features = {}
    group = None
    for line in text.splitlines():
        match = _FEATURE_LINE.match(line)
        if not match:
            continue
        indent, name, state, note = match.groups()
        entry = {"on": state == "on", "fixed": note == "fixed",
                 "requested": note[len("requested "):] if note and note.startswith("requested") else None,
                 "members": {}}
        if indent and group is not None:
            group["members"][name] = entry
        else:
            features[name] = entry
            group = entry
    return features


def feature_status(entry):
    """(status, changeable) of one feature (or group) from parse_features()."""
    if entry is None:
        return UNSUPPORTED, False
    parts = list(entry["members"].values()) or [entry]
    on = [p for p in parts if p["on"]]
    if not on:
        return (OFF_FIXED if all(p["fixed"] for p in parts) else OFF), False
    if any(not p["fixed"] and p["requested"] != "off" for p in on):
        return ON, True
    return (ON_FIXED if any(p["fixed"] for p in on) else ON_REFUSED), False


def offload_plan(features):
    """({short name: status now}, [short names to turn off]) for GRO, GSO, TSO and LRO."""
    status, to_turn_off = {}, []
    for short, long_name in OFFLOADS:
        state, changeable = feature_status(features.get(long_name))
        status[short] = state
        if changeable:
            to_turn_off.append(short)
    return status, to_turn_off


def offload_args(to_turn_off):
    """`ethtool -K` arguments (after the interface name) turning the given features off."""
    args = []
    for short in to_turn_off:
        args += [short, "off"]
    return args
