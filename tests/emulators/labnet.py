# Copyright: (c) 2026, isp.ops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Deterministic model of a lab WISP, independent of any CRM/NMS API.

``generate(subscribers, seed)`` builds sites (a tree under "Core"), radios,
site-to-site links and subscribers with their devices. The same arguments
always give the same network. Addresses come from documentation/shared
ranges only (100.64.0.0/10, 2001:db8::/32). A few rows are wrong on purpose
(see ``LabNetwork.invalid_ip_*`` and ``LabNetwork.duplicate_ip*``). With 10 or
more subscribers, subscribers 2-6 are forced to be suspended, inactive, dynamic
(no static IP), AP-not-recorded and routed-/29-with-IPv6, so that small test
networks cover every case.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

CORE_SITE_NAME = "Core"
PTMP_FED_SITE_NAME = "Hillside Farm"
INVALID_IP = "10.0.300.1"
DEVICE_ID_BASE = 1_000_000
ROUTE_OVERRIDE_ROWS = (("Site 1", "Site 3", 100), ("Site 3", "Site 1", 100))

# Radio models: name -> (downlink Mbps, uplink Mbps).
RADIO_CAPACITY = {
    "LAP-120": (300, 120),
    "Rocket 5AC Prism": (450, 200),
    "LTU Rocket": (600, 300),
    "AF60": (1800, 1800),
    "LTU Long-Range": (400, 200),
    "LiteBeam 5AC Gen2": (250, 120),
    "EdgeRouter 8 XG": (10000, 10000),
}
CUSTOMER_AP_MODELS = ("LAP-120", "Rocket 5AC Prism", "LTU Rocket")
CORE_CAPACITY_MBPS = 10000

FIRST_NAMES = (
    "José", "María", "Ana", "Luis", "Carmen", "Javier", "Lucía", "Pedro", "Sofía", "Andrés",
    "Marta", "Raúl", "Elena", "Iñigo", "Nuria", "Óscar", "Paula", "Jesús", "Rocío", "Tomás",
    "Beatriz", "Ángel", "Irene", "Hugo", "Noelia", "Adrián", "Inés", "Sergio", "Laura", "Martín",
)
LAST_NAMES = (
    "Núñez", "García", "Pérez", "López", "Martínez", "Sánchez", "Gómez", "Fernández", "Díaz",
    "Muñoz", "Álvarez", "Romero", "Ruiz", "Hernández", "Jiménez", "Moreno", "Ibáñez", "Castaño",
    "Peña", "Ortiz", "Rubio", "Marín", "Serrano", "Domínguez", "Gil", "Vázquez", "Ramos",
)
BUSINESS_NAMES = ("Taller Mecánico Ruiz, S.L.", "Panadería La Espiga", "Bar El Cruce", "Farmacia Peña")
STREETS = (
    "Calle Mayor", "Calle Real", "Avenida de la Constitución", "Calle del Olmo", "Camino de la Fuente",
    "Plaza de España", "Calle Peñascal", "Calle San Martín", "Avenida Castilla", "Ronda Sur",
)
CITIES = (
    ("Villanueva del Río", "28410"), ("San Martín de la Vega", "28330"), ("Peñaflor", "28620"),
    ("Aldeadávila", "28750"), ("Torrejón del Rey", "28180"), ("Valdemorillo", "28210"),
)
DUPLICATE_NAME = "José Núñez"


@dataclass(frozen=True, slots=True)
class Plan:
    """A service tier, speeds in Mbps."""

    name: str
    download_mbps: int
    upload_mbps: int


PLANS = (
    Plan("Basic 10", 10, 2), Plan("Home 25", 25, 5), Plan("Home 50", 50, 10),
    Plan("Plus 100", 100, 20), Plan("Max 300", 300, 50),
)
PLAN_WEIGHTS = (10, 30, 30, 20, 10)


@dataclass(slots=True)
class Site:
    """An infrastructure site; ``kind`` is core, tower or relay (no APs)."""

    id: int
    name: str
    kind: str
    parent_id: int | None
    download_mbps: int
    upload_mbps: int
    latitude: float
    longitude: float
    address: str


@dataclass(slots=True)
class Equipment:
    """An infrastructure device: customer AP, backhaul radio or router."""

    id: int
    site_id: int
    name: str
    model: str
    mac: str
    ipv4: str
    role: str  # "ap", "station" or "router"
    wireless_mode: str | None  # "ap-ptmp", "sta-ptmp", "ap-ptp", "sta-ptp"
    download_mbps: int
    upload_mbps: int
    customer_ap: bool = False
    feeds_site_id: int | None = None  # station -> site it backhauls


@dataclass(slots=True)
class Link:
    """A site-to-site wireless link from an upstream radio to a downstream one."""

    id: int
    from_site_id: int
    to_site_id: int
    from_equipment_id: int
    to_equipment_id: int
    kind: str  # "ptp", "ptmp" or "backup"
    download_mbps: int
    upload_mbps: int


@dataclass(slots=True)
class Device:
    """A subscriber device; ``ipv4`` holds hosts or routed /29 subnets."""

    id: int
    kind: str  # "cpe" (radio facing the AP) or "router"
    mac: str
    ipv4: tuple[str, ...]
    ipv6: tuple[str, ...]  # a /64 and maybe a delegated /56
    dynamic: bool = False  # no static IP in the CRM (learned from sessions)


@dataclass(slots=True)
class Subscriber:
    """A customer with one plan and 1-3 devices behind one AP."""

    id: int
    name: str
    street: str
    city: str
    zip_code: str
    latitude: float
    longitude: float
    plan: Plan
    burst_down_kbytes: int | None
    burst_up_kbytes: int | None
    suspended: bool
    active: bool
    ap_id: int
    ap_recorded: bool  # False: the CRM/NMS does not name the AP directly
    devices: tuple[Device, ...]

    @property
    def address(self) -> str:
        return f"{self.street}, {self.zip_code} {self.city}"


@dataclass
class LabNetwork:
    """The generated network plus helpers that state what importers must find."""

    seed: int
    sites: list[Site]
    equipment: list[Equipment]
    links: list[Link]
    subscribers: list[Subscriber]
    invalid_ip_subscriber_id: int | None = None
    invalid_ip_device_id: int | None = None
    duplicate_ip: str | None = None
    duplicate_ip_subscriber_ids: tuple[int, int] | None = None
    invalid_ip: str = INVALID_IP
    route_override_rows: tuple = ROUTE_OVERRIDE_ROWS
    _sites_by_id: dict = field(default_factory=dict, repr=False)
    _equipment_by_id: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._sites_by_id = {site.id: site for site in self.sites}
        self._equipment_by_id = {item.id: item for item in self.equipment}

    def site(self, site_id: int) -> Site:
        return self._sites_by_id[site_id]

    def site_named(self, name: str) -> Site:
        return next(site for site in self.sites if site.name == name)

    def equipment_by_id(self, equipment_id: int) -> Equipment:
        return self._equipment_by_id[equipment_id]

    @property
    def core(self) -> Site:
        return self.sites[0]

    @property
    def ptmp_fed_site(self) -> Site:
        return self.site_named(PTMP_FED_SITE_NAME)

    @property
    def aps(self) -> list[Equipment]:
        """Customer-facing point-to-multipoint APs."""
        return [item for item in self.equipment if item.customer_ap]

    def links_to(self, site_id: int) -> list[Link]:
        return [link for link in self.links if link.to_site_id == site_id]

    def expected_active(self, include_suspended: bool = True) -> list[Subscriber]:
        """Subscribers with an active service (optionally without suspended ones)."""
        return [s for s in self.subscribers if s.active and (include_suspended or not s.suspended)]

    @property
    def suspended_ids(self) -> frozenset[int]:
        return frozenset(s.id for s in self.subscribers if s.suspended)

    @property
    def inactive_ids(self) -> frozenset[int]:
        return frozenset(s.id for s in self.subscribers if not s.active)

    @property
    def dynamic_device_ids(self) -> frozenset[int]:
        return frozenset(d.id for s in self.subscribers for d in s.devices if d.dynamic)

    @property
    def duplicate_names(self) -> list[str]:
        counts = Counter(s.name for s in self.subscribers)
        return sorted(name for name, count in counts.items() if count > 1)

    def counts(self) -> dict[str, int]:
        """Totals a test can compare with an importer's output."""
        devices = [d for s in self.subscribers for d in s.devices]
        return {
            "sites": len(self.sites),
            "aps": len(self.aps),
            "links": len(self.links),
            "subscribers": len(self.subscribers),
            "active": sum(s.active for s in self.subscribers),
            "inactive": sum(not s.active for s in self.subscribers),
            "suspended": sum(s.suspended for s in self.subscribers),
            "devices": len(devices),
            "ipv4": sum(len(d.ipv4) for d in devices),
            "ipv6": sum(len(d.ipv6) for d in devices),
        }


class _Allocator:
    """Sequential ids, MACs and addresses from fixed lab ranges."""

    HOSTS_V4 = (100 << 24) | (64 << 16)  # 100.64.0.0/11 for subscriber hosts
    ROUTED_V4 = (100 << 24) | (96 << 16)  # 100.96.0.0/11 for routed /29s
    INFRA_V4 = (100 << 24) | (127 << 16)  # 100.127.0.0/16 for management

    def __init__(self) -> None:
        self.infra_id = 0
        self.device_id = DEVICE_ID_BASE
        self.hosts = self.routed = self.infra_ip = self.v64 = self.v56 = 0

    def next_infra_id(self) -> int:
        self.infra_id += 1
        return self.infra_id

    def next_device_id(self) -> int:
        self.device_id += 1
        return self.device_id

    def host_ipv4(self) -> str:
        index, self.hosts = self.hosts, self.hosts + 1
        return _ipv4(self.HOSTS_V4 + (index // 254) * 256 + 1 + index % 254)

    def infra_ipv4(self) -> str:
        index, self.infra_ip = self.infra_ip, self.infra_ip + 1
        return _ipv4(self.INFRA_V4 + (index // 254) * 256 + 1 + index % 254)

    def routed_ipv4(self) -> str:
        index, self.routed = self.routed, self.routed + 1
        return _ipv4(self.ROUTED_V4 + index * 8) + "/29"

    def ipv6_64(self) -> str:
        index, self.v64 = self.v64, self.v64 + 1
        return _ipv6_prefix(0x100 + (index >> 16), index & 0xFFFF, 64)

    def ipv6_56(self) -> str:
        index, self.v56 = self.v56, self.v56 + 1
        return _ipv6_prefix(0x8000 + (index >> 8), (index & 0xFF) << 8, 56)


def _ipv4(value: int) -> str:
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


def _ipv6_prefix(third: int, fourth: int, length: int) -> str:
    """Canonical (RFC 5952) text of 2001:db8:<third>:<fourth>::/length."""
    if fourth:
        return f"2001:db8:{third:x}:{fourth:x}::/{length}"
    return f"2001:db8:{third:x}::/{length}"


def _mac(kind: int, number: int) -> str:
    return "02:%02x:%02x:%02x:%02x:%02x" % (
        kind, (number >> 24) & 255, (number >> 16) & 255, (number >> 8) & 255, number & 255)


def _slug(name: str) -> str:
    return "".join(part.capitalize() for part in name.split())


class _Builder:
    """Builds one LabNetwork; keeps the random stream in a fixed order."""

    def __init__(self, subscribers: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.alloc = _Allocator()
        self.subscriber_count = subscribers
        self.sites: list[Site] = []
        self.equipment: list[Equipment] = []
        self.links: list[Link] = []
        self.uplinks: list[tuple[Site, Site, str, str]] = []  # parent, child, kind, model

    def add_site(self, name: str, kind: str, parent: Site | None, link: str = "ptp",
                 model: str = "AF60") -> Site:
        rng = self.rng
        lat = parent.latitude + rng.uniform(-0.3, 0.3) if parent else 40.4168
        lon = parent.longitude + rng.uniform(-0.3, 0.3) if parent else -3.7038
        street, (city, zip_code) = rng.choice(STREETS), rng.choice(CITIES)
        site = Site(self.alloc.next_infra_id(), name, kind, parent.id if parent else None,
                    CORE_CAPACITY_MBPS, CORE_CAPACITY_MBPS, round(lat, 6), round(lon, 6),
                    f"{street} s/n, {zip_code} {city}")
        self.sites.append(site)
        if parent:
            self.uplinks.append((parent, site, link, model))
        return site

    def build_sites(self) -> None:
        core = self.add_site(CORE_SITE_NAME, "core", None)
        towers = [self.add_site(f"Tower {side}", "tower", core) for side in ("North", "South", "East", "West")]
        backbone = towers + [self.add_site("Relay Ridge", "relay", towers[0])]
        self.add_site(PTMP_FED_SITE_NAME, "tower", towers[0], link="ptmp", model="LTU Long-Range")
        site1 = self.add_site("Site 1", "tower", core)
        site2 = self.add_site("Site 2", "tower", site1)
        site3 = self.add_site("Site 3", "tower", site2)
        self.uplinks.append((site1, site3, "backup", "Rocket 5AC Prism"))
        relay_parents = backbone[:]
        for number in range(1, self.subscriber_count // 500 + 1):
            if number % 10 == 0:
                backbone.append(self.add_site(f"Relay {number // 10:02d}", "relay", self.rng.choice(relay_parents)))
                continue
            model = self.rng.choice(("AF60", "LTU Rocket"))
            self.add_site(f"Tower {number:03d}", "tower", self.rng.choice(backbone), model=model)

    def add_equipment(self, site: Site, name: str, model: str, role: str, mode: str | None,
                      customer_ap: bool = False) -> Equipment:
        down, up = RADIO_CAPACITY[model]
        number = self.alloc.next_infra_id()
        item = Equipment(number, site.id, name, model, _mac(0x1A, number), self.alloc.infra_ipv4(),
                         role, mode, down, up, customer_ap)
        self.equipment.append(item)
        return item

    def build_aps(self) -> None:
        self.add_equipment(self.sites[0], "Core-Router", "EdgeRouter 8 XG", "router", None)
        for site in self.sites:
            if site.kind != "tower":
                continue
            count = 1 if site.name == PTMP_FED_SITE_NAME else self.rng.randint(2, 4)
            for number in range(1, count + 1):
                model = self.rng.choice(CUSTOMER_AP_MODELS)
                if site.name == "Tower North" and number == 1:
                    model = "LTU Rocket"  # also feeds the PtMP site
                self.add_equipment(site, f"{_slug(site.name)}-AP{number}", model, "ap", "ap-ptmp", True)

    def build_links(self) -> None:
        for parent, child, kind, model in self.uplinks:
            name = f"{_slug(parent.name)}-{_slug(child.name)}"
            if kind == "ptmp":
                upstream = next(e for e in self.equipment if e.site_id == parent.id and "LTU" in e.model)
                downstream = self.add_equipment(child, f"{name}-STA", model, "station", "sta-ptmp")
            else:
                upstream = self.add_equipment(parent, f"{name}-A", model, "ap", "ap-ptp")
                downstream = self.add_equipment(child, f"{name}-B", model, "station", "sta-ptp")
            downstream.feeds_site_id = child.id
            down = min(upstream.download_mbps, downstream.download_mbps)
            up = min(upstream.upload_mbps, downstream.upload_mbps)
            self.links.append(Link(len(self.links) + 1, parent.id, child.id, upstream.id,
                                   downstream.id, kind, down, up))
            if kind != "backup":
                child.download_mbps, child.upload_mbps = down, up

    def person_name(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.02:
            return rng.choice(BUSINESS_NAMES)
        if roll < 0.30:
            return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {rng.choice(LAST_NAMES)}"

    def devices(self, count: int, has_v6: bool) -> tuple[Device, ...]:
        rng, alloc = self.rng, self.alloc
        result = []
        for index in range(count):
            dynamic = index == 0 and rng.random() < 0.10
            ipv4 = [alloc.host_ipv4()]
            ipv6 = []
            if index == 0 and not dynamic and rng.random() < 0.05:
                ipv4.append(alloc.routed_ipv4())
            if index == 0 and has_v6:
                ipv6.append(alloc.ipv6_64())
                if not dynamic and rng.random() < 0.7:
                    ipv6.append(alloc.ipv6_56())
            number = alloc.next_device_id()
            result.append(Device(number, "cpe" if index == 0 else "router", _mac(0x5B, number),
                                 tuple(ipv4), tuple(ipv6), dynamic))
        return tuple(result)

    def subscriber(self, number: int, aps: list[Equipment]) -> Subscriber:
        rng = self.rng
        ap = rng.choice(aps)
        site = self.site_index[ap.site_id]
        plan = rng.choices(PLANS, PLAN_WEIGHTS)[0]
        burst_roll = rng.random()
        burst = None if burst_roll < 0.55 else (0 if burst_roll < 0.70 else 12500)
        burst_up = burst if not burst else 2500
        suspended = rng.random() < 0.05
        active = True if suspended else rng.random() >= 0.03
        city, zip_code = rng.choice(CITIES)
        street = f"{rng.choice(STREETS)} {rng.randint(1, 200)}"
        count = rng.choices((1, 2, 3), (60, 30, 10))[0]
        return Subscriber(
            number, self.person_name(), street, city, zip_code,
            round(site.latitude + rng.uniform(-0.02, 0.02), 6),
            round(site.longitude + rng.uniform(-0.02, 0.02), 6),
            plan, burst, burst_up, suspended, active, ap.id, rng.random() >= 0.03,
            self.devices(count, rng.random() < 0.30))

    def build_subscribers(self) -> list[Subscriber]:
        aps = [item for item in self.equipment if item.customer_ap]
        self.site_index = {site.id: site for site in self.sites}
        return [self.subscriber(number, aps) for number in range(1, self.subscriber_count + 1)]


def _make_clean(subscriber: Subscriber) -> None:
    """Bad rows sit on active, unsuspended subscribers with static first devices."""
    subscriber.active, subscriber.suspended = True, False
    first = subscriber.devices[0]
    if first.dynamic:
        subscriber.devices = (Device(first.id, first.kind, first.mac, first.ipv4, first.ipv6, False),
                              *subscriber.devices[1:])


def _ensure_variety(subs: list[Subscriber], alloc: _Allocator) -> None:
    """Even small networks get each case once (subscribers 2-6 when there are 10+)."""
    suspended, inactive, dynamic, unrecorded, routed = subs[1:6]
    suspended.active, suspended.suspended = True, True
    inactive.active, inactive.suspended = False, False
    for subscriber in (dynamic, unrecorded, routed):
        subscriber.active, subscriber.suspended = True, False
    cpe = dynamic.devices[0]
    dynamic.devices = (Device(cpe.id, cpe.kind, cpe.mac, cpe.ipv4[:1], tuple(p for p in cpe.ipv6 if p.endswith("/64")),
                              True), *dynamic.devices[1:])
    unrecorded.ap_recorded = False
    cpe = routed.devices[0]
    routed.devices = (Device(cpe.id, cpe.kind, cpe.mac, (cpe.ipv4[0], alloc.routed_ipv4()),
                             (alloc.ipv6_64(), alloc.ipv6_56())), *routed.devices[1:])


def _add_bad_rows(network: LabNetwork, builder: _Builder) -> None:
    subs = network.subscribers
    count = len(subs)
    if count >= 2:
        subs[0].name = subs[-1].name = DUPLICATE_NAME
    if count < 4:
        return
    if count >= 10:
        _ensure_variety(subs, builder.alloc)
    invalid_at, duplicate_at = (max(6, count // 3), max(7, count // 2)) if count >= 10 else (count // 3, count // 2)
    bad, first, second = subs[invalid_at], subs[duplicate_at], subs[duplicate_at + 1]
    for subscriber in (bad, first, second):
        _make_clean(subscriber)
    number = builder.alloc.next_device_id()
    bad_device = Device(number, "router", _mac(0x5B, number), (INVALID_IP,), ())
    bad.devices = (bad.devices[0], bad_device)
    network.invalid_ip_subscriber_id, network.invalid_ip_device_id = bad.id, bad_device.id
    shared = first.devices[0].ipv4[0]
    old = second.devices[0]
    second.devices = (Device(old.id, old.kind, old.mac, (shared, *old.ipv4[1:]), old.ipv6),
                      *second.devices[1:])
    network.duplicate_ip = shared
    network.duplicate_ip_subscriber_ids = (first.id, second.id)


def generate(subscribers: int = 200, seed: int = 1) -> LabNetwork:
    """Build the lab network; same arguments, same network."""
    if not 0 <= subscribers <= 1_000_000:
        raise ValueError("subscribers must be between 0 and 1000000")
    builder = _Builder(subscribers, seed)
    builder.build_sites()
    builder.build_aps()
    builder.build_links()
    network = LabNetwork(seed, builder.sites, builder.equipment, builder.links, builder.build_subscribers())
    _add_bad_rows(network, builder)
    return network
