# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make one interface's HTB tree match a spec.InterfacePlan, touching only what differs.

Plain Python, no Ansible imports; netlink through tc_netlink (pyroute2 only to enter a netns).

    result = sync(plan.download, netns="shaper")           # lock, read, diff, apply
    # or, step by step (e.g. check mode: diff only):
    current = read_state("to_network", netns="shaper")
    changes = diff(plan.download, current)                  # tc_diff.ChangeSet
    apply(changes)                                          # ApplyResult; raises TcApplyError

Each change is one netlink request; requests go out many per sendmsg() and every one is acked,
so an error is tied to its class. On an error nothing more is sent and what was applied is
undone in reverse order (deleted classes come back with their old parameters and leaf qdisc);
after a failed rebuild the previous tree is rebuilt from the snapshot the diff was made from.
An empty ChangeSet sends nothing. A file lock (flock) keeps two runs from interleaving.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time

from .spec import DEFAULT_MINOR, MQ_HANDLE
from .tc_codec import htb_class_options, htb_qdisc_options, htb_qdisc_resend
from .tc_diff import (ADD_CLASS, ADD_LEAF, ADD_QDISC, ADD_ROOT, CHANGE_CLASS, CHANGE_LEAF, DEL_CLASS, DEL_LEAF,
                      DEL_ROOT, REPLACE_LEAF, Change, ChangeSet, diff, parents_first)
from .tc_netlink import (HAS_PYROUTE2, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, PYROUTE2_IMPORT_ERROR,
                         RTM_DELQDISC, RTM_DELTCLASS, RTM_NEWQDISC, RTM_NEWTCLASS, TC_H_ROOT, WINDOW, TcError,
                         open_socket, tc_body)
from .tc_state import read_state

__all__ = ["HAS_PYROUTE2", "PYROUTE2_IMPORT_ERROR", "DEFAULT_LOCK", "ApplyResult", "Change", "ChangeSet",
           "TcApplyError", "TcError", "TcLock", "TcLockTimeout", "apply", "diff", "read_state", "restore", "sync"]

DEFAULT_LOCK = "/run/isp-ops/tc.lock"
DEFAULT_LOCK_TIMEOUT = 60.0
ADD = NLM_F_CREATE | NLM_F_EXCL
REPLACE = NLM_F_CREATE | NLM_F_REPLACE  # same kind: changed in place; other kind: grafted


class TcLockTimeout(TcError):
    pass


class TcApplyError(TcError):
    """An apply failed. `failures`: [(Change, TcError)]; `undone`: True when everything applied
    before the error was reverted; `undo_errors`: what could not be reverted."""

    def __init__(self, message, failures, undone, undo_errors):
        first = failures[0][1] if failures else None
        super(TcApplyError, self).__init__(message, first.errno if first else None)
        self.failures, self.undone, self.undo_errors = failures, undone, undo_errors


class ApplyResult(object):
    def __init__(self, changeset, requests, seconds):
        self.changes, self.requests, self.seconds = changeset, requests, seconds
        self.changed = bool(changeset)  # in check mode: would change
        self.summary = changeset.summary() if changeset is not None else {}


class TcLock(object):
    """Exclusive flock on `path`; waits up to `timeout` seconds, then raises TcLockTimeout."""

    def __init__(self, path=DEFAULT_LOCK, timeout=DEFAULT_LOCK_TIMEOUT, poll=0.05):
        self.path, self.timeout, self.poll = path, float(timeout), poll
        self.handle = None

    def __enter__(self):
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        handle = open(self.path, "a+")
        deadline = time.monotonic() + self.timeout
        attempts = int(self.timeout / self.poll) + 1
        for attempt in range(attempts + 1):
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    handle.close()
                    raise TcError("cannot lock %s: %s" % (self.path, exc), exc.errno)
                if attempt == attempts or time.monotonic() >= deadline:
                    holder = _holder(handle)
                    handle.close()
                    raise TcLockTimeout("another tc apply holds %s%s; gave up after %.1f s"
                                        % (self.path, holder, self.timeout), errno.EAGAIN)
                time.sleep(self.poll)
        handle.seek(0)
        handle.truncate()
        handle.write("%d\n" % os.getpid())
        handle.flush()
        self.handle = handle
        return self

    def __exit__(self, *exc):
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


def _holder(handle):
    try:
        handle.seek(0)
        pid = handle.read().strip()
        return " (pid %s)" % pid if pid else ""
    except OSError:
        return ""


class _NoLock(object):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


# -- requests ------------------------------------------------------------------------------------
def _add_class(ifindex, cls):
    return RTM_NEWTCLASS, ADD, tc_body(ifindex, cls.classid, cls.parent, "htb",
                                       htb_class_options(cls.rate, cls.ceil, cls.quantum, cls.prio))


def _put_class(ifindex, old, flags):
    """A kernel class as it was dumped (flags ADD: re-create it, 0: change it back)."""
    return RTM_NEWTCLASS, flags, tc_body(ifindex, old.classid, old.parent, "htb", old.options)


def _put_qdisc(ifindex, old, flags):
    """A dumped qdisc with its handle and raw options (to put it back exactly)."""
    options = htb_qdisc_resend(old.options) if old.kind == "htb" and old.options else old.options
    return RTM_NEWQDISC, flags, tc_body(ifindex, old.handle, old.parent, old.kind, options)


def _del_qdisc(ifindex, handle, parent):
    return RTM_DELQDISC, 0, tc_body(ifindex, handle, parent)


def _root_request(ifindex, change, plan_r2q):
    kind, handle = change.new
    if kind == "mq":
        return RTM_NEWQDISC, ADD, tc_body(ifindex, handle, TC_H_ROOT, "mq")
    parent = TC_H_ROOT if change.action == ADD_ROOT else MQ_HANDLE | (handle >> 16)
    return RTM_NEWQDISC, ADD, tc_body(ifindex, handle, parent, "htb", htb_qdisc_options(DEFAULT_MINOR, plan_r2q))


def request(ifindex, change, r2q=10):  # r2q: of new HTB qdiscs
    """The netlink request (type, flags, body) that carries out `change`."""
    action, cid = change.action, change.classid
    if action == ADD_CLASS:
        return _add_class(ifindex, change.new)
    if action == CHANGE_CLASS:
        new = change.new
        return RTM_NEWTCLASS, 0, tc_body(ifindex, cid, change.old.parent, "htb",
                                         htb_class_options(new.rate, new.ceil, new.quantum, new.prio))
    if action == DEL_CLASS:
        return RTM_DELTCLASS, 0, tc_body(ifindex, cid, change.old.parent)
    if action in (ADD_LEAF, CHANGE_LEAF, REPLACE_LEAF):
        leaf = change.new
        return RTM_NEWQDISC, ADD if action == ADD_LEAF else REPLACE, tc_body(ifindex, 0, cid, leaf.kind, leaf.options)
    if action == DEL_LEAF:
        return _del_qdisc(ifindex, change.old.handle, cid)
    if action == DEL_ROOT:
        return _del_qdisc(ifindex, change.old.handle, TC_H_ROOT)
    if action in (ADD_ROOT, ADD_QDISC):
        return _root_request(ifindex, change, r2q)
    raise ValueError("unknown change %r" % action)


def undo_requests(ifindex, change):
    """Requests reverting `change` once it has been applied (incremental changes only)."""
    action, cid = change.action, change.classid
    if action == ADD_CLASS:
        return [(RTM_DELTCLASS, 0, tc_body(ifindex, cid, change.new.parent))]
    if action == CHANGE_CLASS:
        return [_put_class(ifindex, change.old, 0)]
    if action == DEL_CLASS:
        out = [_put_class(ifindex, change.old, ADD)]
        return out + ([_put_qdisc(ifindex, change.leaf, ADD)] if change.leaf is not None else [])
    if action == ADD_LEAF:
        return [_del_qdisc(ifindex, 0, cid)]
    if action in (CHANGE_LEAF, REPLACE_LEAF):
        return [_put_qdisc(ifindex, change.old, REPLACE)]
    if action == DEL_LEAF:
        return [_put_qdisc(ifindex, change.old, ADD)]
    raise ValueError("%s is only undone by restoring the snapshot" % action)


def restore_requests(ifindex, snapshot):
    """Requests putting back the whole tree of `snapshot` (tc_state.TcState) after a failed
    rebuild: remove whatever root is there now, then root, HTB qdiscs, classes, leaves."""
    out = [_del_qdisc(ifindex, 0, TC_H_ROOT)]  # handle 0: whichever root is there
    root = snapshot.root
    if root is None:
        return out
    out.append(_put_qdisc(ifindex, root, ADD))
    out += [_put_qdisc(ifindex, q, ADD) for h, q in sorted(snapshot.qdiscs.items())
            if q is not root and q.parent >> 16 == root.handle >> 16 and q.parent not in snapshot.classes]
    out += [_put_class(ifindex, snapshot.classes[cid], ADD) for cid in parents_first(snapshot.classes)]
    out += [_put_qdisc(ifindex, q, ADD) for cid, q in sorted(snapshot.leaves.items())]
    return out


# -- apply ---------------------------------------------------------------------------------------
def _where(changeset):
    return changeset.ifname + (" (netns %s)" % changeset.netns if changeset.netns else "")


def _failure_message(changeset, failures, total, undone, undo_errors):
    change, error = failures[0]
    text = "tc apply on %s failed at %s: %s" % (_where(changeset), change.describe(), error)
    if len(failures) > 1:
        text += " (and %d more error(s) in the same batch)" % (len(failures) - 1)
    if undone:
        text += "; rolled back, the previous tree is in place"
    else:
        text += "; ROLLBACK INCOMPLETE (%d request(s) failed, first: %s)" % (len(undo_errors), undo_errors[0])
    return text + " [%d change(s) planned]" % total


def _revert(sock, changeset, applied, window=WINDOW):
    """Undo the applied changes; returns the errors of the undo requests."""
    if changeset.rebuild:
        requests = restore_requests(changeset.ifindex, changeset.current)
        failed = sock.transact(requests, window, stop_on_error=False)[1]
        # the first request removes our half-built root; it may legitimately be gone already
        failed.pop(0, None)
    else:
        requests = []
        for change in reversed(applied):
            requests += undo_requests(changeset.ifindex, change)
        failed = sock.transact(requests, window, stop_on_error=False)[1]
    return [str(error) for index, error in sorted(failed.items())]


def _run(sock, changeset, window):
    ifindex = sock.link(changeset.ifname)[0]
    if ifindex != changeset.ifindex:
        raise TcError("%s was re-created since it was read; read and diff again" % _where(changeset))
    requests = [request(ifindex, change, changeset.r2q) for change in changeset.changes]
    sent, failed = sock.transact(requests, window)
    if not failed:
        return sent
    failures = [(changeset.changes[index], error) for index, error in sorted(failed.items())]
    applied = [changeset.changes[i] for i in range(sent) if i not in failed]
    undo_errors = _revert(sock, changeset, applied) if applied else []
    raise TcApplyError(_failure_message(changeset, failures, len(requests), not undo_errors, undo_errors),
                       failures, not undo_errors, undo_errors)


def apply(changes, netns=None, lock_path=DEFAULT_LOCK, lock_timeout=DEFAULT_LOCK_TIMEOUT, window=WINDOW,
          sock=None):
    """Carry out a tc_diff.ChangeSet. Returns ApplyResult; raises TcApplyError (after undoing),
    TcLockTimeout or TcError. netns: default the ChangeSet's. lock_path None: the caller holds
    the lock. sock: an open tc_netlink socket to use (it must be in the same netns)."""
    started = time.monotonic()
    if not changes.changes:
        return ApplyResult(changes, 0, 0.0)
    netns = netns if netns is not None else changes.netns
    with TcLock(lock_path, lock_timeout) if lock_path else _NoLock():
        if sock is not None:
            sent = _run(sock, changes, window)
        else:
            with open_socket(netns) as own:
                sent = _run(own, changes, window)
    return ApplyResult(changes, sent, time.monotonic() - started)


def restore(changes, netns=None, lock_path=None, lock_timeout=DEFAULT_LOCK_TIMEOUT, window=WINDOW):
    """Put back the tree a fully applied ChangeSet was computed from (e.g. the download side
    after the upload side failed): its undo requests in reverse order, or the snapshot after a
    rebuild. Returns the number of requests; raises TcError naming what could not be put back.
    lock_path None (the default here): the caller holds the lock."""
    if not changes.changes:
        return 0
    netns = netns if netns is not None else changes.netns
    with TcLock(lock_path, lock_timeout) if lock_path else _NoLock():
        with open_socket(netns) as sock:
            before = sock.sent
            errors = _revert(sock, changes, changes.changes, window)
            sent = sock.sent - before
    if errors:
        raise TcError("restoring %s left %d request(s) undone, first: %s" % (_where(changes), len(errors), errors[0]))
    return sent


def sync(interface_plan, netns=None, lock_path=DEFAULT_LOCK, lock_timeout=DEFAULT_LOCK_TIMEOUT, check=False,
         known_keys=None, window=WINDOW):
    """Lock, read the interface, diff against `interface_plan`, apply unless `check`.
    Returns ApplyResult (result.changes is the ChangeSet; in check mode nothing is sent)."""
    started = time.monotonic()
    with TcLock(lock_path, lock_timeout) if lock_path else _NoLock():
        with open_socket(netns) as sock:
            current = read_state(interface_plan.ifname, netns, sock=sock, stats=False)
            changes = diff(interface_plan, current, known_keys)
            if check or not changes:
                return ApplyResult(changes, 0, time.monotonic() - started)
            sent = _run(sock, changes, window)
    return ApplyResult(changes, sent, time.monotonic() - started)
