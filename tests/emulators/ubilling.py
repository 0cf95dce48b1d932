# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ubilling remote API emulator (``?module=remoteapi&key=<serial>&action=...``).

Reproduces Ubilling 1.6.4 as read from its PHP code (see
shared/reference/telephony_billing.md §A and §F.1):

* the checks of modules/general/remoteapi/index.php, in order: REMOTEAPI_ENABLED,
  ``key`` present (``isset``: an empty ``key=`` counts as present and is wrong),
  a serial exists, the serial matches, ``action`` present. Without a key only
  ``identify`` answers (the serial's last 4 chars; ``param=save`` writes the
  whole serial to ``<exports_dir>/ubserial``); another action without a key
  falls through to the HTML page and ``ERROR:GET_NO_KEY`` needs both missing;
* root index.php answers first: the maintenance text when the UPDATE file
  exists, the Stargazer notice when stargazer is down;
* every reply is HTTP 200 ``text/html`` (except ``userside`` with a missing or
  unknown ``request``: 400), with the exact strings of the controllers,
  spacing included (``OK: MULTIGEN``, ``ERROR: NASMON DISABLED``,
  ``CACHEDOG:CACHE_OK``), progress lines before the last line of ``swpoll`` and
  of ``fullhostscan`` without ``nn``, JSON (``/`` escaped, non-ASCII as \\uXXXX,
  like PHP's json_encode) and the literal ``undefined``;
* an unknown action gets the ReloadCMS skin HTML (no controller calls die);
* alter.ini switches (``alter``), the stock profile that switches many
  crontab actions off, and per-action run times: while one ``multigen`` runs
  another answers ``SKIP: MULTIGEN ALREADY RUNNING``.

Subscribers come from tests.emulators.labnet: a subscriber is a login with one
IP/MAC (its first device), its plan is the tariff (speeds in Kbit/s).
Suspended subscribers are nomoney/pause/disable in turn; inactive ones have no
tariff (``*_NO_TARIFF_*``, state "new").

Test control (no auth, never logged), besides the base /_emulator/ endpoints:
GET/POST/DELETE /_emulator/state with JSON members ``enabled``, ``maintenance``,
``stargazer``, ``serial`` (a string, or null for "no serial exists"),
``profile`` ("lab" or "stock"), ``alter`` ({KEY: value}), ``delays``
({action: seconds}) and ``today`` ("YYYY-MM-DD"). Each log entry also has
``action`` and the first 200 characters of the ``reply``; with ``log_file`` the
entries are appended to that file as JSON lines.
"""

from __future__ import annotations

import calendar
import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import threading
from collections import deque

from tests.emulators.httpbase import CONTROL_PREFIX, LOG_LIMIT, STATUS_FAULTS, EmulatorServer, Reply
from tests.emulators.labnet import LabNetwork, Subscriber

CONTENT_TYPE = "text/html; charset=UTF-8"
APP_PATHS = ("/", "/index.php", "/billing/", "/billing/index.php")
STATE_PATH = CONTROL_PREFIX + "state"
MAINTENANCE_TEXT = "Ubilling maintance in progress"
STARGAZER_TEXT = ("Stargazer currently not running. We hope this is just a small temporary problem. "
                  "Please try again later.")
NO_TARIFF = "*_NO_TARIFF_*"
UNDEFINED = "undefined"
SWITCHES_POLLED = 12  # swpoll prints one progress line per switch; keep replies short
STATE_WORK, STATE_NOMONEY, STATE_PAUSE, STATE_DISABLE, STATE_NEW = 5, 1, 2, 3, 4
SUSPENDED_STATES = (STATE_NOMONEY, STATE_PAUSE, STATE_DISABLE)
PRICES = {"Basic 10": "150", "Home 25": "250", "Home 50": "350", "Plus 100": "490", "Max 300": "790"}

# alter.ini: a lab where every crontab action is switched on, and the stock file
# that ships with many of them off (reference §F.1).
LAB_ALTER = {
    "REMOTEAPI_ENABLED": 1, "MULTIGEN_ENABLED": 1, "FASTPING_ENABLED": 1, "WATCHDOG_ENABLED": 1,
    "PON_ENABLED": 1, "SENDDOG_ENABLED": 1, "OPENPAYZ_ENABLED": 1, "USERBYIP_ENABLED": 1,
    "USERBYNUM_ENABLED": 1, "AUTOCREDIT_CFID": 1, "USERSIDE_API": 1, "NASMON_ENABLED": 1,
    "EXHORSE_ENABLED": 1, "MTSIGMON_ENABLED": 1, "DEALWITHIT_ENABLED": 1, "FEES_HARVESTER": 1,
    "GLOBALSEARCH_ENABLED": 1, "SWYMAP_ENABLED": 1, "SPHINX_SEARCH_ENABLED": 1, "SMS_HISTORY_ON": 0,
}
STOCK_OFF = ("MULTIGEN_ENABLED", "FASTPING_ENABLED", "WATCHDOG_ENABLED", "PON_ENABLED", "SENDDOG_ENABLED",
             "OPENPAYZ_ENABLED", "USERBYIP_ENABLED", "AUTOCREDIT_CFID", "GLOBALSEARCH_ENABLED", "SWYMAP_ENABLED",
             "SPHINX_SEARCH_ENABLED")
STOCK_ALTER = dict(LAB_ALTER, **{name: 0 for name in STOCK_OFF})

SKIN_HTML = (
    "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" "
    "\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
    "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>Ubilling</title>"
    "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" />"
    "<link rel=\"stylesheet\" href=\"skins/ubng/css/ubilling.css\" type=\"text/css\" /></head>\n"
    "<body><div id=\"loginform\"><form action=\"\" method=\"post\">"
    "<input type=\"text\" name=\"username\" /><input type=\"password\" name=\"password\" />"
    "<input type=\"submit\" value=\"Log in\" /></form></div></body></html>\n"
)
NOT_FOUND_HTML = ("<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
                  "<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
SERVER_ERROR_HTML = ("<html>\r\n<head><title>{status} Error</title></head>\r\n<body>\r\n"
                     "<center><h1>{status} Error</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


def make_serial(seed: str = "isp.ops lab") -> str:
    """A serial shaped like zb_InstallBillingSerial's: 'UB' + md5 hex (34 chars)."""
    return "UB" + hashlib.md5(seed.encode("utf-8")).hexdigest()  # nosec - format only, not security


def login_of(subscriber: Subscriber) -> str:
    return f"lab{subscriber.id:06d}"


def php_json(payload) -> str:
    """json_encode() defaults: ASCII only, '/' escaped as '\\/'."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


def _ip_number(address: str) -> float:
    """get_user_list gives the IPv4 as a float (ip2long cast), e.g. 2886729739.0."""
    return float(int(ipaddress.IPv4Address(address)))


class _TeeLog(deque):
    """The request log; also appends each entry to a JSON-lines file when asked."""

    def __init__(self, emulator: "UbillingEmulator", path: str | None) -> None:
        super().__init__(maxlen=LOG_LIMIT)
        self._emulator, self._path = emulator, path

    def append(self, entry: dict) -> None:  # pylint: disable=arguments-renamed
        entry.update(self._emulator.pop_outcome())
        super().append(entry)
        if self._path:
            with open(self._path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")


class UbillingEmulator(EmulatorServer):
    """Ubilling's remote API on loopback; the serial is the only credential."""

    name = "ubilling"

    def __init__(self, network: LabNetwork, serial: str | None = None, exports_dir: str | None = None,
                 log_file: str | None = None, profile: str = "lab", **server_options) -> None:
        self.network = network
        self.initial_serial = make_serial() if serial is None else serial
        self.exports_dir = exports_dir
        self.initial_profile = profile
        self._outcome = threading.local()
        self._running: set[str] = set()
        self.reset_state()
        super().__init__(**server_options)
        self._log = _TeeLog(self, log_file)

    # --- state -------------------------------------------------------------------
    def reset_state(self) -> None:
        self.serial: str | None = self.initial_serial or None
        self.enabled, self.maintenance, self.stargazer = True, False, True
        self.alter = dict(STOCK_ALTER if self.initial_profile == "stock" else LAB_ALTER)
        self.delays: dict[str, float] = {}
        self.today: datetime.date | None = None
        self.cache_dirty = True

    def state(self) -> dict:
        """What a test may read back; the serial shows only as its last 4 chars."""
        return {
            "enabled": self.enabled, "maintenance": self.maintenance, "stargazer": self.stargazer,
            "serial_exists": bool(self.serial), "serial_tail": self.serial[-4:] if self.serial else None,
            "alter": dict(self.alter), "delays": dict(self.delays),
            "today": self.today.isoformat() if self.today else None,
        }

    def update_state(self, spec: dict) -> None:
        if not isinstance(spec, dict):
            raise ValueError("state must be a JSON object")
        unknown = set(spec) - {"enabled", "maintenance", "stargazer", "serial", "profile", "alter", "delays", "today"}
        if unknown:
            raise ValueError(f"unknown state members: {', '.join(sorted(unknown))}")
        if "profile" in spec:
            if spec["profile"] not in ("lab", "stock"):
                raise ValueError("profile must be 'lab' or 'stock'")
            self.alter = dict(STOCK_ALTER if spec["profile"] == "stock" else LAB_ALTER)
        for flag in ("enabled", "maintenance", "stargazer"):
            if flag in spec:
                setattr(self, flag, bool(spec[flag]))
        if "serial" in spec:
            self.serial = spec["serial"] or None
        self.alter.update(spec.get("alter") or {})
        for action, seconds in (spec.get("delays") or {}).items():
            if not 0 <= float(seconds) <= 30:  # every load loop bounded
                raise ValueError("delays are 0..30 seconds")
            self.delays[action] = float(seconds)
        if "today" in spec:
            self.today = datetime.date.fromisoformat(spec["today"]) if spec["today"] else None

    def _today(self) -> datetime.date:
        return self.today or datetime.date.today()

    def pop_outcome(self) -> dict:
        outcome = getattr(self._outcome, "value", None) or {"action": None, "reply": None}
        self._outcome.value = None
        return outcome

    # --- HTTP plumbing -----------------------------------------------------------
    def dispatch(self, handler) -> None:
        self._outcome.value = None
        super().dispatch(handler)

    def _control(self, method: str, path: str, body: bytes) -> Reply:
        if path != STATE_PATH:
            return super()._control(method, path, body)
        if method == "POST":
            try:
                with self._lock:
                    self.update_state(json.loads(body or b"{}"))
            except (ValueError, TypeError) as error:
                return Reply(400, self.encode({"error": str(error)})[0], "application/json")
        elif method == "DELETE":
            with self._lock:
                self.reset_state()
        elif method != "GET":
            return Reply(405, b'{"error":"GET, POST or DELETE"}', "application/json")
        return Reply(200, self.encode(self.state())[0], "application/json")

    def _normal_reply(self, handler, path: str, query: dict) -> Reply:
        if path not in APP_PATHS:
            return Reply(404, NOT_FOUND_HTML.encode(), "text/html")
        status, text = self.answer(query)
        return self._text(status, text, query)

    def _text(self, status: int, text: str, query: dict) -> Reply:
        self._outcome.value = {"action": _first(query, "action"), "reply": text[:200]}
        return Reply(status, text.encode("utf-8"), CONTENT_TYPE)

    def _fault_reply(self, kind: str, path: str, query: dict) -> Reply | None:
        """Faults the way a PHP site behind nginx shows them (HTML, never JSON)."""
        self._outcome.value = {"action": _first(query, "action"), "reply": None}
        if kind in STATUS_FAULTS:
            return Reply(int(kind), SERVER_ERROR_HTML.format(status=kind).encode(), "text/html")
        if kind == "html":
            return Reply(200, SKIN_HTML.encode(), CONTENT_TYPE)
        if kind == "empty":
            return Reply(200, b"", CONTENT_TYPE)
        if kind in ("truncated", "wrong_shape"):
            status, text = self.answer(query) if path in APP_PATHS else (200, SKIN_HTML)
            if kind == "truncated":
                return Reply(status, text.encode()[: max(1, len(text) // 2)], CONTENT_TYPE)
            return Reply(status, ("[" + text + "]").encode(), CONTENT_TYPE)
        return None  # timeout / reset: handled by the base class

    # --- the application -----------------------------------------------------------
    def answer(self, query: dict) -> tuple[int, str]:
        """(HTTP status, body) for one request, in index.php's order of checks."""
        if self.maintenance:
            return 200, MAINTENANCE_TEXT
        if not self.stargazer:
            return 200, STARGAZER_TEXT
        if _first(query, "module") != "remoteapi":
            return 200, SKIN_HTML
        if not (self.enabled and self.alter.get("REMOTEAPI_ENABLED")):
            return 200, "ERROR:API_DISABLED"
        action = _first(query, "action")
        if "key" not in query:
            if action == "identify":
                return 200, self.identify(_first(query, "param") == "save")
            return 200, SKIN_HTML if action is not None else "ERROR:GET_NO_KEY"
        if not self.serial:
            return 200, "ERROR:NO_UBSERIAL_EXISTS"
        if not hmac.compare_digest(_first(query, "key").encode(), self.serial.encode()):
            return 200, "ERROR:GET_WRONG_KEY"
        if action is None:
            return 200, "ERROR:GET_NO_ACTION"
        controller = getattr(self, "action_" + action, None) if action.isidentifier() else None
        if controller is None and action in SIMPLE_ACTIONS:
            controller = self._simple
        if controller is None:
            return 200, SKIN_HTML
        return self._run(action, controller, query)

    def _run(self, action: str, controller, query: dict) -> tuple[int, str]:
        """Run a controller; actions with a run lock in Ubilling answer BUSY while one runs."""
        delay, guarded = self.delays.get(action, 0.0), action in BUSY
        with self._lock:
            busy = guarded and action in self._running
            if guarded and not busy:
                self._running.add(action)
        if busy:
            return 200, BUSY[action]
        try:
            if delay:
                self._stopping.wait(delay)
            result = controller(query)
        finally:
            with self._lock:
                self._running.discard(action)
        return result if isinstance(result, tuple) else (200, result)

    def identify(self, save: bool) -> str:
        with self._lock:
            if not self.serial:  # 1.6.4 installs a serial on first identify
                self.serial = make_serial(os.urandom(8).hex())
            serial = self.serial
        if save and self.exports_dir:
            target = os.path.join(self.exports_dir, "ubserial")
            with open(target + ".tmp", "w", encoding="ascii") as handle:
                handle.write(serial)
            os.replace(target + ".tmp", target)
        return serial[-4:]

    def _gate(self, option: str, disabled: str) -> str | None:
        return None if self.alter.get(option) else disabled

    def _simple(self, query):
        option, disabled, done = SIMPLE_ACTIONS[_first(query, "action")]
        return (option and self._gate(option, disabled)) or done

    # --- controllers of the crontab minimum set and friends -----------------------------
    def action_fullhostscan(self, query):
        lines = []
        if _first(query, "nn") is None:  # nmap runs and reports each network
            stamp = self._stamp()
            lines = [f"{net} :{stamp}:SCANNED\n" for net in self.networks()]
        if self.alter.get("SWYMAP_ENABLED"):  # print() without a newline, then die(): glued together
            lines.append("OK:USERBUILDCACHE")
        return "".join(lines) + "OK:FULLHOSTSCAN"

    def action_swpoll(self, query):
        stamp = self._stamp()
        switches = [item.ipv4 for item in self.network.equipment][:SWITCHES_POLLED]
        if not switches:
            return "ERROR:SWPOLL_NODEVICES"
        lines = [f"{stamp} {ip} [OK]\n" if index % 5 else f"{stamp} {ip} [FAIL] SWITCH DEAD\n"
                 for index, ip in enumerate(switches, 1)]
        return "".join(lines) + "OK:SWPOLL"

    def action_senddog(self, query):
        if not self.alter.get("SENDDOG_ENABLED"):
            return "ERROR:SENDDOG_DISABLED"
        if _first(query, "param") == "chkmsgstatuses":
            return ("OK:SENDDOG SMS STATUS CHECK PROCESSED" if self.alter.get("SMS_HISTORY_ON")
                    else "OK:SENDDOG SMS HISTORY DISABLED")
        return "OK:SENDDOG SMS `0` TLG `2` EML `0`"

    def action_backupdb(self, query):
        return "OK:BACKUPDB content/backups/sql/ubilling-" + self._today().strftime("%Y-%m-%d") + "_01_01_00.sql"

    def action_rebuildglscache(self, query):
        return "OK:REBUILDGLSCACHE" if self.alter.get("GLOBALSEARCH_ENABLED") else "SKIPPED:REBUILDGLSCACHE"

    def action_cachedog(self, query):
        with self._lock:
            dirty, self.cache_dirty = self.cache_dirty, False
        return "CACHEDOG:CACHE_CLEANED" if dirty else "CACHEDOG:CACHE_OK"

    def action_reset(self, query):
        login = _first(query, "param")
        if login is None:
            return "ERROR:GET_NO_PARAM"
        self.cache_dirty = True
        return "OK:RESET"

    def action_usercash(self, query):
        login, summ = _first(query, "login"), _first(query, "summ")
        if not login or summ is None:
            return "ERROR:NO_PARAMS"
        if login not in self.logins():
            return "ERROR:WRONG_LOGIN"
        try:
            float(summ)
        except ValueError:
            return "ERROR:DIRTY_MONEY"
        self.cache_dirty = True
        return "OK:USERCASH"

    def action_autocredit(self, query):
        if not self.alter.get("AUTOCREDIT_CFID"):
            return "ERROR:AUTOCREDIT_DISABLED"
        today = self._today()
        if today.day != calendar.monthrange(today.year, today.month)[1]:
            return "SKIP:AUTOCREDIT"
        return "OK:AUTOCREDIT 0"

    # --- JSON actions ---------------------------------------------------------------------
    def action_userside(self, query):
        if not self.alter.get("USERSIDE_API"):
            return "ERROR:USERSIDE_API_DISABLED"
        request = _first(query, "request")
        if request == "get_tariff_list":
            return php_json(self.tariff_list())
        if request == "get_user_list":
            users = self.user_list(_first(query, "customer_id"))
            return php_json(users) if users else UNDEFINED
        if request == "get_user_state_list":
            return php_json({str(n): {"id": n, "name": name} for n, name in (
                (STATE_NOMONEY, "nomoney"), (STATE_PAUSE, "pause"), (STATE_DISABLE, "disable"),
                (STATE_NEW, "new"), (STATE_WORK, "work"))})
        if request == "get_api_information":
            return php_json({"version": "1.6.4", "date": "2026-01-01 00:00:00"})
        return 400, ""  # missing or unknown request (reference §F.1)

    def action_userbyip(self, query):
        if not self.alter.get("USERBYIP_ENABLED"):
            return "ERROR: USERBYIP DISABLED"
        ip = _first(query, "ip")
        if not ip:
            return "ERROR: EMPTY IP"
        found = next((s for s in self.network.subscribers if self.address_of(s) == ip), None)
        return php_json(self.userdata(found))

    def action_userbynum(self, query):
        if not self.alter.get("USERBYNUM_ENABLED"):
            return "ERROR: USERBYNUM DISABLED"
        number = _first(query, "number")
        found = next((s for s in self.network.subscribers if self.phone_of(s) == number), None)
        return php_json(self.userdata(found))

    def action_getagentdata(self, query):
        login = _first(query, "param")
        if login not in self.logins():
            return "ERROR:NO_LOGIN_PARAM" if not login else UNDEFINED
        return php_json({"id": "1", "bankacc": "UA213223130000026007233566001", "bankname": "Lab Bank",
                         "contrname": "ISP Lab LLC", "edrpo": "12345678", "ipn": "", "licensenum": ""})

    # --- data ---------------------------------------------------------------------------------
    def logins(self) -> set[str]:
        return {login_of(s) for s in self.network.subscribers}

    @staticmethod
    def address_of(subscriber: Subscriber) -> str:
        return subscriber.devices[0].ipv4[0]

    @staticmethod
    def phone_of(subscriber: Subscriber) -> str:
        return f"38067{subscriber.id:07d}"

    def networks(self) -> list[str]:
        nets = {str(ipaddress.IPv4Network(self.address_of(s) + "/24", strict=False))
                for s in self.network.subscribers if _is_ipv4(self.address_of(s))}
        return sorted(nets, key=ipaddress.IPv4Network)

    @staticmethod
    def state_of(subscriber: Subscriber) -> int:
        if not subscriber.active:
            return STATE_NEW
        if subscriber.suspended:
            return SUSPENDED_STATES[subscriber.id % 3]
        return STATE_WORK

    def tariff_list(self) -> dict:
        plans = sorted({s.plan for s in self.network.subscribers}, key=lambda plan: plan.download_mbps)
        return {plan.name: {
            "id": plan.name, "name": plan.name, "payment": PRICES.get(plan.name, "100"),
            "payment_interval": "30",
            "speed": {"up": str(plan.upload_mbps * 1000), "down": str(plan.download_mbps * 1000)},
            "traffic": "0", "service_type": "internet"} for plan in plans}

    def user_record(self, s: Subscriber) -> dict:
        state = self.state_of(s)
        tariff = NO_TARIFF if state == STATE_NEW else s.plan.name
        address = self.address_of(s)
        ip_net = str(ipaddress.IPv4Network(address + "/24", strict=False)) if _is_ipv4(address) else ""
        balance = "-35.00" if state == STATE_NOMONEY else f"{(s.id * 37) % 500}.00"
        return {
            "id": login_of(s), "login": login_of(s), "full_name": s.name, "flag_corporate": 0,
            "tariff": {"current": [{"id": tariff}], "new": []},
            "balance": balance, "credit": "0", "state_id": state,
            "ip_mac": [{"ip": _ip_number(address) if _is_ipv4(address) else address,
                        "mac": s.devices[0].mac, "ip_net": ip_net}],
            "address": [{"type": "connect", "country_id": 0, "city_id": 1, "street_id": 1, "house_id": s.id,
                         "apartment": {"full_name": s.street}, "comment": s.address}],
            "phone": [{"number": self.phone_of(s), "flag_main": 1}],
            "email": [{"address": f"customer{s.id}@example.net", "flag_main": 1}],
            "account_number": str(100000 + s.id),
            "tag": [],
            "traffic": {"month": {"up": str(s.id * 1048576), "down": str(s.id * 8388608)}},
            "additional_data": {"notes": f"AP {s.ap_id}"},
            "date_create": "2024-03-01 00:00:00", "date_connect": "2024-03-01 00:00:00",
            "password": f"pw{s.id:06d}",
        }

    def user_list(self, login: str | None) -> dict:
        return {login_of(s): self.user_record(s) for s in self.network.subscribers
                if login is None or login_of(s) == login}

    def userdata(self, s: Subscriber | None) -> dict:
        if s is None:
            return {"result": 0}
        state = self.state_of(s)
        return {"result": 1, "userdata": {
            "login": login_of(s), "realname": s.name, "Passive": "1" if state == STATE_PAUSE else "0",
            "Down": "1" if state == STATE_DISABLE else "0", "AlwaysOnline": "1",
            "Tariff": NO_TARIFF if state == STATE_NEW else s.plan.name, "TariffChange": "",
            "Credit": "0", "Cash": "-35" if state == STATE_NOMONEY else "100",
            "ip": self.address_of(s), "mac": s.devices[0].mac, "address": s.address,
            "phone": "", "mobile": self.phone_of(s), "contract": str(100000 + s.id)}}

    def _stamp(self) -> str:
        return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")


# Controllers that only check their alter.ini switch and answer: action -> (switch or None,
# answer when it is off, answer when it ran). The printed strings, spacing included, are the PHP code's.
SIMPLE_ACTIONS = {
    "multigen": ("MULTIGEN_ENABLED", "ERROR: MULTIGEN DISABLED", "OK: MULTIGEN"),
    "fastping": ("FASTPING_ENABLED", "ERROR:FASTPING_DISABLED", "OK:FASTPING"),
    "watchdog": ("WATCHDOG_ENABLED", "ERROR:NO_WATCHDOG_ENABLED", "OK:WATCHDOG"),
    "dealwithit": ("DEALWITHIT_ENABLED", "ERROR:DEALWITHIT DISABLED", "OK:DEALWITHIT"),
    "exhorse": ("EXHORSE_ENABLED", "ERROR: EXHORSE DISABLED", "OK: EXHORSE"),
    "nasmon": ("NASMON_ENABLED", "ERROR: NASMON DISABLED", "OK: NASMON"),
    "mtsigmonpoll": ("MTSIGMON_ENABLED", "ERROR:MTSIGMON_DISABLED", "OK:MTPOLL"),
    "oltpoll": ("PON_ENABLED", "ERROR:PON_DISABLED", "OK:OLTPOLL"),
    "feesharvester": ("FEES_HARVESTER", "ERROR:FEES_HARVESTER_DISABLED", "OK: FEES HARVESTED `0`"),
    "opprocessing": ("OPENPAYZ_ENABLED", "ERROR:OPENPAYZ_DISABLED", "OK:TRANSACTIONS_PROCESSED 0"),
    "buildsmap": ("SWYMAP_ENABLED", "ERROR: SWYMAP DISABLED", "OK:BUILDSMAP"),
    "sphidxr": ("SPHINX_SEARCH_ENABLED", "SKIPPED:SPHINX_SEARCH_DISABLED", "OK:SPHINXINDEXER_DONE"),
    "vserviceschargefee": (None, None, "OK:SERVICE_CHARGE_FEE"),
    "swping": (None, None, "OK:SWPING"),
    "autocleandb": (None, None, "OK:AUTOCLEANDB 0"),
    "fdbarchive": (None, None, "OK:FDBARCHIVE"),
    "onusigcompressor": (None, None, "ONUSIGCOMPRESSOR:OK"),
    "handlersrebuild": (None, None, "OK:HANDLERSREBUILD"),
    "rebuilduserdatacache": (None, None, "OK:REBUILDUSERDATACACHE"),
    "autofreeze": (None, None, "OK:NO_USERS_TO_AUTOFREEZE"),
}

# What a controller answers when the same action is already running.
BUSY = {
    "multigen": "SKIP: MULTIGEN ALREADY RUNNING",
    "feesharvester": "WARNING:FEES_HARVESTER_ALREADY_RUNING",
    "buildsmap": "SKIP:BUILDSMAP_ALREADY_RUNNING",
    "sphidxr": "SKIPPED:ALREADY_RUNNING",
    "opprocessing": "SKIP:OPPROCESSING_RUNNING",
}


def _first(query: dict, name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True
