# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real CRM emulators on 127.0.0.1 for the CRM client tests.

One server per test module (fixtures `splynx_server`, `uisp_server`, or the pair that
`emulator_fixtures` makes for another source); the per-test fixtures (`splynx`, `uisp`, ...) hand
out the same server with no faults and an empty request log.
"""

from __future__ import annotations

import base64
import traceback

import pytest

from ansible_collections.isp.ops.plugins.module_utils.crm import sources
from ansible_collections.isp.ops.plugins.module_utils.crm import splynx as splynx_client
from ansible_collections.isp.ops.plugins.module_utils.crm import uisp as uisp_client
from ansible_collections.isp.ops.plugins.module_utils.crm.http import CrmSession
from ansible_collections.isp.ops.plugins.module_utils.topology import engine
from ansible_collections.isp.ops.plugins.module_utils.topology.settings import Settings
from tests.emulators.labnet import generate
from tests.emulators.splynx import SplynxEmulator
from tests.emulators.uisp import UispEmulator

# Distinctive secrets, so a leak into a message is easy to spot.
API_KEY = "lab-key-7f3a"
API_SECRET = "splynx-secret-Q9x2LmP4"
TOKEN = "uisp-token-Z8k1VwR6"
BASIC = base64.b64encode(("%s:%s" % (API_KEY, API_SECRET)).encode()).decode()
SECRETS = (API_SECRET, TOKEN, BASIC)

# 60 subscribers, seed 5: every forced case (suspended, inactive, dynamic, AP not recorded,
# routed /29 with IPv6) plus a dynamic CPE with a second, static device (subscriber 37).
SUBSCRIBERS, SEED = 60, 5
EMULATOR_TIMEOUT_DELAY = 1.0  # how long a "timeout" fault stalls; clients wait 0.5 s


@pytest.fixture(scope="session")
def network():
    return generate(SUBSCRIBERS, SEED)


@pytest.fixture(scope="module")
def splynx_server(network):
    with SplynxEmulator(network, API_KEY, API_SECRET, timeout_delay=EMULATOR_TIMEOUT_DELAY) as server:
        yield server


@pytest.fixture(scope="module")
def uisp_server(network):
    with UispEmulator(network, TOKEN, timeout_delay=EMULATOR_TIMEOUT_DELAY) as server:
        yield server


def _clean(server):
    server.clear_faults()
    server.clear_log()
    yield server
    server.clear_faults()


def emulator_fixtures(emulator_class, *credentials):
    """(module-scoped server, per-test clean server) fixtures for one more CRM emulator:
    `server, netzur = emulator_fixtures(NetzurEmulator, API_KEY)` in a test module."""

    @pytest.fixture(scope="module")
    def server(network):
        with emulator_class(network, *credentials, timeout_delay=EMULATOR_TIMEOUT_DELAY) as emulator:
            yield emulator

    @pytest.fixture
    def clean(server):
        yield from _clean(server)

    return server, clean


@pytest.fixture
def splynx(splynx_server):
    yield from _clean(splynx_server)


@pytest.fixture
def uisp(uisp_server):
    yield from _clean(uisp_server)


class Crm(object):
    """Credentials, sessions, module parameters and the fetch -> to_snapshot -> engine pipeline."""

    API_KEY, API_SECRET, TOKEN = API_KEY, API_SECRET, TOKEN

    @staticmethod
    def session(server, retries=0, timeout=0.5, backoff=0):
        """A CrmSession as sources.open_session builds it, with test-sized timeout and backoff."""
        if isinstance(server, SplynxEmulator):
            return CrmSession(splynx_client.SOURCE, server.url, timeout=timeout, retries=retries,
                              backoff=backoff, auth=(API_KEY, API_SECRET))
        return CrmSession(uisp_client.SOURCE, uisp_client.base_url(server.url), timeout=timeout,
                          retries=retries, backoff=backoff, headers={"X-Auth-Token": TOKEN})

    @staticmethod
    def params(server, **overrides):
        params = source_params(server)
        if isinstance(server, SplynxEmulator):
            params.update(api_key=API_KEY, api_secret=API_SECRET)
        else:
            params.update(token=TOKEN)
        params.update(overrides)
        return params

    @staticmethod
    def source(server):
        return "splynx" if isinstance(server, SplynxEmulator) else "uisp"

    def fetch(self, server, settings, **overrides):
        return sources.fetch(self.source(server), self.params(server, **overrides), settings)

    def snapshot(self, server, settings=None, **options):
        settings = settings or Settings(**options)
        return sources.SOURCES[self.source(server)].to_snapshot(self.fetch(server, settings), settings)

    def build(self, server, **options):
        """(Snapshot, Topology) for the given Settings options."""
        settings = Settings(**options)
        snapshot = self.snapshot(server, settings)
        return snapshot, engine.build(snapshot, settings)

    @staticmethod
    def assert_no_secret(exc, secrets=SECRETS):
        """Neither the message, the attributes nor the whole chained traceback hold a secret."""
        text = "\n".join([str(exc), repr(exc), repr(exc.args), repr(vars(exc))]
                         + traceback.format_exception(type(exc), exc, exc.__traceback__))
        for secret in secrets:
            assert secret not in text


@pytest.fixture(scope="session")
def crm():
    return Crm()


def source_params(server, **credentials):
    """Module-style connection parameters for a running emulator (credentials may also give the url:
    Netzur's is the full endpoint URL)."""
    return dict(dict(url=server.url, timeout=5, retries=0, retry_backoff=0, validate_certs=True), **credentials)


@pytest.fixture(scope="session")
def fetch_source():
    return _fetch_source


def _fetch_source(source, server, credentials, **options):
    """sources.fetch of `source` against a running emulator, with Settings(**options)."""
    return sources.fetch(source, source_params(server, **credentials), _settings(source, options))


def _settings(source, options):
    return Settings(**dict({"strategy": sources.default_strategy(source)}, **options))


@pytest.fixture(scope="session")
def run_source():
    return _run_source


def _run_source(source, server, credentials, **options):
    """(payloads, Snapshot, Topology) of `source` against a running emulator, as the module runs it:
    sources.fetch with module-style params, then to_snapshot and the engine."""
    settings = _settings(source, options)
    payloads = sources.fetch(source, source_params(server, **credentials), settings)
    snapshot = sources.SOURCES[source].to_snapshot(payloads, settings)
    return payloads, snapshot, engine.build(snapshot, settings)
