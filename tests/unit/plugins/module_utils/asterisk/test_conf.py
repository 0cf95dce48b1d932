# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Asterisk config syntax (sections, templates, repeated keys, comments) and managed blocks."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.isp.ops.plugins.module_utils.asterisk import conf

# Shaped like Issabel's sip.conf / sip_custom.conf and FreePBX-style chan_sip templates.
SIP_CONF = """\
[general]
#include sip_general_additional.conf
#include sip_general_custom.conf
;-- this whole block is disabled
[disabled]
host=1.2.3.4
--;
#exec /usr/local/bin/extra-peers.sh
[trunk-defaults](!)  ; a template
type=friend
disallow=all
allow=alaw
allow=ulaw         ; repeated keys keep their order
qualify=yes

[omnileads](trunk-defaults)
host=192.0.2.20
port=5161
secret=pa\\;ss   ; an escaped semicolon is part of the value
allow=g722
"""

EXTENSIONS = """\
[from-internal-custom]
exten => 098098,1,Dial(SIP/omnileads/098098)
 same => n,Hangup()
exten => _1XXX.,1,Set(X=${EXTEN:4})  ;-- inline block --; ; and a comment
"""

PJSIP_WIZARD = """\
[issabel]
type=wizard
transport=trunk-transport
endpoint/allow=alaw,ulaw
remote_hosts=192.0.2.10:5060
[omnileads](+type=endpoint)
rtp_symmetric=yes
"""


def test_sections_templates_repeats_comments_directives():
    config = conf.parse(SIP_CONF)
    assert [s.name for s in config.sections] == ["general", "trunk-defaults", "omnileads"]
    template, peer = config.sections[1], config.sections[2]
    assert template.template and not peer.template
    assert peer.templates == ["trunk-defaults"]
    assert template.getall("allow") == ["alaw", "ulaw"]
    assert peer.get("secret") == "pa;ss"
    assert [d for n, d in config.directives] == [
        "#include sip_general_additional.conf", "#include sip_general_custom.conf",
        "#exec /usr/local/bin/extra-peers.sh"]
    assert config.find("disabled") == []
    assert config.effective_items("omnileads") == [
        ("type", "friend"), ("disallow", "all"), ("allow", "alaw"), ("allow", "ulaw"), ("qualify", "yes"),
        ("host", "192.0.2.20"), ("port", "5161"), ("secret", "pa;ss"), ("allow", "g722")]


def test_dialplan_arrows_and_inline_block_comments():
    section = conf.parse(EXTENSIONS).section("from-internal-custom")
    assert section.items == [
        ("exten", "098098,1,Dial(SIP/omnileads/098098)"),
        ("same", "n,Hangup()"),
        ("exten", "_1XXX.,1,Set(X=${EXTEN:4})"),
    ]


def test_additive_sections_with_type_filter():
    config = conf.parse(PJSIP_WIZARD)
    extend = config.sections[1]
    assert extend.additive and extend.filters == ["type=endpoint"]
    assert config.section("issabel").get("remote_hosts") == "192.0.2.10:5060"


@pytest.mark.parametrize("text, message", [
    ("[a\nkey=value\n", "line 1: malformed section header"),
    ("[a]\njust words\n", "line 2: expected"),
    ("[a]\n;-- never closed\n", "unterminated"),
])
def test_malformed_text_names_the_line(text, message):
    with pytest.raises(conf.ConfError, match=message):
        conf.parse(text)


def test_unknown_template_and_duplicates_are_errors():
    with pytest.raises(conf.ConfError, match="unknown template"):
        conf.parse("[a](nope)\nx=1\n").effective_items("a")
    with pytest.raises(conf.ConfError, match=r"found 2"):
        conf.parse("[a]\n[a]\n").section("a")


def test_render_section_round_trips_through_the_parser():
    items = [("type", "friend"), ("allow", "alaw"), ("allow", "ulaw"), ("secret", "a;b")]
    text = conf.render_section("omnileads", items, templates=["t1"])
    assert text.splitlines()[0] == "[omnileads](t1)"
    parsed = conf.parse(text).sections[0]
    assert parsed.items == items and parsed.templates == ["t1"]
    assert conf.render_section("t", [], template=True) == "[t](!)\n"
    with pytest.raises(conf.ConfError, match="span lines"):
        conf.render_section("x", [("k", "a\nb")])


def test_replace_block_appends_then_replaces_in_place():
    original = "; hand-written\n[mine]\nx=1\n"
    first = conf.replace_block(original, "trunk/omnileads", "[omnileads]\nhost=a\n")
    assert first.startswith(original)
    assert conf.find_block(first, "trunk/omnileads") == "[omnileads]\nhost=a\n"
    tail = "[after]\ny=2\n"
    edited = first + tail
    second = conf.replace_block(edited, "trunk/omnileads", "[omnileads]\nhost=b")
    assert second == original + "; BEGIN isp.ops trunk/omnileads\n[omnileads]\nhost=b\n; END isp.ops trunk/omnileads\n" + tail
    assert conf.remove_block(second, "trunk/omnileads") == original + tail
    assert conf.remove_block(original, "trunk/omnileads") == original


def test_two_blocks_do_not_disturb_each_other():
    text = conf.replace_block(conf.replace_block("", "a", "x=1\n"), "b", "y=2\n")
    text = conf.replace_block(text, "a", "x=3\n")
    assert conf.find_block(text, "a") == "x=3\n" and conf.find_block(text, "b") == "y=2\n"
    assert conf.find_block(conf.remove_block(text, "a"), "b") == "y=2\n"


def test_damaged_blocks_are_refused():
    damaged = "; BEGIN isp.ops a\nx=1\n"
    with pytest.raises(conf.ConfError, match="damaged"):
        conf.replace_block(damaged, "a", "x=2\n")
    with pytest.raises(conf.ConfError, match="bad managed block id"):
        conf.replace_block("", "bad id", "x")


def test_file_without_trailing_newline():
    text = conf.replace_block("[a]\nx=1", "b", "y=2\n")
    assert text == "[a]\nx=1\n; BEGIN isp.ops b\ny=2\n; END isp.ops b\n"


_TEXT = st.text(alphabet=st.sampled_from(list("ab=[];-\n \t#x")), max_size=200)


@settings(max_examples=300, deadline=None)
@given(before=_TEXT, after=_TEXT, old=_TEXT, new=_TEXT)
def test_bytes_outside_the_markers_never_change(before, after, old, new):
    if "isp.ops" in before + after:
        return
    before = before if before.endswith("\n") or not before else before + "\n"
    start = before + conf.BEGIN % "blk" + "\n" + old + ("" if old.endswith("\n") or not old else "\n") + conf.END % "blk" + "\n"
    text = start + after
    replaced = conf.replace_block(text, "blk", new)
    assert replaced.startswith(before) and replaced.endswith(after)
    assert conf.remove_block(replaced, "blk") == before + after


def test_write_config_is_atomic_and_keeps_the_mode(tmp_path):
    path = tmp_path / "sip_custom.conf"
    path.write_text("old\n")
    os.chmod(path, 0o640)
    conf.write_config(str(path), "new\n")
    assert path.read_text() == "new\n"
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert sorted(os.listdir(tmp_path)) == ["sip_custom.conf"]
    conf.write_config(str(tmp_path / "fresh.conf"), "x\n")
    assert os.stat(tmp_path / "fresh.conf").st_mode & 0o777 == 0o644


STOCK_DIR = os.path.join(os.environ.get("ISP_OPS_ASTERISK_CHROOT", "/var/cache/isp-ops/asterisk-sid"), "etc", "asterisk")
# Read by a shell script (ast_loggrabber), not by Asterisk: shell syntax, not config syntax.
NOT_ASTERISK_SYNTAX = {"ast_debug_tools.conf"}


@pytest.mark.skipif(not os.path.isdir(STOCK_DIR), reason="no Asterisk 22 chroot (scripts/asterisk-chroot.sh)")
def test_every_stock_asterisk_22_config_parses():
    """The sample configs Debian's Asterisk 22 ships (templates, block comments, #includes, `=>`)."""
    parsed = {}
    for name in sorted(os.listdir(STOCK_DIR)):
        if name.endswith(".conf") and name not in NOT_ASTERISK_SYNTAX:
            with open(os.path.join(STOCK_DIR, name), encoding="utf-8", errors="replace") as handle:
                parsed[name] = conf.parse(handle.read())
    assert len(parsed) > 90
    contexts = [s.name for s in parsed["extensions.conf"].sections]
    assert {"general", "globals", "default", "iaxprovider"} <= set(contexts)
    templates = {(name, s.name) for name, config in parsed.items() for s in config.sections if s.template}
    assert ("say.conf", "en-base") in templates and ("asterisk.conf", "directories") in templates
    aliases = parsed["cli_aliases.conf"]
    template = aliases.find("asterisk_11_tpl", template=True)[0]
    assert aliases.section("asterisk_11").templates == ["asterisk_11_tpl"] and template.items
    assert aliases.effective_items("asterisk_11") == template.items + aliases.section("asterisk_11").items
