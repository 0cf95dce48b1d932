# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Minimal access to pinned eBPF maps through libbpf (ctypes), without bcc.

bcc is needed only to compile and load the classifier. Reading and changing the maps goes
through the file descriptors of the maps pinned in bpffs, so a later run can diff and update
the live maps without compiling anything and without touching the attached program.
Keys and values are raw ``bytes`` laid out exactly as in bpf/classifier.c.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

LIBBPF_IMPORT_ERROR = None
try:
    _lib = ctypes.CDLL(ctypes.util.find_library("bpf") or "libbpf.so.1", use_errno=True)
    _lib.bpf_obj_get.argtypes = [ctypes.c_char_p]
    _lib.bpf_obj_get_info_by_fd.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint32)]
    _lib.bpf_map_lookup_elem.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
    _lib.bpf_map_update_elem.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64]
    _lib.bpf_map_delete_elem.argtypes = [ctypes.c_int, ctypes.c_void_p]
    _lib.bpf_map_get_next_key.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
    HAS_LIBBPF = True
except (OSError, AttributeError) as exc:  # no libbpf.so.1 (Debian: libbpf1)
    _lib = None
    HAS_LIBBPF = False
    LIBBPF_IMPORT_ERROR = exc

MAP_TYPE_ARRAY = 2
MAP_TYPE_PERCPU_ARRAY = 6
MAP_TYPE_LPM_TRIE = 11
_PERCPU_TYPES = (5, MAP_TYPE_PERCPU_ARRAY, 10)  # percpu_hash, percpu_array, lru_percpu_hash


class _MapInfo(ctypes.Structure):
    """The leading fields of struct bpf_map_info (the kernel accepts a shorter buffer)."""

    _fields_ = [
        ("type", ctypes.c_uint32),
        ("id", ctypes.c_uint32),
        ("key_size", ctypes.c_uint32),
        ("value_size", ctypes.c_uint32),
        ("max_entries", ctypes.c_uint32),
        ("map_flags", ctypes.c_uint32),
        ("name", ctypes.c_char * 16),
    ]


def _check(ret, what):
    if ret < 0:
        err = ctypes.get_errno() or -ret
        raise OSError(err, "%s: %s" % (what, os.strerror(err)))
    return ret


def possible_cpus():
    """Number of possible CPUs, the number of slots in a per-CPU map value."""
    return _check(_lib.libbpf_num_possible_cpus(), "libbpf_num_possible_cpus")


class BpfMap:
    """An open eBPF map: ``BpfMap.open(pinned_path)`` or ``BpfMap(fd)`` (fd is taken over)."""

    def __init__(self, fd, path=None):
        self.fd = fd
        self.path = path
        info = _MapInfo()
        size = ctypes.c_uint32(ctypes.sizeof(info))
        _check(_lib.bpf_obj_get_info_by_fd(fd, ctypes.byref(info), ctypes.byref(size)), "map info")
        self.type, self.id = info.type, info.id
        self.key_size, self.value_size = info.key_size, info.value_size
        self.max_entries, self.flags = info.max_entries, info.map_flags
        self.name = info.name.decode(errors="replace")
        self.ncpus = possible_cpus() if self.type in _PERCPU_TYPES else 1
        # per-CPU values come back as one 8-byte aligned slot per possible CPU
        self._slot = (self.value_size + 7) & ~7 if self.type in _PERCPU_TYPES else self.value_size

    @classmethod
    def open(cls, path):
        fd = _check(_lib.bpf_obj_get(os.fsencode(path)), "bpf_obj_get(%s)" % path)
        return cls(fd, path)

    def close(self):
        if self.fd is not None and self.fd >= 0:
            os.close(self.fd)
        self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _key(self, key):
        if len(key) != self.key_size:
            raise ValueError("%s: key of %d bytes, map wants %d" % (self.name, len(key), self.key_size))
        return ctypes.create_string_buffer(bytes(key), self.key_size)

    def lookup(self, key):
        """Raw value bytes (all per-CPU slots for a per-CPU map) or None if absent."""
        value = ctypes.create_string_buffer(self._slot * self.ncpus)
        if _lib.bpf_map_lookup_elem(self.fd, self._key(key), value) < 0:
            if ctypes.get_errno() == 2:  # ENOENT
                return None
            _check(-ctypes.get_errno(), "lookup in %s" % self.name)
        return value.raw

    def lookup_percpu(self, key):
        """List of per-CPU value bytes (one element for an ordinary map)."""
        raw = self.lookup(key)
        if raw is None:
            return None
        return [raw[i * self._slot:i * self._slot + self.value_size] for i in range(self.ncpus)]

    def update(self, key, value):
        if len(value) != self.value_size:
            raise ValueError("%s: value of %d bytes, map wants %d" % (self.name, len(value), self.value_size))
        buf = ctypes.create_string_buffer(bytes(value), self.value_size)
        _check(_lib.bpf_map_update_elem(self.fd, self._key(key), buf, 0), "update of %s" % self.name)

    def delete(self, key):
        """Delete a key; False if it was not there."""
        if _lib.bpf_map_delete_elem(self.fd, self._key(key)) < 0:
            if ctypes.get_errno() == 2:
                return False
            _check(-ctypes.get_errno(), "delete in %s" % self.name)
        return True

    def keys(self):
        """All keys (a snapshot: do not change the map while iterating a trie)."""
        out = []
        prev = None
        nxt = ctypes.create_string_buffer(self.key_size)
        for _step in range(self.max_entries + 1):  # bounded: a map never holds more
            if _lib.bpf_map_get_next_key(self.fd, prev, nxt) < 0:
                if ctypes.get_errno() == 2:
                    break
                _check(-ctypes.get_errno(), "iteration of %s" % self.name)
            out.append(nxt.raw)
            prev = ctypes.create_string_buffer(nxt.raw, self.key_size)
        return out
