"""The domain model: frozen dataclasses, no I/O, no pyVmomi, no click.

Everything the adapter reads from vSphere becomes these objects; plan, verify and output only
ever see these. Names follow what a storage admin reads in esxcli, not the vSphere API.
"""
from __future__ import annotations

import fnmatch
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .storage_events import StorageWindow


class TpgState(str, Enum):
    """ALUA asymmetric access state of a target port group, as esxcli's TPG_state prints it."""

    AO = "AO"  # active/optimized
    ANO = "ANO"  # active/non-optimized
    STANDBY = "STBY"
    UNAVAILABLE = "UNAV"
    TRANSITIONING = "TRANS"  # normal for a moment during a failover
    OFFLINE = "OFFL"  # ESOS sets it on a stopped node: the path is dead
    LBD = "LBD"  # logical block dependent: whether I/O works depends on the block
    UNKNOWN = "UNKNOWN"

    @classmethod
    def parse(cls, text: str | None) -> TpgState:
        t = (text or "").strip().upper()
        aliases = {"STANDBY": cls.STANDBY, "UNAVAILABLE": cls.UNAVAILABLE, "OPTIMIZED": cls.AO,
                   "TRANSITIONING": cls.TRANSITIONING, "OFFLINE": cls.OFFLINE}
        for member in cls:
            if member.value == t:
                return member
        return aliases.get(t, cls.UNKNOWN)


MPP_NMP, MPP_HPP = "NMP", "HPP"
PSP_RR, SATP_ALUA = "VMW_PSP_RR", "VMW_SATP_ALUA"

# Path.state values, from HostMultipathInfoPath.state
PATH_ACTIVE = "active"
PATH_STANDBY = "standby"
PATH_DISABLED = "disabled"
PATH_DEAD = "dead"
PATH_UNKNOWN = "unknown"

# Buckets a path is counted in (show, audit perfdata, JSON): the TPG state if the path is
# alive, else "dead"; a state that cannot carry I/O now (TRANS, LBD, unknown) counts as
# unavailable. Order is the display order.
BUCKETS = ("ao", "ano", "standby", "unavailable", "dead")
_BUCKET_OF_STATE = {
    TpgState.AO: "ao",
    TpgState.ANO: "ano",
    TpgState.STANDBY: "standby",
    TpgState.UNAVAILABLE: "unavailable",
}


@dataclass(frozen=True)
class Path:
    name: str  # fc.<hba wwnn>:<hba wwpn>-fc.<tgt wwnn>:<tgt wwpn>-<device>
    runtime_name: str  # vmhba2:C0:T0:L1
    adapter: str  # vmhba2
    state: str = PATH_UNKNOWN  # multipathInfo path state (active|standby|disabled|dead|unknown)
    working: bool = False  # isWorkingPath: carries I/O under the current PSP
    tpg_id: int | None = None  # from esxcli Storage Array Type Path Config
    tpg_state: TpgState = TpgState.UNKNOWN
    target_wwpn: str | None = None  # e.g. 21:00:00:24:ff:54:09:80
    # RTP_id of the path's "Storage Array Type Path Config": the SCST target's rel_tgt_id
    rtp_id: int | None = None
    target_iqn: str | None = None  # iSCSI target name from the path name, e.g. iqn.2006-..

    @property
    def live(self) -> bool:
        """A path ESXi can send I/O down now or after an ALUA transition. An offline group
        (a stopped node) is as good as dead, whatever the multipath state says."""
        return (self.state not in (PATH_DEAD, PATH_DISABLED, PATH_UNKNOWN)
                and self.tpg_state != TpgState.OFFLINE)

    def live_in(self, state: TpgState) -> bool:
        """Live and in that ALUA state by its own report (a path is judged by itself)."""
        return self.live and self.tpg_state == state

    @property
    def bucket(self) -> str:
        if not self.live:
            return "dead"
        return _BUCKET_OF_STATE.get(self.tpg_state, "unavailable")


@dataclass(frozen=True)
class TargetPortGroup:
    id: int
    state: TpgState


@dataclass(frozen=True)
class DevicePolicy:
    """What a device is configured with now (the esxcli view)."""

    satp: str | None = None  # VMW_SATP_ALUA
    psp: str | None = None  # VMW_PSP_MRU, VMW_PSP_RR, ...
    limit_type: str | None = None  # iops | bytes | latency | default (RR only)
    iops: int | None = None  # IOOperation limit (RR only)
    bytes: int | None = None
    use_ano: bool | None = None


@dataclass(frozen=True)
class Device:
    canonical_name: str  # eui.3737373737373701
    vendor: str = ""
    model: str = ""
    display_name: str = ""
    uuid: str = ""
    capacity_bytes: int = 0
    is_local: bool = False
    policy: DevicePolicy = field(default_factory=DevicePolicy)
    tpgs: tuple[TargetPortGroup, ...] = ()
    paths: tuple[Path, ...] = ()
    mpp: str = MPP_NMP  # multipathing plugin: NMP, HPP (NVMe & co: no PSP/RR, not managed)
    operational_state: tuple[str, ...] = ("ok",)  # ScsiLun.operationalState

    def counts(self) -> dict[str, int]:
        """Paths per bucket (ao, ano, standby, unavailable, dead), every bucket present."""
        out = dict.fromkeys(BUCKETS, 0)
        for p in self.paths:
            out[p.bucket] += 1
        return out

    def tpg_counts(self) -> dict[int, dict[str, int]]:
        """Per TPG id: paths that can carry I/O now (live, AO or ANO), dead paths, and the rest
        (standby, unavailable, transitioning: alive but not usable now)."""
        out: dict[int, dict[str, int]] = {}
        for p in self.paths:
            if p.tpg_id is None:
                continue
            c = out.setdefault(p.tpg_id, {"live": 0, "dead": 0, "other": 0})
            if not p.live:
                c["dead"] += 1
            elif p.tpg_state in (TpgState.AO, TpgState.ANO):
                c["live"] += 1
            else:
                c["other"] += 1
        return out

    def tpg_state(self, tpg_id: int) -> TpgState:
        """The group's state as this host knows it: the device's TPG list (what the array's
        REPORT TARGET PORT GROUPS said), else what most of the group's live paths say (all
        paths if none is live). One path that disagrees does not decide for the group."""
        for g in self.tpgs:
            if g.id == tpg_id:
                return g.state
        paths = [p for p in self.paths if p.tpg_id == tpg_id]
        votes = Counter(p.tpg_state for p in ([p for p in paths if p.live] or paths))
        if not votes:
            return TpgState.UNKNOWN
        return max(votes, key=lambda s: (votes[s], s.value))

    @property
    def managed(self) -> bool:
        """Claimed by NMP, so PSP and Round Robin limit can be set (HPP devices cannot)."""
        return self.mpp == MPP_NMP

    @property
    def lun_ok(self) -> bool:
        return all(s == "ok" for s in self.operational_state)


@dataclass(frozen=True)
class SatpRule:
    """One row of `esxcli storage nmp satp rule list` (empty string: the column is empty)."""

    satp: str  # VMW_SATP_ALUA
    vendor: str = ""
    model: str = ""
    psp: str = ""  # Default PSP
    psp_options: str = ""  # e.g. "iops=1"
    claim_options: str = ""  # e.g. "tpgs_on"
    description: str = ""
    options: str = ""
    transport: str = ""
    driver: str = ""
    device: str = ""
    rule_group: str = ""  # system | user


@dataclass(frozen=True)
class Host:
    name: str
    moid: str = ""
    datacenter: str = ""
    cluster: str | None = None  # None: standalone host
    connection_state: str = "connected"  # connected | disconnected | notResponding
    maintenance: bool = False  # runtime.inMaintenanceMode: connected, read and judged as usual
    devices: tuple[Device, ...] = ()
    # Set when the host could not be read completely (esxcli failed, host unreachable):
    # its devices may be partial and nothing about it may be called safe.
    error: str | None = None
    satp_rules: tuple[SatpRule, ...] = ()  # from esxcli; only read when claim rules matter
    vcenter: str = ""  # the profile it was read through, in a report of several (--all-profiles)
    # where it sits (moids): an event read filters on the narrowest entity holding every host
    cluster_moid: str = ""
    datacenter_moid: str = ""

    @property
    def verifiable(self) -> bool:
        return self.connection_state == "connected" and self.error is None

    def device(self, name: str) -> Device | None:
        for d in self.devices:
            if d.canonical_name == name:
                return d
        return None


@dataclass(frozen=True)
class Inventory:
    hosts: tuple[Host, ...] = ()

    def host(self, name: str) -> Host | None:
        for h in self.hosts:
            if h.name == name:
                return h
        return None


@dataclass(frozen=True)
class Scope:
    """Which hosts are in scope; resolved by the adapter when it reads the inventory."""

    datacenter: str | None = None
    cluster: str | None = None
    hosts: tuple[str, ...] = ()


DEFAULT_DEVICE_GLOBS = ("eui.*",)
DEFAULT_VENDORS = ("SCST_BIO", "SCST_FIO")


@dataclass(frozen=True)
class Selector:
    """Which devices are in scope. Host scoping happens in the adapter (inventory read)."""

    device_globs: tuple[str, ...] = DEFAULT_DEVICE_GLOBS
    vendors: tuple[str, ...] = DEFAULT_VENDORS

    def matches(self, device: Device) -> bool:
        if device.is_local:
            return False
        name_ok = any(fnmatch.fnmatchcase(device.canonical_name, g) for g in self.device_globs)
        vendor_ok = device.vendor.strip() in self.vendors
        return name_ok and vendor_ok


@dataclass(frozen=True)
class Policy:
    """The desired state: the seed article's RR with IOPS=1, or RR with the latency limit."""

    psp: str = PSP_RR
    limit_type: str = "iops"  # iops | latency
    iops: int | None = 1  # only with limit_type iops
    satp: str = SATP_ALUA  # for the claim rule
    claim_rule: bool = False  # also add SATP claim rules per vendor

    @property
    def is_rr(self) -> bool:
        return self.psp == PSP_RR


@dataclass(frozen=True)
class Expectation:
    """What audit/check hold the estate to, besides the Policy."""

    ao: int | None = None  # exact AO path count per device, None: only symmetric across hosts
    ano: int | None = None
    min_paths: int = 1  # check: live paths needed in the group that will take over
    to_tpg: int | None = None  # check: TPG id that will take over; None: the one now ANO
    # check --after-failover without --to-tpg: the group that was AO before the move
    from_tpg: int | None = None
    # check: the takeover group may end with fewer paths than the host's AO paths now
    allow_redundancy_loss: bool = False


# Change kinds
CHANGE_PSP = "psp"
CHANGE_RR_LIMIT = "rr_limit"
CHANGE_SATP_RULE = "satp_rule"


@dataclass(frozen=True)
class Change:
    host: str
    kind: str  # psp | rr_limit | satp_rule
    device: str | None  # None for a SATP rule (host wide)
    before: str  # human text: "VMW_PSP_MRU", "iops 1000"
    after: str
    # esxcli options for the write, in a stable order, e.g. (("type", "iops"), ("iops", "1"))
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...] = ()
    # hosts whose state could not be read: nothing is planned for them, and apply reports them
    skipped_hosts: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.changes

    def for_host(self, host: str) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.host == host)


class Severity(IntEnum):
    """Nagios order: the worst finding sets audit's exit status."""
    NOTE = -1  # worth knowing, never a reason to refuse or alert: a report with notes is OK
    OK = 0
    DRIFT = 1  # WARNING: configured differently than desired, asymmetric paths
    DANGER = 2  # CRITICAL: no AO / no ANO / dead path / LUN missing on a host; check: unsafe
    UNKNOWN = 3  # could not verify


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str  # stable machine name, e.g. "psp", "rr-limit", "no-ao", "dead-path", "host-unverifiable"
    host: str | None
    device: str | None
    message: str
    vcenter: str = ""  # the profile it is about, in a report of several (--all-profiles)


@dataclass(frozen=True)
class ChangeResult:
    change: Change
    ok: bool
    error: str | None = None
    # a write whose answer was lost (timeout, dropped connection) and that a read-back found
    # in effect: "applied (confirmed)"
    confirmed: bool = False
    sent: bool = True  # False: never sent (Ctrl-C, vCenter gone): error says "not written: ..."
    unknown: bool = False  # sent, answer lost, not seen in effect: it may or may not have landed

    @property
    def outcome(self) -> str:
        """applied | confirmed | failed | unknown | not-written (docs/json.md results[])."""
        if self.ok:
            return "confirmed" if self.confirmed else "applied"
        return "not-written" if not self.sent else "unknown" if self.unknown else "failed"


@dataclass(frozen=True)
class Report:
    """What a command hands to output.render; the same object feeds table and JSON."""

    command: str  # show | apply | audit | check | watch
    inventory: Inventory = field(default_factory=Inventory)
    selector: Selector = field(default_factory=Selector)
    findings: tuple[Finding, ...] = ()
    plan: Plan | None = None
    results: tuple[ChangeResult, ...] = ()  # apply: outcome of every change
    dry_run: bool = False
    # check --after-failover / watch: seconds per host until the new group was AO (None: never)
    timings: tuple[tuple[str, float | None], ...] = ()
    # check: per device, the TPG id the gate judged as the one taking over (None: unknown)
    targets: tuple[tuple[str, int | None], ...] = ()
    # check: options that weakened the rule, named in the output (e.g. --allow-redundancy-loss)
    waivers: tuple[str, ...] = ()
    # --all-profiles: per profile run, its name and why it could not be read (None: it was)
    vcenters: tuple[tuple[str, str | None], ...] = ()
    # check --after-failover / audit --since: the hosts' storage events in a window (None: not read)
    storage: StorageWindow | None = None
    # check: which controller each TPG is ((tpg, node), from --node-tpg or --san dumps)
    tpg_names: tuple[tuple[int, str], ...] = ()
    # check --after-failover: parts of the rule not judged ("redundancy": no --baseline;
    # "storage-events": --no-events), named in the summary line
    not_judged: tuple[str, ...] = ()

    @property
    def severity(self) -> Severity:
        return max([Severity.OK, *(f.severity for f in self.findings)])

    @property
    def status(self) -> Severity:
        """severity, raised to DRIFT when a change failed and to UNKNOWN when a host could not
        be read: what JSON/nagios report as status, and what the exit code follows."""
        status = self.severity
        if any(not h.verifiable for h in self.inventory.hosts):
            status = max(status, Severity.UNKNOWN)
        if any(not r.ok for r in self.results):
            status = max(status, Severity.DRIFT)
        if self.plan is not None and self.plan.skipped_hosts:
            status = max(status, Severity.UNKNOWN)  # hosts we could not read are not "done"
        return status
