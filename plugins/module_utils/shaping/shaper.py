# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One shaper run: files -> validated inputs -> plan -> kernel diff -> apply -> classifier maps.

Used by the isp.ops.shaper_queues module and by the boot/timer runner, so both behave alike.
Nothing touches the kernel until the files are valid and the whole plan is computed. Both
directions are applied as one unit: if the second fails, the first is put back as it was.
"""

from __future__ import annotations

import json
import os

from . import leafprobe, planner, validate
from .classifier import DOWNLOAD, UPLOAD, Classifier
from .spec import DEFAULT_MINOR, classid, format_classid
from .tc_apply import DEFAULT_LOCK, TcLock, apply, diff, read_state, restore
from .tc_netlink import TcError, open_socket
from ..topology.fileio import read_text, write_atomic

PLAN_STATE = "plan_state.json"
CLASS_MAP = "classes.json"  # read by shaper_stats


class ShaperError(Exception):
    """A run that changed nothing, or that put everything back, with the reason."""


class ShaperConfig(object):
    FIELDS = ("network_json", "shaped_devices", "to_internet", "to_network", "downlink_mbps", "uplink_mbps",
              "sqm", "queues", "netns", "state_dir", "bpf_source", "lock_path", "lock_timeout")

    def __init__(self, **values):
        defaults = dict(sqm="cake diffserv4", queues=0, netns=None, bpf_source=None, lock_path=DEFAULT_LOCK,
                        lock_timeout=60.0)
        defaults.update(dict((k, v) for k, v in values.items() if v is not None))
        missing = [name for name in self.FIELDS if name not in defaults]
        if missing:
            raise ShaperError("missing settings: %s" % ", ".join(missing))
        for name in self.FIELDS:
            setattr(self, name, defaults[name])


class RunResult(object):
    def __init__(self, plan, changesets, maps, warnings):
        self.plan = plan
        self.changesets = changesets  # {"download": ChangeSet, "upload": ChangeSet}
        self.maps = maps  # {"download": (added, changed, removed), "upload": ...}
        self.warnings = warnings

    @property
    def changed(self):
        return any(bool(c) for c in self.changesets.values()) or any(sum(m) for m in self.maps.values())

    def summary(self):
        """Per direction: the count of each kernel action and of classifier map updates."""
        out = {}
        for direction, changes in self.changesets.items():
            entry = dict(changes.summary())
            entry["rebuild"] = bool(changes.rebuild)
            added, changed, removed = self.maps[direction]
            entry["prefixes"] = {"added": added, "changed": changed, "removed": removed}
            out[direction] = entry
        return out

    def per_item(self):
        """{"circuits": {"added": [...], "changed": [...], "removed": [...]}, "nodes": {...}}."""
        out = {"circuits": {"added": set(), "changed": set(), "removed": set()},
               "nodes": {"added": set(), "changed": set(), "removed": set()}}
        for changes in self.changesets.values():
            for label, actions in changes.by_label().items():
                kind, dummy, name = label.partition(":")
                if kind not in ("circuit", "node"):
                    continue
                out[kind + "s"][_verdict(actions)].add(name)
        return dict((k, dict((v, sorted(s)) for v, s in d.items())) for k, d in out.items())

    def diff(self, limit=200):
        before, after = [], []
        for direction, changes in sorted(self.changesets.items()):
            for change in changes:
                if hasattr(change.old, "rate"):  # a class, not a leaf qdisc or the root
                    before.append("%s %s" % (direction, _describe(change.classid, change.label, change.old)))
                if hasattr(change.new, "rate"):
                    after.append("%s %s" % (direction, _describe(change.classid, change.label, change.new)))
        return {"before": _clip(before, limit), "after": _clip(after, limit)}


def _verdict(actions):
    """A class added (with its leaf) is added, deleted is removed; anything else, including a
    move to another parent (deleted, then added again), is changed."""
    added, removed = "add_class" in actions, "del_class" in actions
    if added and not removed:
        return "added"
    if removed and not added:
        return "removed"
    return "changed"


def _describe(cid, label, cls):
    return "%s %s rate=%s ceil=%s quantum=%d prio=%d" % (
        format_classid(cid), label or "", _mbit(cls.rate), _mbit(cls.ceil), cls.quantum, cls.prio)


def _mbit(bps):
    return ("%.3f" % (bps / 1e6)).rstrip("0").rstrip(".") + "mbit"


def _clip(lines, limit):
    lines = sorted(lines)
    if len(lines) > limit:
        lines = lines[:limit] + ["... and %d more" % (len(lines) - limit)]
    return "\n".join(lines) + ("\n" if lines else "")


def _load_json(path):
    text = read_text(path)
    if not text:
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return {}  # a damaged state only costs stable ids once; the planner starts afresh


SYS_NET = "/sys/class/net"


def real_tx_queues(ifname, sys_net=SYS_NET):
    """Transmit queues in use (real_num_tx_queues), from sysfs; None when unknown."""
    try:
        return sum(1 for name in os.listdir(os.path.join(sys_net, ifname, "queues")) if name.startswith("tx-"))
    except OSError:
        return None


def auto_queues(config, sys_net=SYS_NET):
    """min(transmit queues in use on both interfaces, CPUs), as LibreQoS does.

    Inside a namespace this process sees the host's sysfs, not the namespace's, so the queues in
    use cannot be read there: one HTB root is used unless `queues` is set.
    """
    if config.netns:
        return 1
    counts = [real_tx_queues(name, sys_net) for name in (config.to_network, config.to_internet)]
    if None in counts:
        return 1
    return max(1, min(counts + [os.cpu_count() or 1]))


def clear_xps(config, queues, sys_net=SYS_NET):
    """The classifier steers each packet to the queue of its HTB; an XPS map would override
    that, so it is cleared on both interfaces when there are several queues. Returns warnings."""
    if queues < 2:
        return []
    if config.netns:
        return ["queues=%d in netns %s: make sure no XPS map is set on %s and %s, or packets can reach "
                "the wrong HTB queue" % (queues, config.netns, config.to_network, config.to_internet)]
    warnings = []
    for ifname in (config.to_network, config.to_internet):
        for queue in range(queues):
            path = os.path.join(sys_net, ifname, "queues", "tx-%d" % queue, "xps_cpus")
            try:
                with open(path) as handle:
                    if not handle.read().strip().strip("0,"):
                        continue
                with open(path, "w") as handle:
                    handle.write("0")
            except OSError as exc:
                warnings.append("could not clear the XPS map of %s tx-%d: %s" % (ifname, queue, exc))
    return warnings


def _classifiers(config):
    default = classid(1, DEFAULT_MINOR)
    return {
        "download": Classifier(config.to_network, DOWNLOAD, netns=config.netns, default_classid=default,
                               src_file=config.bpf_source),
        "upload": Classifier(config.to_internet, UPLOAD, netns=config.netns, default_classid=default,
                             src_file=config.bpf_source),
    }


def _map_changes(current, wanted):
    added = sum(1 for p in wanted if p not in current)
    changed = sum(1 for p, v in wanted.items() if p in current and current[p] != v)
    removed = sum(1 for p in current if p not in wanted)
    return added, changed, removed


def _current_maps(classifier):
    try:
        # keyed as the planner writes prefixes: a single host bare ("100.64.1.1"), not "/32"
        return dict((str(k.network_address) if k.prefixlen == k.max_prefixlen else str(k), tuple(v))
                    for k, v in classifier.entries().items())
    except Exception:  # pylint: disable=broad-except
        return {}  # no pinned maps yet: everything is to be added


def run(config, check=False, leaf_kinds=None):
    """Plan and (unless `check`) apply. Returns RunResult; raises ShaperError, or
    validate.ShapingInputError for bad files (nothing touched)."""
    inputs = validate.load_inputs(config.network_json, config.shaped_devices)
    state_path = os.path.join(config.state_dir, PLAN_STATE)
    state = _load_json(state_path)
    with TcLock(config.lock_path, config.lock_timeout):
        queues = int(config.queues) or auto_queues(config)
        kinds = leaf_kinds if leaf_kinds is not None else leafprobe.available_leaf_kinds()
        plan, new_state = planner.plan(inputs, config.to_internet, config.to_network, config.downlink_mbps,
                                       config.uplink_mbps, queues, config.sqm, kinds, state)
        known = _known_keys(state)
        with open_socket(config.netns) as sock:
            changesets = {
                "download": diff(plan.download, read_state(config.to_network, config.netns, sock=sock), known),
                "upload": diff(plan.upload, read_state(config.to_internet, config.netns, sock=sock), known),
            }
        classifiers = _classifiers(config)
        wanted = dict((str(k), tuple(v)) for k, v in plan.prefixes.items())
        maps = dict((d, _map_changes(_current_maps(c), wanted)) for d, c in classifiers.items())
        result = RunResult(plan, changesets, maps, list(inputs.warnings) + list(plan.warnings))
        if check:
            return result
        result.warnings += clear_xps(config, queues)
        _apply_both(changesets)
        for direction, classifier in classifiers.items():
            classifier.attach()
            synced = classifier.sync(wanted)
            maps[direction] = (synced.added, synced.changed, synced.removed)
            classifier.close()
        _save_state(config, plan, new_state)
    return result


def _known_keys(state):
    """{classid: key} of what the previous run planned, to name deleted classes."""
    out = {}
    for key, ids in (state.get("classes") or {}).items():
        try:
            out[classid(int(ids[0]), int(ids[1]))] = key
        except (TypeError, ValueError, IndexError):
            continue
    return out


def _apply_both(changesets):
    """Download, then upload; an upload failure puts the download tree back."""
    apply(changesets["download"], lock_path=None)
    try:
        apply(changesets["upload"], lock_path=None)
    except TcError as exc:
        try:
            restore(changesets["download"])
        except TcError as undo:
            raise ShaperError("upload apply failed (%s) and the download tree could not be put back: %s"
                              % (exc, undo))
        raise ShaperError("upload apply failed and nothing was changed: %s" % exc)


def _save_state(config, plan, new_state):
    if not os.path.isdir(config.state_dir):
        os.makedirs(config.state_dir, 0o755)
    write_atomic(os.path.join(config.state_dir, PLAN_STATE), json.dumps(new_state, sort_keys=True) + "\n")
    classes = {}
    for interface in plan.interfaces():
        for cid, cls in interface.classes.items():
            classes[format_classid(cid)] = {"kind": cls.kind, "key": cls.key}
    write_atomic(os.path.join(config.state_dir, CLASS_MAP),
                 json.dumps({"classes": classes}, sort_keys=True) + "\n")
