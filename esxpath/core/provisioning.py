"""Plans for `esxpath provision` / `unprovision` (pure: no vSphere, no click).

The adapter (vsphere/provision.py) reads a ProvisionFacts snapshot; plan_provision and
plan_unprovision turn it into a plan the CLI shows and asks to confirm, and the adapter then
executes exactly that plan. Safety rules live here, where they are tested without a server:
- a LUN that holds a datastore or partitions is never formatted, whatever the options;
- one datastore per LUN, created through one connected host; the others rescan;
- one VM per target datastore, named <prefix><datastore>; an existing VM of that name is
  reported, never duplicated;
- unprovision removes only VMs (and datastores) tagged as made by esxpath.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import UsageError
from .model import Severity

PROVISION_KEY = "esxpath.provisioned"  # VM extraConfig key / datastore custom attribute, value "1"
GIB = 1 << 30


@dataclass(frozen=True)
class LunFacts:
    canonical: str
    vendor: str = ""
    model: str = ""
    capacity_bytes: int = 0
    hosts: tuple[str, ...] = ()  # connected in-scope hosts that see it, sorted
    available: bool = False  # offered by QueryAvailableDisksForVmfs (no VMFS, no partitions)
    datastore: str | None = None  # name of the VMFS datastore on it, if any


@dataclass(frozen=True)
class DatastoreFacts:
    name: str
    moid: str = ""
    luns: tuple[str, ...] = ()  # VMFS extents' canonical names
    hosts: tuple[str, ...] = ()  # hosts mounting it (all, not only in scope)
    tagged: bool = False  # custom attribute esxpath.provisioned = 1
    vms: tuple[str, ...] = ()  # names of VMs on it


@dataclass(frozen=True)
class VmFacts:
    name: str
    moid: str = ""
    datastores: tuple[str, ...] = ()
    host: str = ""
    tagged: bool = False  # extraConfig esxpath.provisioned = 1
    power_state: str = "poweredOff"


@dataclass(frozen=True)
class ProvisionFacts:
    luns: tuple[LunFacts, ...] = ()  # in-scope LUNs (selector), sorted by canonical name
    datastores: tuple[DatastoreFacts, ...] = ()
    vms: tuple[VmFacts, ...] = ()
    can_tag_datastores: bool = True  # vCenter custom attributes (False on a standalone ESXi)
    hosts: tuple[str, ...] | None = None  # hosts in scope; None: no host scope (everything)

    def datastore(self, name: str) -> DatastoreFacts | None:
        return next((d for d in self.datastores if d.name == name), None)

    def vm(self, name: str) -> VmFacts | None:
        return next((v for v in self.vms if v.name == name), None)


@dataclass(frozen=True)
class ProvisionOptions:
    size_bytes: int = 128 * GIB
    create_datastores: bool = False
    datastores: tuple[str, ...] = ()  # restrict the target datastores (--datastore, repeatable)
    name_prefix: str = "fio-"
    guest_id: str = "debian12_64Guest"
    cpus: int = 2
    memory_mb: int = 2048
    timeout: float = 3600.0  # seconds to wait for all VM tasks (eager zeroing of big disks)


# Action kinds
CREATE = "create"
EXISTS = "exists"  # already there: reported, not touched
REFUSED = "refused"  # would be unsafe or impossible; reason says why
SKIPPED = "skipped"  # not asked for (e.g. empty LUN without --create-datastores)
REMOVE = "remove"
KEEP = "keep"


@dataclass(frozen=True)
class DatastoreAction:
    kind: str  # create | exists | refused | skipped | remove | keep
    name: str  # datastore name ("" for a LUN that gets none)
    lun: str = ""
    host: str = ""  # the host that creates / removes it
    reason: str = ""
    rescan: tuple[str, ...] = ()  # hosts that rescan after the create
    moid: str = ""


@dataclass(frozen=True)
class VmAction:
    kind: str  # create | exists | refused | remove
    name: str
    datastore: str = ""
    host: str = ""
    reason: str = ""
    moid: str = ""


@dataclass(frozen=True)
class ProvisionPlan:
    command: str  # provision | unprovision
    datastores: tuple[DatastoreAction, ...] = ()
    vms: tuple[VmAction, ...] = ()
    size_bytes: int = 0

    @property
    def writes(self) -> int:
        """Number of write operations the plan makes (0: nothing to confirm)."""
        return sum(a.kind in (CREATE, REMOVE) for a in self.datastores + self.vms)

    @property
    def refused(self) -> tuple:
        return tuple(a for a in self.datastores + self.vms if a.kind == REFUSED)


@dataclass(frozen=True)
class ActionResult:
    what: str  # datastore | vm
    name: str
    action: str  # create | remove
    ok: bool
    error: str | None = None  # with ok=True: a warning (e.g. created but not tagged)
    moid: str = ""
    seconds: float = 0.0


_NAME_BAD = re.compile(r"[^A-Za-z0-9._-]+")


def datastore_name(lun: LunFacts, all_luns: tuple[LunFacts, ...]) -> str:
    """A new datastore's name: the SCST device name (model) when unique, else the eui id."""
    model = _NAME_BAD.sub("-", lun.model.strip()).strip("-")
    if model and sum(1 for other in all_luns if other.model.strip() == lun.model.strip()) == 1:
        return model
    return lun.canonical


def vm_name(prefix: str, datastore: str) -> str:
    return f"{prefix}{datastore}"


def plan_provision(facts: ProvisionFacts, options: ProvisionOptions) -> ProvisionPlan:
    """What provision will create, find existing, or refuse, and why."""
    if options.size_bytes < (1 << 20):
        raise UsageError(f"VM disk size {options.size_bytes} bytes is too small (at least 1 MiB)")
    ds_actions, targets = _datastore_plan(facts, options)
    if options.datastores:
        wanted = list(dict.fromkeys(options.datastores))
        known = {t[0] for t in targets}
        targets = [t for t in targets if t[0] in wanted]
        for name in wanted:
            if name not in known:
                ds_actions.append(DatastoreAction(
                    REFUSED, name, "", "",
                    "not a datastore on an in-scope LUN (nor one this plan creates)"))
    vm_actions = _vm_plan(facts, options, ds_actions, targets)
    actions: list[DatastoreAction | VmAction] = [*ds_actions, *vm_actions]
    if not any(v.kind in (CREATE, EXISTS) for v in vm_actions) and any(
            a.kind == REFUSED and a.reason.endswith(_too_small(options.size_bytes))
            for a in actions):  # fits nowhere: a bad option, said in one line
        largest = max(lun.capacity_bytes for lun in facts.luns)
        raise UsageError(f"--size {_size(options.size_bytes)} does not fit on any LUN in scope"
                         f" (the largest holds {_size(largest)}, and VMFS needs some of it);"
                         " give a smaller --size")
    return ProvisionPlan("provision", tuple(ds_actions), tuple(vm_actions), options.size_bytes)


def _datastore_plan(facts: ProvisionFacts, options: ProvisionOptions
                    ) -> tuple[list[DatastoreAction], list[tuple[str, str]]]:
    """Each in-scope LUN's datastore action, and the (datastore, host) pairs that get a VM."""
    ds_actions: list[DatastoreAction] = []
    targets: list[tuple[str, str]] = []  # (datastore, host for the VM)
    taken = {d.name for d in facts.datastores}
    for lun in facts.luns:
        if lun.datastore:
            ds = facts.datastore(lun.datastore)
            host = _mounting(ds, lun, len(targets)) if ds else ""
            ds_actions.append(DatastoreAction(EXISTS, lun.datastore, lun.canonical, host,
                                              "LUN already holds this VMFS datastore; not formatted",
                                              moid=ds.moid if ds else ""))
            targets.append((lun.datastore, host))
            continue
        if not lun.hosts:
            ds_actions.append(DatastoreAction(REFUSED, "", lun.canonical, "",
                                              "no connected host in scope sees this LUN"))
            continue
        if not lun.available:
            ds_actions.append(DatastoreAction(
                REFUSED, "", lun.canonical, "",
                "LUN holds partitions or is in use (not offered for VMFS); never formatted"))
            continue
        if not options.create_datastores:
            ds_actions.append(DatastoreAction(SKIPPED, "", lun.canonical, "",
                                              "empty LUN; --create-datastores formats it"))
            continue
        name = datastore_name(lun, facts.luns)
        if name in taken:
            ds_actions.append(DatastoreAction(
                REFUSED, name, lun.canonical, "",
                f"a datastore named {name} already exists on another LUN"))
            continue
        if not _fits(options.size_bytes, lun.capacity_bytes):  # no datastore for no VM
            ds_actions.append(DatastoreAction(
                REFUSED, name, lun.canonical, "", _too_small(options.size_bytes, lun.capacity_bytes)))
            continue
        taken.add(name)
        # spread the work: datastore i is created through host i (mod n), its VM runs there
        host = lun.hosts[len(targets) % len(lun.hosts)]
        ds_actions.append(DatastoreAction(CREATE, name, lun.canonical, host, "empty LUN",
                                          rescan=tuple(h for h in lun.hosts if h != host)))
        targets.append((name, host))
    return ds_actions, targets


def _vm_plan(facts: ProvisionFacts, options: ProvisionOptions, ds_actions: list[DatastoreAction],
             targets: list[tuple[str, str]]) -> list[VmAction]:
    lun_size = {lun.canonical: lun.capacity_bytes for lun in facts.luns}

    def capacity(ds_name: str) -> int:  # of the LUNs under the datastore (0: not known)
        ds = facts.datastore(ds_name)
        extents = ds.luns if ds else [a.lun for a in ds_actions if a.name == ds_name]
        return sum(lun_size.get(lun, 0) for lun in extents)

    vm_actions: list[VmAction] = []
    for ds_name, host in targets:
        name = vm_name(options.name_prefix, ds_name)
        existing = facts.vm(name)
        room = capacity(ds_name)
        if existing is not None:
            note = "" if existing.tagged else "; not made by esxpath, left alone"
            vm_actions.append(VmAction(EXISTS, name, ds_name, existing.host,
                                       f"a VM of that name exists{note}", existing.moid))
        elif not host:
            vm_actions.append(VmAction(REFUSED, name, ds_name, "",
                                       "no connected in-scope host mounts the datastore"))
        elif not _fits(options.size_bytes, room):
            vm_actions.append(VmAction(REFUSED, name, ds_name, "",
                                       _too_small(options.size_bytes, room)))
        else:
            vm_actions.append(VmAction(CREATE, name, ds_name, host,
                                       f"thick eager-zeroed {_size(options.size_bytes)} disk"))
    return vm_actions


def _fits(size: int, capacity: int) -> bool:
    """A disk fits strictly inside its LUN (VMFS takes some of it); 0: capacity not known."""
    return capacity <= 0 or size < capacity


def _too_small(size: int, capacity: int | None = None) -> str:
    """Why a LUN gets no test VM; without capacity: the end of that reason, to find it."""
    tail = f"too small for a {_size(size)} test disk"
    return tail if capacity is None else f"LUN of {_size(capacity)} is {tail}"


def _mounting(ds: DatastoreFacts, lun: LunFacts, index: int) -> str:
    """The index-th (mod n) connected in-scope host that mounts the datastore, or ""."""
    hosts = [h for h in lun.hosts if h in ds.hosts]
    return hosts[index % len(hosts)] if hosts else ""


def plan_unprovision(facts: ProvisionFacts, datastores: bool = False,
                     name_prefix: str | None = None) -> ProvisionPlan:
    """Remove the tagged VMs on in-scope hosts (optionally only those named with name_prefix)
    and, with datastores=True, the tagged datastores mounted in scope that hold nothing else."""
    vm_actions = []
    removed: set[str] = set()
    scope = facts.hosts

    def in_scope(host: str) -> bool:
        return scope is None or host in scope
    for vm in sorted(facts.vms, key=lambda v: v.name):
        if not vm.tagged or not in_scope(vm.host):
            continue
        if name_prefix is not None and not vm.name.startswith(name_prefix):
            continue
        vm_actions.append(VmAction(REMOVE, vm.name, ",".join(vm.datastores), vm.host,
                                   "made by esxpath provision", vm.moid))
        removed.add(vm.name)
    ds_actions = []
    if datastores:
        for ds in sorted(facts.datastores, key=lambda d: d.name):
            if not ds.tagged or not any(in_scope(h) for h in ds.hosts):
                continue
            others = [v for v in ds.vms if v not in removed]
            if others:
                ds_actions.append(DatastoreAction(
                    KEEP, ds.name, ",".join(ds.luns), "",
                    f"holds VMs not made by esxpath: {', '.join(sorted(others))}", moid=ds.moid))
                continue
            host = ds.hosts[0] if ds.hosts else ""
            ds_actions.append(DatastoreAction(REMOVE, ds.name, ",".join(ds.luns), host,
                                              "made by esxpath provision", moid=ds.moid))
    return ProvisionPlan("unprovision", tuple(ds_actions), tuple(vm_actions))


def _size(n: int) -> str:
    for unit, shift in (("TiB", 40), ("GiB", 30), ("MiB", 20)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    if n >= GIB:  # a LUN's capacity is rarely whole GiB
        return f"{n / GIB:.1f} GiB"
    return f"{n} B"


def parse_size(text: str) -> int:
    """'128G', '512M', '1T', '1073741824' -> bytes (binary units, as vSphere sizes disks)."""
    m = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)(I?B)?\s*", (text or "").upper())
    if not m:
        raise UsageError(f"bad size {text!r}: use e.g. 128G, 512M, 1T")
    shift = {"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[m.group(2)]
    return int(m.group(1)) << shift


def provision_status(plan: ProvisionPlan, results) -> Severity:
    """DRIFT when an action failed (results None: nothing was run)."""
    if results is not None and any(not r.ok for r in results):
        return Severity.DRIFT
    return Severity.OK
