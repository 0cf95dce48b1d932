# -*- coding: utf-8 -*-
# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    """How a module reaches a running Asterisk: its CLI (asterisk -rx) or AMI."""

    DOCUMENTATION = r"""
options:
  asterisk_cli:
    description:
      - The command that runs the Asterisk CLI on the managed host, as a list of arguments.
        C(-rx <command>) is appended to it.
      - Prefix it to reach an Asterisk in a container, a chroot or a network namespace, for example
        V([docker, exec, oml-asterisk-prodenv, asterisk]) or V([ip, netns, exec, pbx, chroot, /srv/ast, asterisk]).
      - Used only when O(ami_host) is not set.
    type: list
    elements: str
    default: [asterisk]
  ami_host:
    description:
      - Address of the Asterisk Manager Interface (AMI). When set, commands and reloads go through AMI
        (its C(Command) action) instead of the CLI.
      - The AMI user needs the C(command) and C(system) write permissions in C(manager.conf).
    type: str
  ami_port:
    description: TCP port of AMI.
    type: int
    default: 5038
  ami_username:
    description: AMI user (a C(manager.conf) section). Required with O(ami_host).
    type: str
  ami_secret:
    description: Secret of the AMI user. Required with O(ami_host). Never logged.
    type: str
  ami_timeout:
    description:
      - Seconds to wait for the AMI connection and for each reply; the CLI gets the same bound.
    type: float
    default: 10
"""
