# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A private MariaDB server for tests: a temporary datadir, a unix socket, no TCP, no system service.

`mariadb-install-db` creates the datadir, `mariadbd` runs as a child process, and `stop()` kills it
and removes everything. Fixture `issabel_db` gives each test a fresh `asterisk` database loaded
with tests/integration/sql/issabel_asterisk_subset.sql and an `asteriskuser` account, as Issabel has.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time

import pytest

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sql", "issabel_asterisk_subset.sql")
START_TIMEOUT = 60

try:
    import pymysql
except ImportError:
    pymysql = None


def skip_reason():
    if pymysql is None:
        return "PyMySQL is not installed (requirements-dev.txt)"
    if os.geteuid() != 0:
        return "needs root (mariadbd runs as root here)"
    missing = [tool for tool in ("mariadbd", "mariadb-install-db") if not shutil.which(tool)
               and not os.path.exists(os.path.join("/usr/sbin", tool))]
    if missing:
        return "mariadb-server is not installed (missing %s; scripts/bootstrap.sh installs it)" % ", ".join(missing)
    return None


class MariaDB(object):
    def __init__(self):
        # A short path: a unix socket path must fit in 108 bytes.
        self.base = tempfile.mkdtemp(prefix="ispdb-")
        self.datadir = os.path.join(self.base, "data")
        self.socket = os.path.join(self.base, "mysqld.sock")
        self.log = os.path.join(self.base, "error.log")
        self.process = None

    @staticmethod
    def _binary(name):
        return shutil.which(name) or os.path.join("/usr/sbin", name)

    def start(self):
        proc = subprocess.run(
            [self._binary("mariadb-install-db"), "--no-defaults", "--user=root", "--datadir=" + self.datadir,
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            capture_output=True, text=True, timeout=120, check=False)
        if proc.returncode != 0:
            raise RuntimeError("mariadb-install-db failed: %s" % (proc.stderr or proc.stdout)[-2000:])
        self.process = subprocess.Popen(
            [self._binary("mariadbd"), "--no-defaults", "--user=root", "--datadir=" + self.datadir,
             "--socket=" + self.socket, "--skip-networking", "--pid-file=" + os.path.join(self.base, "pid"),
             "--log-error=" + self.log, "--innodb-buffer-pool-size=16M"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("mariadbd exited with %d: %s" % (self.process.returncode, self.error_log()))
            try:
                self.connect().close()
                return self
            except pymysql.MySQLError:
                time.sleep(0.2)
        raise RuntimeError("mariadbd did not accept connections within %ds: %s" % (START_TIMEOUT, self.error_log()))

    def error_log(self):
        try:
            with open(self.log, errors="replace") as handle:
                return handle.read()[-2000:]
        except OSError:
            return ""

    def connect(self, user="root", password="", database=None):
        return pymysql.connect(unix_socket=self.socket, user=user, password=password, database=database,
                               autocommit=True, connect_timeout=5)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.base, ignore_errors=True)


class IssabelDatabase(object):
    """A fresh `asterisk` database on the server; `params` are the modules' db_* options."""

    def __init__(self, server, name):
        self.server = server
        self.name = name
        self.password = secrets.token_hex(8)
        self.params = dict(db_unix_socket=server.socket, db_user="asteriskuser", db_password=self.password,
                           db_name=name)

    def create(self):
        with open(SCHEMA, encoding="utf-8") as handle:
            text = "".join(line for line in handle if not line.lstrip().startswith("--"))
        statements = [statement.strip() for statement in text.split(";") if statement.strip()]
        root = self.server.connect()
        try:
            with root.cursor() as cursor:
                cursor.execute("DROP DATABASE IF EXISTS `%s`" % self.name)
                cursor.execute("CREATE DATABASE `%s`" % self.name)
                cursor.execute("CREATE USER IF NOT EXISTS 'asteriskuser'@'localhost' IDENTIFIED BY %s", (self.password,))
                cursor.execute("ALTER USER 'asteriskuser'@'localhost' IDENTIFIED BY %s", (self.password,))
                cursor.execute("GRANT ALL ON `%s`.* TO 'asteriskuser'@'localhost'" % self.name)
                cursor.execute("USE `%s`" % self.name)
                for statement in statements:
                    cursor.execute(statement)
        finally:
            root.close()
        return self

    def query(self, sql, args=()):
        connection = self.server.connect(database=self.name)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, args)
                return [tuple(row) for row in cursor.fetchall()]
        finally:
            connection.close()

    def dump(self):
        """Every row of every table, for comparing before/after."""
        tables = [row[0] for row in self.query("SHOW TABLES")]
        return {table: sorted(self.query("SELECT * FROM `%s`" % table), key=repr) for table in tables}


@pytest.fixture(scope="module")
def mariadb_server():
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    server = MariaDB()
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def issabel_db(mariadb_server):
    return IssabelDatabase(mariadb_server, "asterisk_%s" % secrets.token_hex(4)).create()
