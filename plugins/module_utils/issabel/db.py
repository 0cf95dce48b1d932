# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issabel's MySQL/MariaDB `asterisk` database: connection, row scopes, and applying with amportal.

A module describes what it owns as Scopes: "the rows of table T matching M should be exactly D".
The plan compares each scope with the database; applying deletes and re-inserts only the scopes
that differ, in one transaction. Table and column names are constants of this collection; every
value goes through PyMySQL's parameter binding (no SQL built from user text).

PyMySQL rather than the `mysql` CLI: parameter binding instead of hand-escaping secrets into SQL
text, no password on an argv visible in `ps`, one transaction across tables, and typed rows back
instead of parsing tab-separated output.
"""

from __future__ import annotations

import re
import traceback

try:
    import pymysql
    HAS_PYMYSQL = True
    PYMYSQL_IMPORT_ERROR = None
except ImportError:
    HAS_PYMYSQL = False
    PYMYSQL_IMPORT_ERROR = traceback.format_exc()

# `amportal a r` may exit 0 although retrieve_conf failed (reference B.3); its output says so.
_APPLY_FAILED = re.compile(r"retrieve_conf failed|config not applied|Unable to connect", re.I)


class IssabelError(Exception):
    """A database or apply failure; the text names the table, row or command."""


def db_options():
    """argument_spec entries for database mode (documented in the modules)."""
    return dict(
        db_host=dict(type="str", default="localhost"),
        db_port=dict(type="int", default=3306),
        db_user=dict(type="str", default="asteriskuser"),
        db_password=dict(type="str", no_log=True),
        db_name=dict(type="str", default="asterisk"),
        db_unix_socket=dict(type="path"),
        amportal_command=dict(type="list", elements="str", default=["amportal", "a", "r"]),
    )


class Database(object):
    """A PyMySQL connection in one transaction (autocommit off)."""

    def __init__(self, connection):
        self.connection = connection

    @classmethod
    def connect(cls, params, timeout=10):
        kwargs = dict(user=params["db_user"], password=params.get("db_password") or "",
                      database=params["db_name"], charset="utf8mb4", autocommit=False,
                      connect_timeout=timeout, read_timeout=60, write_timeout=60)
        if params.get("db_unix_socket"):
            kwargs["unix_socket"] = params["db_unix_socket"]
            where = params["db_unix_socket"]
        else:
            kwargs.update(host=params["db_host"], port=params["db_port"])
            where = "%s:%s" % (params["db_host"], params["db_port"])
        try:
            return cls(pymysql.connect(**kwargs))
        except pymysql.MySQLError as exc:
            raise IssabelError("cannot connect to database %s at %s as %s: %s"
                               % (params["db_name"], where, params["db_user"], _reason(exc)))

    def rows(self, sql, args=()):
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(sql, args)
                return [tuple(row) for row in cursor.fetchall()]
        except pymysql.MySQLError as exc:
            raise IssabelError("query failed (%s): %s" % (sql.split(" WHERE")[0], _reason(exc)))

    def execute(self, sql, args=()):
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(sql, args)
                return cursor.lastrowid
        except pymysql.MySQLError as exc:
            raise IssabelError("statement failed (%s): %s" % (sql.split(" WHERE")[0][:80], _reason(exc)))

    def commit(self):
        self.connection.commit()

    def rollback(self):
        try:
            self.connection.rollback()
        except pymysql.MySQLError:
            pass

    def close(self):
        try:
            self.connection.close()
        except pymysql.MySQLError:
            pass


def _reason(exc):
    args = getattr(exc, "args", ())
    return "%s (%s)" % (args[1], args[0]) if len(args) == 2 else str(exc)


class Scope(object):
    """The rows of `table` matching `match` ({column: value or list of values}) should be `desired`."""

    def __init__(self, table, match, columns, desired, label=None):
        self.table = table
        self.match = match
        self.columns = tuple(columns)
        self.rows = [tuple(row) for row in desired]  # as inserted (None stays NULL)
        self.desired = sorted(tuple(_text(v) for v in row) for row in self.rows)
        self.label = label or table
        self.current = None

    def _where(self):
        clauses, args = [], []
        for column, value in self.match.items():
            if isinstance(value, (list, tuple)):
                clauses.append("`%s` IN (%s)" % (column, ", ".join(["%s"] * len(value))))
                args.extend(value)
            else:
                clauses.append("`%s` = %%s" % column)
                args.append(value)
        return " AND ".join(clauses), args

    def load(self, db):
        where, args = self._where()
        sql = "SELECT %s FROM `%s` WHERE %s" % (", ".join("`%s`" % c for c in self.columns), self.table, where)
        self.current = sorted(tuple(_text(v) for v in row) for row in db.rows(sql, args))
        return self

    @property
    def changed(self):
        return self.current != self.desired

    def apply(self, db):
        where, args = self._where()
        db.execute("DELETE FROM `%s` WHERE %s" % (self.table, where), args)
        sql = "INSERT INTO `%s` (%s) VALUES (%s)" % (
            self.table, ", ".join("`%s`" % c for c in self.columns), ", ".join(["%s"] * len(self.columns)))
        for row in self.rows:
            db.execute(sql, row)

    def render(self, rows):
        return ["%s: %s" % (self.label, ", ".join("%s=%s" % (c, v) for c, v in zip(self.columns, row)))
                for row in rows]


def _text(value):
    """Compare database values as text: MariaDB gives ints for int columns, modules give strings."""
    return "" if value is None else str(value)


def plan_diff(scopes):
    """dict(before=..., after=...) text of the rows the scopes change (only those)."""
    before, after = [], []
    for scope in scopes:
        if scope.changed:
            before.extend(scope.render(scope.current or []))
            after.extend(scope.render(scope.desired))
    return dict(before="\n".join(before) + ("\n" if before else ""),
                after="\n".join(after) + ("\n" if after else ""))


def apply_scopes(db, scopes):
    """Write the changed scopes in one transaction and raise the GUI's "Apply Config" flag."""
    try:
        for scope in scopes:
            if scope.changed:
                scope.apply(db)
        db.execute("UPDATE `admin` SET `value` = 'true' WHERE `variable` = 'need_reload'")
        db.commit()
    except BaseException:
        db.rollback()
        raise


def next_free_id(used):
    """The lowest positive integer not in `used`, as core_trunks_add picks a trunk id."""
    used = set(int(u) for u in used)
    candidate = 1
    while candidate in used:
        candidate += 1
    return candidate


def amportal_apply(module, command):
    """Run `amportal a r` (or the configured argv) and raise IssabelError when it did not apply."""
    rc, out, err = module.run_command(list(command), check_rc=False)
    text = "\n".join(part for part in (out, err) if part)
    if rc != 0 or _APPLY_FAILED.search(text):
        tail = " ".join(text.strip().splitlines()[-3:]) or "no output"
        raise IssabelError("%s did not apply the configuration (rc=%d): %s" % (" ".join(command), rc, tail))
    return out
