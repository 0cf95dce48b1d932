# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Two real Asterisk 22 instances, a PBX and an OMniLeads peer, in two network namespaces.

    host  <prefix>h ---- veth ---- <prefix>-pbx   eth0 10.66.0.1/24 (SIP transport-udp :5066)
    10.67.N.1/30                                   ami0 10.67.N.2/30 (AMI :5038)
                                       | veth
                                   <prefix>-oml   eth0 10.66.0.2/24 (SIP trunk-transport :5161)
                                                   ami0 via a second host veth, 10.67.N.6/30

Both run `asterisk -f -C <own asterisk.conf>` chrooted into the Debian sid tree made by
scripts/asterisk-chroot.sh, each with its own config, run, log, lib and spool directories under
<chroot>/var/tmp/isp-ops-lab/<lab>/<name>/ (so the two never share a control socket or astdb).
/proc and /dev are bind-mounted into the chroot while any lab uses it (reference-counted, so
concurrent labs do not unmount each other's) and unmounted by the last one. Every address lives
only in the namespaces and veths the lab creates; teardown always kills the processes, unmounts
and deletes the namespaces, also after a failure.

Tests write the per-test configuration (pjsip_custom.conf, extensions_custom.conf, ...) into
`instance.etc` and reload; `instance.cli` is the `asterisk_cli` prefix for the modules.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import shutil
import subprocess
import time

from tests.integration.netns_lab import LabError, _remove_netns, list_netns, run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROOT_SCRIPT = os.path.join(ROOT, "scripts", "asterisk-chroot.sh")
DEFAULT_CHROOT = "/var/cache/isp-ops/asterisk-sid"
BUILD_ENV = "ISP_OPS_BUILD_ASTERISK"   # "1": build the chroot instead of skipping (CI)
STALE_PREFIX = "ispa"
LAB_SUBDIR = "var/tmp/isp-ops-lab"     # inside the chroot
START_TIMEOUT = 30
AMI_USER = "isptest"

# Modules of a trunk peer: PJSIP with the config wizard and digest auth, the dialplan, Local
# channels and `channel originate`, UserEvent for the tests' assertions, and two G.711 codecs.
MODULES = """
res_pjproject.so res_sorcery_config.so res_sorcery_memory.so res_sorcery_astdb.so
res_sorcery_realtime.so res_sorcery_memory_cache.so res_pjsip.so res_pjsip_session.so
chan_pjsip.so res_pjsip_config_wizard.so res_pjsip_authenticator_digest.so
res_pjsip_outbound_authenticator_digest.so res_pjsip_endpoint_identifier_ip.so
res_pjsip_endpoint_identifier_user.so res_pjsip_outbound_registration.so res_pjsip_registrar.so
res_pjsip_sdp_rtp.so res_pjsip_nat.so res_pjsip_caller_id.so res_pjsip_logger.so
res_pjsip_history.so res_pjsip_pubsub.so res_rtp_asterisk.so res_timing_timerfd.so
res_clioriginate.so pbx_config.so app_dial.so app_verbose.so app_userevent.so app_echo.so
app_playback.so app_stack.so func_strings.so func_channel.so func_callerid.so bridge_simple.so
bridge_native_rtp.so codec_alaw.so codec_ulaw.so codec_a_mu.so format_pcm.so format_wav.so
""".split()

ASTERISK_CONF = """\
[directories]
astetcdir => {base}/etc
astmoddir => /usr/lib/x86_64-linux-gnu/asterisk/modules
astvarlibdir => {base}/lib
astdbdir => {base}/lib
astkeydir => {base}/lib
astdatadir => /usr/share/asterisk
astagidir => /usr/share/asterisk/agi-bin
astspooldir => {base}/spool
astrundir => {base}/run
astlogdir => {base}/log
astcachedir => {base}/cache
astsbindir => /usr/sbin

[options]
verbose = 3
runuser = root
rungroup = root
systemname = {name}
"""

LOGGER_CONF = """\
[general]
dateformat = %F %T
[logfiles]
full => notice,warning,error,verbose
"""

MANAGER_CONF = """\
[general]
enabled = yes
port = 5038
bindaddr = 0.0.0.0

[{user}]
secret = {secret}
deny = 0.0.0.0/0.0.0.0
permit = 10.0.0.0/255.0.0.0
permit = 127.0.0.1/255.255.255.255
read = system,call,command,reporting,user,agent
write = system,call,command,originate,reporting
"""

# Issabel's pjsip.conf layout (reference B.1): generated transports bind 5066, custom files included.
PBX_PJSIP_CONF = """\
[transport-udp]
type = transport
protocol = udp
bind = 0.0.0.0:{sip_port}

#tryinclude pjsip_custom.conf
#tryinclude pjsip_additional.conf

[global]
type = global
user_agent = Issabel-lab

#tryinclude pjsip_custom_post.conf
"""

PBX_EXTENSIONS_CONF = """\
[general]
static = yes
writeprotect = no

#tryinclude extensions_custom.conf

[from-internal]
include => from-internal-custom
"""

# OML 1.x transports (reference C.2), every one UDP like OML's.
OML_PJSIP_CONF = """\
[agent-transport]
type = transport
protocol = udp
bind = 0.0.0.0:5160
allow_reload = yes
symmetric_transport = yes

[trunk-transport]
type = transport
protocol = udp
bind = 0.0.0.0:{sip_port}
allow_reload = yes
symmetric_transport = yes

[global]
type = global
user_agent = OML-lab

#tryinclude oml_pjsip_custom.conf
"""

OML_WIZARD_CONF = """\
#tryinclude oml_pjsip_wizard_override.conf
#tryinclude oml_pjsip_wizard.conf
#tryinclude oml_pjsip_wizard_custom.conf
"""

# OML's entry context for calls from a PBX: a DID, or <sip_extension><agent_id> (omlacd
# oml-dial-pbx2oml takes ${EXTEN:4} as the agent id). Each arrival emits a UserEvent (for AMI
# listeners) and a verbose line in the log, which the tests read.
OML_EXTENSIONS_CONF = """\
[general]
static = yes
writeprotect = no

[from-pbx]
exten => _1XXX.,1,NoOp(OML agent call ${EXTEN})
 same => n,UserEvent(OmlArrival,Context: ${CONTEXT},Kind: agent,Exten: ${EXTEN},Agent: ${EXTEN:4})
 same => n,Verbose(1,OML-ARRIVAL agent ${EXTEN:4} via ${EXTEN})
 same => n,Answer()
 same => n,Wait(1)
 same => n,Hangup()
exten => _0X.,1,NoOp(OML inbound route ${EXTEN})
 same => n,UserEvent(OmlArrival,Context: ${CONTEXT},Kind: did,Exten: ${EXTEN})
 same => n,Verbose(1,OML-ARRIVAL did ${EXTEN})
 same => n,Answer()
 same => n,Wait(1)
 same => n,Hangup()

#tryinclude extensions_custom.conf
"""


def chroot_dir():
    return os.environ.get("ISP_OPS_ASTERISK_CHROOT", DEFAULT_CHROOT)


def chroot_ready(path):
    binary = os.path.join(path, "usr", "sbin", "asterisk")
    if not os.access(binary, os.X_OK):
        return False
    proc = subprocess.run(["chroot", path, "/usr/sbin/asterisk", "-V"], capture_output=True, text=True,
                          timeout=30, check=False)
    return proc.returncode == 0 and proc.stdout.startswith("Asterisk ")


def build_chroot(path=None, rebuild=False):
    """Run scripts/asterisk-chroot.sh (bounded: 20 minutes) and return the chroot path."""
    args = ["bash", CHROOT_SCRIPT] + (["--rebuild"] if rebuild else []) + [path or chroot_dir()]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=1200, check=False)
    if proc.returncode != 0:
        raise LabError("asterisk-chroot.sh failed: %s" % proc.stderr.strip()[-2000:])
    return proc.stdout.strip().splitlines()[-1]


def skip_reason(build=None):
    """Why the Asterisk lab cannot run here, or None. Builds the chroot when ISP_OPS_BUILD_ASTERISK=1."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, chroot, bind mounts)"
    absent = [tool for tool in ("ip", "chroot", "mount", "umount") if not shutil.which(tool)]
    if absent:
        return "missing tools: %s" % ", ".join(absent)
    if build is None:
        build = os.environ.get(BUILD_ENV) == "1"
    path = chroot_dir()
    if chroot_ready(path):
        return None
    if build:
        build_chroot(path)
        return None if chroot_ready(path) else "the chroot built at %s does not run asterisk" % path
    return ("no Asterisk chroot at %s; run `sudo scripts/asterisk-chroot.sh` or set %s=1 to build it"
            % (path, BUILD_ENV))


def asterisk_marks():
    """pytestmark for a real-Asterisk test module: marked `asterisk` (deselect with -m 'not asterisk')."""
    import pytest
    marks = [pytest.mark.asterisk, pytest.mark.netns]
    try:
        reason = skip_reason()
    except (LabError, subprocess.TimeoutExpired) as exc:
        reason = "building the Asterisk chroot failed: %s" % exc
    return marks + ([pytest.mark.skip(reason=reason)] if reason else [])


def alive(pid):
    """Whether a process runs (a zombie, killed but not yet reaped, does not)."""
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


RESOLV_CONF = "# isp.ops lab: no DNS inside the test namespaces\nnameserver 127.0.0.1\n"
HOSTS = "127.0.0.1 localhost\n::1 localhost\n"


def offline_resolver(root):
    """Point the chroot's resolver at loopback (as asterisk-chroot.sh does), for older trees."""
    for name, text in (("resolv.conf", RESOLV_CONF), ("hosts", HOSTS)):
        path = os.path.join(root, "etc", name)
        try:
            with open(path) as handle:
                if handle.read() == text:
                    continue
        except OSError:
            pass
        with open(path + ".tmp", "w") as handle:
            handle.write(text)
        os.replace(path + ".tmp", path)


class ChrootMounts(object):
    """/proc and /dev bind-mounted into the chroot, shared by every lab using it at the same time.

    Each user holds a token file named after its pid; the last one leaving (or the first one
    finding only dead owners' tokens) unmounts. A lock file serialises the bookkeeping.
    """

    def __init__(self, root):
        self.root = root
        self.users = os.path.join(root, LAB_SUBDIR, ".users")
        self.token = os.path.join(self.users, "%d-%s" % (os.getpid(), secrets.token_hex(4)))

    def _locked(self):
        os.makedirs(self.users, exist_ok=True)
        handle = open(os.path.join(self.users, "..", ".lock"), "w")
        fcntl.flock(handle, fcntl.LOCK_EX)
        return handle

    def _live_tokens(self):
        live = []
        for name in os.listdir(self.users):
            pid = name.split("-", 1)[0]
            if pid.isdigit() and alive(int(pid)):
                live.append(name)
            else:
                os.unlink(os.path.join(self.users, name))
        return live

    def mountpoints(self):
        return [os.path.join(self.root, "proc"), os.path.join(self.root, "dev")]

    @staticmethod
    def is_mounted(path):
        path = os.path.realpath(path)
        with open("/proc/mounts") as mounts:
            return any(line.split()[1] == path for line in mounts)

    def acquire(self):
        with self._locked():
            self._live_tokens()
            offline_resolver(self.root)
            for source, target in zip(("/proc", "/dev"), self.mountpoints()):
                if not self.is_mounted(target):
                    os.makedirs(target, exist_ok=True)
                    run(["mount", "--bind", source, target])
            with open(self.token, "w") as token:
                token.write("asterisk lab\n")

    def release(self):
        with self._locked():
            if os.path.exists(self.token):
                os.unlink(self.token)
            if self._live_tokens():
                return
            for target in reversed(self.mountpoints()):
                if self.is_mounted(target):
                    # A lazy unmount cannot fail on a busy mount; nothing is left running by now.
                    run(["umount", "-l", target], check=False)


class Instance(object):
    """One Asterisk in its namespace: paths, CLI prefix, AMI settings, and its process."""

    def __init__(self, lab, name, ns, address, sip_port, ami_address):
        self.lab = lab
        self.name = name
        self.ns = ns
        self.address = address
        self.sip_port = sip_port
        self.ami_host = ami_address
        self.ami_port = 5038
        self.ami_username = AMI_USER
        self.ami_secret = secrets.token_hex(12)
        self.inside = "/%s/%s/%s" % (LAB_SUBDIR, lab.lab_id, name)   # path seen inside the chroot
        self.base = os.path.join(lab.chroot, self.inside.lstrip("/"))  # the same on the host
        self.etc = os.path.join(self.base, "etc")
        self.conf = self.inside + "/etc/asterisk.conf"
        self.process = None
        self._stdout = None

    @property
    def cli(self):
        """The `asterisk_cli` option value that reaches this instance."""
        return ["ip", "netns", "exec", self.ns, "chroot", self.lab.chroot, "asterisk", "-C", self.conf]

    @property
    def ami(self):
        """AMI options for the modules (ami_host, ami_port, ami_username, ami_secret)."""
        return dict(ami_host=self.ami_host, ami_port=self.ami_port, ami_username=self.ami_username,
                    ami_secret=self.ami_secret)

    @property
    def full_log(self):
        return os.path.join(self.base, "log", "full")

    def write(self, filename, text):
        """Write a config file of this instance (atomically)."""
        path = os.path.join(self.etc, filename)
        with open(path + ".tmp", "w") as handle:
            handle.write(text)
        os.replace(path + ".tmp", path)
        return path

    def read_log(self):
        try:
            with open(self.full_log, errors="replace") as handle:
                return handle.read()
        except OSError:
            return ""

    def rx(self, command, timeout=20):
        """Run one CLI command; return its output (raises LabError on a non-zero exit)."""
        return run(self.cli + ["-rx", command], timeout=timeout).stdout

    def configure(self, files):
        for directory in ("etc", "run", "log", "lib", "spool", "cache"):
            os.makedirs(os.path.join(self.base, directory), exist_ok=True)
        base = dict(files)
        base.setdefault("asterisk.conf", ASTERISK_CONF.format(base=self.inside, name=self.name))
        base.setdefault("modules.conf", "[modules]\nautoload = no\n" +
                        "".join("load => %s\n" % module for module in MODULES))
        base.setdefault("logger.conf", LOGGER_CONF)
        base.setdefault("manager.conf", MANAGER_CONF.format(user=AMI_USER, secret=self.ami_secret))
        base.setdefault("cdr.conf", "[general]\nenable = no\n")
        # Present but empty, so the log shows only what the tests cause.
        for quiet in ("acl.conf", "udptl.conf", "pjproject.conf", "features.conf", "ccss.conf", "cel.conf",
                      "indications.conf", "pjsip_wizard.conf"):
            base.setdefault(quiet, "")
        for filename, text in base.items():
            self.write(filename, text)

    def start(self):
        self._stdout = open(os.path.join(self.base, "log", "stdout"), "w")
        self.process = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "chroot", self.lab.chroot, "asterisk", "-f", "-C", self.conf,
             "-U", "root", "-G", "root"],
            stdin=subprocess.DEVNULL, stdout=self._stdout, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LabError("%s: asterisk exited with %d: %s"
                               % (self.name, self.process.returncode, self.startup_output()))
            proc = run(self.cli + ["-rx", "core waitfullybooted"], check=False, timeout=10)
            if proc.returncode == 0 and "fully booted" in proc.stdout:
                return
            time.sleep(0.2)
        raise LabError("%s: asterisk not fully booted within %ds: %s"
                       % (self.name, START_TIMEOUT, self.startup_output()))

    def startup_output(self):
        try:
            with open(os.path.join(self.base, "log", "stdout"), errors="replace") as handle:
                return handle.read()[-2000:]
        except OSError:
            return ""

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            run(self.cli + ["-rx", "core stop now"], check=False, timeout=10)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._stdout is not None:
            self._stdout.close()
            self._stdout = None


class AsteriskLab(object):
    """Context manager: `with AsteriskLab() as lab: lab.pbx.rx("pjsip show endpoints")`."""

    def __init__(self, chroot=None, prefix=None, pbx_port=5066, oml_port=5161):
        self.chroot = os.path.realpath(chroot or chroot_dir())
        self.prefix = prefix or "%s%s" % (STALE_PREFIX, secrets.token_hex(3))
        self.lab_id = self.prefix
        self.mounts = ChrootMounts(self.chroot)
        # Host-side AMI links get a /30 each in 10.67.N.0/24 with N unique among live labs.
        self.net = self._free_ami_net()
        self.pbx = Instance(self, "pbx", self.prefix + "-pbx", "10.66.0.1", pbx_port, "10.67.%d.2" % self.net)
        self.oml = Instance(self, "oml", self.prefix + "-oml", "10.66.0.2", oml_port, "10.67.%d.6" % self.net)
        self._namespaces = []
        self._host_links = []
        self._mounted = False

    @staticmethod
    def _free_ami_net():
        routes = run(["ip", "-4", "route", "show"], check=False).stdout
        used = set(int(n) for n in re.findall(r"^10\.67\.(\d+)\.", routes, re.M))
        free = [n for n in range(1, 255) if n not in used]
        if not free:
            raise LabError("no free 10.67.N.0/24 for the lab's AMI links")
        return free[secrets.randbelow(len(free))]

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def pbx_link(self, secret, **changes):
        """The lab's pbx_link: LAN scenario, PJSIP on the PBX (Asterisk 22 has no chan_sip) at the
        lab's addresses and ports, qualify every 2 s, DID 098098 on extension 7001 and agent 1
        (SIP 1006); `changes` replace top-level keys."""
        link = {
            "scenario": "lan",
            "pbx": {"address": self.pbx.address, "technology": "pjsip", "port": self.pbx.sip_port,
                    "transport": "transport-udp"},
            "oml": {"address": self.oml.address, "port": self.oml.sip_port},
            "credentials": {"username": "issabel", "secret": secret},
            "qualify_frequency": 2,
            "dids": [{"did": "098098", "extension": "7001", "name": "OML sales"}],
            "agents": [{"id": 1, "sip_extension": 1006, "name": "Adrian Belew"}],
        }
        link.update(changes)
        return link

    def files(self, instance):
        if instance is self.pbx:
            return {"pjsip.conf": PBX_PJSIP_CONF.format(sip_port=self.pbx.sip_port),
                    "extensions.conf": PBX_EXTENSIONS_CONF,
                    "pjsip_custom.conf": "", "extensions_custom.conf": "[from-internal-custom]\n"}
        return {"pjsip.conf": OML_PJSIP_CONF.format(sip_port=self.oml.sip_port),
                "pjsip_wizard.conf": OML_WIZARD_CONF, "extensions.conf": OML_EXTENSIONS_CONF,
                "oml_pjsip_wizard.conf": "", "oml_pjsip_custom.conf": ""}

    def start(self):
        cleanup_stale(self.chroot)
        os.makedirs(os.path.join(self.chroot, LAB_SUBDIR, self.lab_id), exist_ok=True)
        with open(os.path.join(self.chroot, LAB_SUBDIR, self.lab_id, "owner.pid"), "w") as owner:
            owner.write("%d\n" % os.getpid())
        self.network()
        self.mounts.acquire()
        self._mounted = True
        for instance in (self.pbx, self.oml):
            instance.configure(self.files(instance))
            instance.start()

    def network(self):
        for instance in (self.pbx, self.oml):
            run(["ip", "netns", "add", instance.ns])
            self._namespaces.append(instance.ns)
            run(["ip", "-n", instance.ns, "link", "set", "lo", "up"])
        run(["ip", "-n", self.pbx.ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0",
             "netns", self.oml.ns])
        for instance in (self.pbx, self.oml):
            run(["ip", "-n", instance.ns, "addr", "add", instance.address + "/24", "dev", "eth0"])
            run(["ip", "-n", instance.ns, "link", "set", "eth0", "up"])
        # One host veth per instance so the test process (and modules run by it) reach AMI.
        for index, instance in enumerate((self.pbx, self.oml)):
            host_link = "%s%d" % (self.prefix, index)
            host_address = "10.67.%d.%d" % (self.net, 1 + 4 * index)
            run(["ip", "link", "add", host_link, "type", "veth", "peer", "name", "ami0", "netns", instance.ns])
            self._host_links.append(host_link)
            run(["ip", "addr", "add", host_address + "/30", "dev", host_link])
            run(["ip", "link", "set", host_link, "up"])
            run(["ip", "-n", instance.ns, "addr", "add", instance.ami_host + "/30", "dev", "ami0"])
            run(["ip", "-n", instance.ns, "link", "set", "ami0", "up"])

    def stop(self):
        for instance in (self.pbx, self.oml):
            try:
                instance.stop()
            except (LabError, OSError, subprocess.SubprocessError):
                pass  # the namespace removal below kills whatever is left
        for host_link in self._host_links:
            run(["ip", "link", "delete", host_link], check=False)
        self._host_links = []
        for ns in self._namespaces:
            _remove_netns(ns)
        self._namespaces = []
        if self._mounted:
            self.mounts.release()
            self._mounted = False
        shutil.rmtree(os.path.join(self.chroot, LAB_SUBDIR, self.lab_id), ignore_errors=True)


def cleanup_stale(chroot):
    """Remove what labs of dead test processes left: namespaces (with their Asterisks) and lab dirs."""
    root = os.path.join(chroot, LAB_SUBDIR)
    for ns in list_netns():
        if not ns.startswith(STALE_PREFIX):
            continue
        lab_id = ns.rsplit("-", 1)[0]
        try:
            with open(os.path.join(root, lab_id, "owner.pid")) as owner:
                pid = int(owner.read().strip() or 0)
        except (OSError, ValueError):
            pid = 0
        if pid and alive(pid):
            continue  # a lab of a live test run
        _remove_netns(ns)
        shutil.rmtree(os.path.join(root, lab_id), ignore_errors=True)


def wait_for(probe, timeout=30, interval=0.5, what="condition"):
    """Call probe() until it returns something truthy (bounded); return that value or raise LabError."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise LabError("%s not reached within %ss (last: %r)" % (what, timeout, last))


def lab_fixture(scope="module"):
    """A pytest fixture yielding a running AsteriskLab, torn down after the module's tests."""
    import pytest

    @pytest.fixture(scope=scope)
    def asterisk_lab():
        with AsteriskLab() as lab:
            yield lab
    return asterisk_lab
