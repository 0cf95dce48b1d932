# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`main(["--config", "/etc/isp-ops/crm_sync.json"])`, with the collection's module_utils importable
as `ispops_utils`: the periodic CRM refresh a shaper runs from a systemd timer (role isp.ops.crm_sync)
and AWX runs through playbooks/crm_sync.yml, with no Ansible controller on the box.

One run, under an exclusive lock: fetch the CRM, build the topology, write ShapedDevices.csv and
network.json (only what changed, atomically: the path of isp.ops.crm_topology), then apply the
shaper incrementally with shaping/runner (always: it changes only what differs, and it also
completes an apply that failed in an earlier run after the files were written).

The config is a JSON object:
    {"crm": {crm_topology options, without secrets},
     "shaper_config": "/etc/isp-ops/shaper.json" (null: do not apply),
     "lock_file": "/run/lock/isp-ops-crm-sync.lock", "lock_wait_seconds": 0}
Secrets (the crm_topology options marked no_log) come from a root-only JSON file: the systemd
credential `crm_sync` ($CREDENTIALS_DIRECTORY/crm_sync, LoadCredential=) when the unit provides
one, else --credentials. They never reach the log: every line is scrubbed of their values.

One line per step goes to stdout (the journal). Exit status:
    0   done (files written or unchanged, shaper applied or nothing to do)
    1   the CRM or the topology failed: nothing written, the shaper untouched
    2   bad usage, config or credentials: nothing done
    3   the files were written but the shaper apply failed: the running shaper is as it was,
        the next run applies again
    70  an unexpected error (a bug): logged in one line, secrets scrubbed
    75  another run holds the lock (after lock_wait_seconds): skipped, nothing done
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import json
import os
import stat
import sys
import time
from urllib.parse import urlsplit

from ..topology import publish
from ..topology.settings import TopologyError
from . import http, options, sources

EXIT_OK, EXIT_CRM, EXIT_CONFIG, EXIT_APPLY, EXIT_BUG, EXIT_LOCKED = 0, 1, 2, 3, 70, 75
DEFAULT_LOCK = "/run/lock/isp-ops-crm-sync.lock"
CREDENTIAL_NAME = "crm_sync"
CONFIG_KEYS = ("crm", "shaper_config", "lock_file", "lock_wait_seconds")


class ConfigError(Exception):
    pass


class Log(object):
    """One line per step on stdout, with every secret value replaced by ********."""

    def __init__(self, prefix="isp-ops-crm-sync"):
        self.prefix = prefix
        self.secrets = []

    def __call__(self, message):
        for secret in self.secrets:
            message = message.replace(secret, "********")
        sys.stdout.write("%s: %s\n" % (self.prefix, message))
        sys.stdout.flush()


def read_json_object(path, what):
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ConfigError("cannot read the %s %s: %s" % (what, path, exc))
    if not isinstance(data, dict):
        raise ConfigError("the %s %s must hold a JSON object" % (what, path))
    return data


def credentials_path(given):
    """The systemd credential when the unit loaded one, else the --credentials file (or None)."""
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if directory and os.path.exists(os.path.join(directory, CREDENTIAL_NAME)):
        return os.path.join(directory, CREDENTIAL_NAME)
    return given


def read_credentials(path, log):
    if not path or not os.path.exists(path):
        log("no credentials file%s; running without secrets" % (" at %s" % path if path else ""))
        return {}
    credentials = read_json_object(path, "credentials file")
    mode = os.stat(path).st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO) and "CREDENTIALS_DIRECTORY" not in os.environ:
        log("warning: credentials file %s is accessible to group or others (mode %04o); make it 0600"
            % (path, stat.S_IMODE(mode)))
    not_secret = sorted(set(credentials) - set(options.secret_names()))
    if not_secret:
        raise ConfigError("credentials file %s holds options that are not secrets: %s; put them in the config"
                          % (path, ", ".join(not_secret)))
    return credentials


def load(config_path, credentials_file, log):
    """(run settings, crm params) from the config and the credentials; raises ConfigError."""
    config = read_json_object(config_path, "config")
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError("config %s: unknown key(s) %s" % (config_path, ", ".join(unknown)))
    crm = config.get("crm")
    if not isinstance(crm, dict):
        raise ConfigError("config %s: 'crm' must be an object of isp.ops.crm_topology options" % config_path)
    in_config = sorted(name for name in options.secret_names() if crm.get(name))
    if in_config:
        raise ConfigError("config %s holds secret option(s) %s; they belong in the root-only credentials file"
                          % (config_path, ", ".join(in_config)))
    credentials = read_credentials(credentials_path(credentials_file), log)
    log.secrets = [str(value) for value in credentials.values() if value]
    try:
        params = options.with_defaults(dict(crm, **credentials))
    except options.OptionsError as exc:
        raise ConfigError("config %s: %s" % (config_path, exc))
    missing = sources.missing_options(params["source"], params)
    if missing:
        raise ConfigError("source=%s needs the options: %s (secrets go in the credentials file)"
                          % (params["source"], ", ".join(missing)))
    if not os.path.isdir(params["output_dir"]):
        raise ConfigError("output_dir %s does not exist or is not a directory" % params["output_dir"])
    try:
        wait = float(config.get("lock_wait_seconds") or 0)
    except (TypeError, ValueError):
        raise ConfigError("config %s: lock_wait_seconds must be a number" % config_path)
    run = {"shaper_config": config.get("shaper_config") or None,
           "lock_file": config.get("lock_file") or DEFAULT_LOCK, "lock_wait_seconds": max(wait, 0.0)}
    return run, params


def acquire(handle, wait_seconds):
    """flock on an open file: True when held, False when another holder kept it past `wait_seconds`.
    The kernel drops the lock when its holder exits, even when killed: no stale lock to clean up."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(0.5, max(deadline - time.monotonic(), 0.01)))


def _host_of(url):
    """scheme://host[:port] only: a URL may carry credentials in its user part or query."""
    parts = urlsplit(url or "")
    return "%s://%s" % (parts.scheme, parts.netloc.rpartition("@")[2])


def import_topology(params, log):
    """Fetch, build and write: the crm_topology path. Returns the paths written."""
    started = time.monotonic()
    settings = options.build_settings(params)
    payloads = sources.fetch(params["source"], params, settings)
    log("fetched %s (%s) in %.1f s" % (params["source"], _host_of(params["url"]), time.monotonic() - started))
    topology, plan = sources.build_outputs(
        params["source"], payloads, settings, params["output_dir"], layout=params["csv_layout"],
        overwrite_network_json=params["always_overwrite_network_json"], write_graph=params["graph"],
        max_circuit_drop_percent=params["max_circuit_drop_percent"], force=params["force"])
    for message in topology.report.messages() + plan.warnings:
        log("warning: " + message)
    stats = topology.stats()
    log("topology: circuits %s, devices %s, nodes %s, depth %s; changes %s" % (
        stats.get("circuits"), stats.get("devices"), stats.get("nodes"), stats.get("depth"),
        json.dumps(dict((kind, dict((k, v) for k, v in counts.items() if not k.endswith(("_ids", "_names"))))
                        for kind, counts in plan.summary.items()), sort_keys=True)))
    written = publish.write_outputs(plan)
    log("wrote %s" % ", ".join(written) if written else "files unchanged in %s" % params["output_dir"])
    return written


def apply_shaper(shaper_config, log):
    """shaping/runner's apply in this process; it logs its own lines. Returns its exit status."""
    try:
        from ..shaping import runner  # only a run that applies needs pyroute2 and bcc
    except ImportError as exc:
        log("cannot load the shaper runner: %s" % exc)
        return 1
    log("applying the shaper (%s)" % shaper_config)
    return runner.apply(shaper_config)


def sync(config_path, credentials_file, log):
    if not http.HAS_REQUESTS:
        log("the Python library requests is missing (Debian: python3-requests); nothing done")
        return EXIT_CONFIG
    try:
        run, params = load(config_path, credentials_file, log)
    except ConfigError as exc:
        log("bad configuration, nothing done: %s" % exc)
        return EXIT_CONFIG
    try:
        lock = open(run["lock_file"], "a")
    except OSError as exc:
        log("cannot open the lock file %s: %s" % (run["lock_file"], exc))
        return EXIT_CONFIG
    with lock:
        if not acquire(lock, run["lock_wait_seconds"]):
            log("skipped: another run holds %s (waited %g s)" % (run["lock_file"], run["lock_wait_seconds"]))
            return EXIT_LOCKED
        log("lock %s held; importing from %s" % (run["lock_file"], params["source"]))
        try:
            return locked_run(run, params, log)
        except Exception as exc:  # one scrubbed line in the journal instead of a traceback
            log("unexpected error, stopped: %s: %s" % (type(exc).__name__, exc))
            return EXIT_BUG


def locked_run(run, params, log):
    started = time.monotonic()
    try:
        import_topology(params, log)
    except http.CrmError as exc:
        log("CRM failed, nothing written, shaper untouched: %s" % exc)
        return EXIT_CRM
    except (TopologyError, publish.SafetyValveError, OSError, ValueError) as exc:
        log("import failed, shaper untouched: %s" % exc)
        return EXIT_CRM
    if run["shaper_config"]:
        status = apply_shaper(run["shaper_config"], log)
        if status != 0:
            log("shaper apply failed (status %s); the running shaper is as it was; the next run applies again"
                % status)
            return EXIT_APPLY
    log("done in %.1f s" % (time.monotonic() - started))
    return EXIT_OK


def main(argv):
    parser = argparse.ArgumentParser(prog="isp-ops-crm-sync", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--config", default="/etc/isp-ops/crm_sync.json")
    parser.add_argument("--credentials", default="/etc/isp-ops/crm_sync.credentials.json",
                        help="root-only JSON with the secret options; the systemd credential %r wins"
                        % CREDENTIAL_NAME)
    args = parser.parse_args(argv)
    return sync(args.config, args.credentials, Log())
