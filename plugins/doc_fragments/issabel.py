# -*- coding: utf-8 -*-
# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    """How the Issabel modules reach the `asterisk` database and apply it (mode=database)."""

    DOCUMENTATION = r"""
options:
  db_host:
    description: O(mode=database). Database host (ignored with O(db_unix_socket)).
    type: str
    default: localhost
  db_port:
    description: O(mode=database). Database TCP port.
    type: int
    default: 3306
  db_user:
    description: O(mode=database). Database user (C(AMPDBUSER) in C(/etc/issabelpbx.conf)).
    type: str
    default: asteriskuser
  db_password:
    description: O(mode=database). Database password (C(AMPDBPASS) in C(/etc/issabelpbx.conf)). Never logged.
    type: str
  db_name:
    description: O(mode=database). Database name (C(AMPDBNAME)).
    type: str
    default: asterisk
  db_unix_socket:
    description: O(mode=database). Unix socket of the database server, used instead of host and port.
    type: path
  amportal_command:
    description:
      - O(mode=database). Command, as a list of arguments, that applies the database to Asterisk after a change
        (C(amportal a r) runs C(retrieve_conf), regenerates the C(*_additional.conf) files and reloads Asterisk).
      - It fails the task when it exits non-zero or reports C(retrieve_conf failed).
    type: list
    elements: str
    default: [amportal, a, r]
requirements:
  - PyMySQL (O(mode=database) only)
"""
