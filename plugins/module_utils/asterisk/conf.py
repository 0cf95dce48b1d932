# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Asterisk configuration files: parse, render a section, and edit one managed block.

Syntax followed (docs.asterisk.org "Config file format"):
- `[name]` opens a section; `[name](!)` is a template; `[name](t1,t2)` inherits templates in
  order; `[name](+)` adds to an existing section; `[name](+type=endpoint)` picks which one.
- `key = value` and `key => value` are the same to Asterisk; keys may repeat and order matters.
- `;` starts a comment, `\\;` is a literal semicolon, `;-- ... --;` is a (multi-line) block comment.
- `#include`, `#tryinclude` and `#exec` lines are kept as directives.

Managed blocks are delimited by `; BEGIN isp.ops <id>` and `; END isp.ops <id>` lines. Editing one
leaves every byte outside the markers as it was.
"""

from __future__ import annotations

import os
import re

from ansible_collections.isp.ops.plugins.module_utils.topology.fileio import read_text, write_atomic

BEGIN = "; BEGIN isp.ops %s"
END = "; END isp.ops %s"
_BLOCK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")
_SECTION = re.compile(r"^\[([^\]]+)\]\s*(?:\(([^)]*)\))?\s*$")


class ConfError(ValueError):
    """Text that does not follow Asterisk config syntax, or a broken managed block."""


class Section(object):
    """One `[name](options)` section with its settings in file order."""

    def __init__(self, name, template=False, templates=(), additive=False, filters=(), line=0):
        self.name = name
        self.template = template
        self.templates = list(templates)
        self.additive = additive
        self.filters = list(filters)
        self.line = line
        self.items = []

    def get(self, key, default=None):
        """The last value of `key` (a later line overrides an earlier one for single-valued keys)."""
        values = self.getall(key)
        return values[-1] if values else default

    def getall(self, key):
        return [value for name, value in self.items if name == key]

    def keys(self):
        return [name for name, value in self.items]

    def __repr__(self):
        return "Section(%r, %r)" % (self.name, self.items)


class Config(object):
    """A parsed file: sections in order, directives, and settings before the first section."""

    def __init__(self):
        self.sections = []
        self.directives = []
        self.preamble = []

    def find(self, name, template=None):
        return [s for s in self.sections if s.name == name and (template is None or s.template == template)]

    def section(self, name):
        """The one non-template section `name`; ConfError if missing or repeated."""
        found = self.find(name, template=False)
        if len(found) != 1:
            raise ConfError("expected one section [%s], found %d" % (name, len(found)))
        return found[0]

    def effective_items(self, name):
        """Settings of section `name` with its templates' settings first, as Asterisk applies them."""
        return self._effective(self.section(name), set())

    def _effective(self, section, seen):
        items = []
        for template_name in section.templates:
            if template_name in seen:
                raise ConfError("template loop at [%s]" % template_name)
            templates = self.find(template_name, template=True) or self.find(template_name)
            if not templates:
                raise ConfError("[%s] inherits unknown template [%s]" % (section.name, template_name))
            items.extend(self._effective(templates[0], seen | {template_name}))
        return items + list(section.items)


def strip_comments(text):
    """Text with `;` comments and `;-- --;` block comments removed; line breaks are kept so that line
    numbers stay right. `\\;` becomes a literal `;`."""
    out = []
    depth = 0
    index = 0
    while index < len(text):
        if depth:
            if text.startswith("--;", index):
                depth -= 1
                index += 3
                continue
            if text.startswith(";--", index):
                depth += 1
                index += 3
                continue
            if text[index] == "\n":
                out.append("\n")
            index += 1
            continue
        char = text[index]
        if char == "\\" and text.startswith(";", index + 1):
            out.append(";")
            index += 2
        elif text.startswith(";--", index):
            depth += 1
            index += 3
        elif char == ";":
            end = text.find("\n", index)
            index = len(text) if end < 0 else end
        else:
            out.append(char)
            index += 1
    if depth:
        raise ConfError("unterminated ;-- block comment")
    return "".join(out)


def parse(text):
    """Parse config text into a Config; ConfError names the line of anything it cannot read."""
    config = Config()
    current = None
    for number, raw in enumerate(strip_comments(text).split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            config.directives.append((number, line))
            continue
        if line.startswith("["):
            current = _section(line, number)
            config.sections.append(current)
            continue
        equals = line.find("=")
        if equals <= 0:
            raise ConfError("line %d: expected [section], key = value or key => value, got %r" % (number, line))
        key = line[:equals].strip()
        value = line[equals + 1:]
        if value.startswith(">"):
            value = value[1:]
        if current is None:
            config.preamble.append((key, value.strip()))
        else:
            current.items.append((key, value.strip()))
    return config


def _section(line, number):
    match = _SECTION.match(line)
    if not match:
        raise ConfError("line %d: malformed section header %r" % (number, line))
    section = Section(match.group(1).strip(), line=number)
    for option in (match.group(2) or "").split(","):
        option = option.strip()
        if option == "!":
            section.template = True
        elif option.startswith("+"):
            section.additive = True
            if option[1:]:
                section.filters.append(option[1:])
        elif "=" in option:
            section.filters.append(option)
        elif option:
            section.templates.append(option)
    return section


def render_section(name, items, templates=(), template=False):
    """`[name](options)` followed by `key=value` lines, in the given order (repeats kept)."""
    options = (["!"] if template else []) + list(templates)
    lines = ["[%s]%s" % (name, "(%s)" % ",".join(options) if options else "")]
    for key, value in items:
        text = str(value)
        if "\n" in text or "\r" in text:
            raise ConfError("[%s] %s: a value cannot span lines" % (name, key))
        lines.append("%s=%s" % (key, text.replace(";", "\\;")))
    return "\n".join(lines) + "\n"


def _check_id(block_id):
    if not _BLOCK_ID.match(block_id or ""):
        raise ConfError("bad managed block id %r" % (block_id,))


def _locate(text, block_id):
    """(start, end) offsets of the block including its marker lines, or None."""
    _check_id(block_id)
    begin, end = BEGIN % block_id, END % block_id
    lines = text.splitlines(True)
    offsets, position = [], 0
    for line in lines:
        offsets.append(position)
        position += len(line)
    starts = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == begin]
    stops = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == end]
    if not starts and not stops:
        return None
    if len(starts) != 1 or len(stops) != 1 or stops[0] < starts[0]:
        raise ConfError("managed block %r is damaged: %d BEGIN and %d END markers" % (block_id, len(starts), len(stops)))
    return offsets[starts[0]], offsets[stops[0]] + len(lines[stops[0]])


def find_block(text, block_id):
    """The body of managed block `block_id` (without markers), or None when absent."""
    span = _locate(text or "", block_id)
    if span is None:
        return None
    block = text[span[0]:span[1]]
    body = block.split("\n", 1)[1]
    return body[:body.rfind(END % block_id)]


def _wrap(block_id, body):
    if body and not body.endswith("\n"):
        body += "\n"
    return "%s\n%s%s\n" % (BEGIN % block_id, body, END % block_id)


def replace_block(text, block_id, body):
    """`text` with managed block `block_id` holding `body`: replaced in place, or appended."""
    text = text or ""
    block = _wrap(block_id, body)
    span = _locate(text, block_id)
    if span is None:
        separator = "\n" if text and not text.endswith("\n") else ""
        return text + separator + block
    start, end = span
    if not text[start:end].endswith("\n") and end == len(text):
        block = block[:-1]  # the old END marker closed the file without a newline
    return text[:start] + block + text[end:]


def remove_block(text, block_id):
    """`text` without managed block `block_id` (unchanged when the block is absent)."""
    text = text or ""
    span = _locate(text, block_id)
    if span is None:
        return text
    return text[:span[0]] + text[span[1]:]


def write_config(path, text):
    """Write `path` atomically, keeping the mode and owner of the file it replaces (Issabel's files
    belong to the asterisk user)."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        stat = None
    write_atomic(path, text, mode=(stat.st_mode & 0o7777) if stat else 0o644)
    if stat is not None and os.geteuid() == 0 and (stat.st_uid, stat.st_gid) != (0, os.getegid()):
        os.chown(path, stat.st_uid, stat.st_gid)


__all__ = ["BEGIN", "END", "ConfError", "Config", "Section", "find_block", "parse", "read_text",
           "remove_block", "render_section", "replace_block", "strip_comments", "write_config"]
