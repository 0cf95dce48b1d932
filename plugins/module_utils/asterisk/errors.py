# -*- coding: utf-8 -*-
# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one exception type of the Asterisk helpers (re-exported by control.py)."""

from __future__ import annotations


class AsteriskError(Exception):
    """Asterisk could not be reached, refused a command, or answered something unusable.

    The text names the command and what Asterisk said, and never contains a secret.
    """
