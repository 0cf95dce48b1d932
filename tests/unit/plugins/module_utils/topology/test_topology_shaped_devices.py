# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ShapedDevices.csv: both layouts written and read back, header-aware parsing, errors."""

from __future__ import annotations

import csv
import io

import pytest

from ansible_collections.isp.ops.plugins.module_utils.topology import shaped_devices as sd
from ansible_collections.isp.ops.plugins.module_utils.topology.shaped_devices import CsvError, DeviceRow

LEGACY = ("Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,Download Min Mbps,"
          "Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment")
EXTENDED = ("Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,Parent Node ID,Anchor Node ID,MAC,IPv4,"
            "IPv6,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment")


def row(circuit_id="1", **kw):
    values = dict(circuit_id=circuit_id, circuit_name="Ana", device_id="d1", device_name="cpe", parent_node="AP 1",
                  parent_node_id="", anchor_node_id="", mac="aa:bb:cc:dd:ee:ff", ipv4="100.64.0.1", ipv6="",
                  download_min=98.0, upload_min=19.6, download_max=115.0, upload_max=23.0, comment="", sqm="")
    values.update(kw)
    return DeviceRow(**values)


ROWS = [
    row("1", ipv4="100.64.0.1, 100.64.0.2", ipv6="2001:db8::/56", comment="two, addresses"),
    row("1", device_id="d2", device_name="phone", ipv4="100.64.0.3", mac=""),
    row("2", circuit_name='Bob "the builder", Jr.', parent_node="", ipv4="", ipv6="2001:db8:1::1",
        download_min=0.1, upload_min=0.1, download_max=0.1, upload_max=0.1),
    row("3", circuit_name="Chloé Ñúñez", parent_node="Site, with comma", download_min=1234.5,
        download_max=10000.0),
]


def test_headers_are_the_libreqos_ones():
    assert ",".join(sd.LEGACY_HEADER) == LEGACY
    assert ",".join(sd.EXTENDED_HEADER) == EXTENDED
    assert sd.render([]) == LEGACY + "\n"
    assert sd.render([], "extended") == EXTENDED + "\n"


def test_render_legacy_exact_text():
    text = sd.render(ROWS[:3])
    assert text.splitlines() == [
        LEGACY,
        '1,Ana,d1,cpe,AP 1,aa:bb:cc:dd:ee:ff,"100.64.0.1, 100.64.0.2",2001:db8::/56,98,19.6,115,23,"two, addresses"',
        "1,Ana,d2,phone,AP 1,,100.64.0.3,,98,19.6,115,23,",
        '2,"Bob ""the builder"", Jr.",d1,cpe,,aa:bb:cc:dd:ee:ff,,2001:db8:1::1,0.1,0.1,0.1,0.1,',
    ]
    assert all(len(values) == 13 for values in csv.reader(io.StringIO(text)))


def test_render_extended_has_fifteen_columns_with_the_ids():
    rows = [row("9", parent_node_id="uisp:device:abc", anchor_node_id="anchor-1")]
    text = sd.render(rows, "extended")
    lines = list(csv.reader(io.StringIO(text)))
    assert [len(values) for values in lines] == [15, 15]
    assert lines[1][4:7] == ["AP 1", "uisp:device:abc", "anchor-1"]
    assert lines[1][10:14] == ["98", "19.6", "115", "23"]


def test_render_unknown_layout_raises():
    with pytest.raises(KeyError):
        sd.render(ROWS, "v3")


@pytest.mark.parametrize("value, text", [(98.0, "98"), (19.6, "19.6"), (0.1, "0.1"), (1234.567, "1234.57"),
                                         (10000, "10000"), (0.005, "0.01"), (2.50, "2.5"), ("7.25", "7.25")])
def test_format_rate(value, text):
    assert sd.format_rate(value) == text


def test_round_trip_legacy():
    assert sd.parse(sd.render(ROWS, "legacy")) == ROWS


def test_round_trip_extended_keeps_the_ids():
    rows = [r._replace(parent_node_id="p:%d" % i, anchor_node_id="a:%d" % i) for i, r in enumerate(ROWS)]
    assert sd.parse(sd.render(rows, "extended")) == rows


def test_legacy_layout_drops_ids_keeps_sqm():
    rows = [row("1", parent_node_id="p:1", anchor_node_id="a:1", sqm="cake")]
    assert sd.parse(sd.render(rows)) == [row("1", sqm="cake")]
    assert sd.render(rows).splitlines()[0].endswith(",Comment,sqm")
    assert sd.as_written(rows) == sd.parse(sd.render(rows))


def test_no_sqm_column_unless_a_row_sets_it():
    assert sd.render(ROWS).splitlines()[0].endswith(",Comment")


def test_parse_headerless_legacy_positions_with_optional_sqm():
    text = ("1,Ana,d1,cpe,AP 1,,100.64.0.1,,98,19.6,115,23,hello,cake\n"
            "2,Bob,d2,cpe2,,,100.64.0.2,,1,1,2,2,\n")
    rows = sd.parse(text)
    assert rows[0] == row("1", mac="", comment="hello", sqm="cake")
    assert (rows[1].circuit_id, rows[1].parent_node, rows[1].download_max, rows[1].sqm) == ("2", "", 2.0, "")


def test_parse_snake_case_headers_in_any_order():
    text = ("device_id,circuit_id,circuit_name,device_name,parent_node,mac,ipv4,ipv6,download_min,upload_min,"
            "download_max,upload_max,comment,extra_column\n"
            "d1,1,Ana,cpe,AP 1,aa:bb:cc:dd:ee:ff,100.64.0.1,,98,19.6,115,23,,ignored\n")
    assert sd.parse(text) == [row("1")]


def test_parse_header_aliases():
    text = ("Circuit ID,Device ID,RADIUS Username,Download Min,Upload Min,Download Max,Upload Max,SQM\n"
            "7,d7,user@isp,1,2,3,4,fq_codel\n")
    (parsed,) = sd.parse(text)
    assert (parsed.circuit_id, parsed.device_id, parsed.mac, parsed.sqm) == ("7", "d7", "user@isp", "fq_codel")
    assert (parsed.download_min, parsed.upload_min, parsed.download_max, parsed.upload_max) == (1, 2, 3, 4)
    assert parsed.circuit_name == ""


def test_parse_comments_blank_lines_bom_and_spaces():
    text = ("\ufeff# exported by hand\n" + LEGACY + "\n\n"
            "# 1,commented,out\n"
            " 1 , Ana , d1 , cpe , AP 1 , aa:bb:cc:dd:ee:ff , 100.64.0.1 , , 98 , 19.6 , 115 , 23 , \n"
            ",,,\n"
            "   # indented comment\n")
    assert sd.parse(text) == [row("1")]


def test_parse_quoted_multi_ip_cells():
    text = LEGACY + '\n1,Ana,d1,cpe,AP 1,,"100.64.0.1, 100.64.0.2","2001:db8::1, 2001:db8::/56",1,1,2,2,\n'
    (parsed,) = sd.parse(text)
    assert parsed.ipv4 == "100.64.0.1, 100.64.0.2"
    assert parsed.ipv6 == "2001:db8::1, 2001:db8::/56"


def test_parse_short_row_without_comment_column():
    text = LEGACY + "\n1,Ana,d1,cpe,AP 1,,100.64.0.1,,1,1,2,2\n"
    assert sd.parse(text)[0].comment == ""


def test_parse_empty_file_and_header_only():
    assert sd.parse("") == []
    assert sd.parse(LEGACY + "\n") == []


@pytest.mark.parametrize("text, message", [
    (LEGACY + "\n,Ana,d1,cpe,AP 1,,100.64.0.1,,1,1,2,2,\n", "/etc/x.csv row 2: Circuit ID is empty"),
    (LEGACY + "\n1,Ana,d1,cpe,AP 1,,100.64.0.1,,1,1,fast,2,\n",
     "/etc/x.csv row 2: Download Max Mbps is not a number: 'fast'"),
    ("# c\n" + LEGACY + "\n1,A,d,c,P,,1.1.1.1,,1,1,2,2,\n\n2,A,d,c,P,,1.1.1.2,,1,,2,2,\n",
     "/etc/x.csv row 5: Upload Min Mbps is not a number: ''"),
    (LEGACY + "\n1,Ana,d1\n", "/etc/x.csv row 2: Download Min Mbps is not a number: ''"),
    ("circuit_id,download_min,upload_min,download_max,upload_max\n3,1,1,x,1\n",
     "/etc/x.csv row 2: Download Max Mbps is not a number: 'x'"),
])
def test_parse_errors_name_file_row_and_field(text, message):
    with pytest.raises(CsvError) as err:
        sd.parse(text, "/etc/x.csv")
    assert str(err.value) == message


def test_csv_error_is_a_value_error():
    assert issubclass(CsvError, ValueError)
