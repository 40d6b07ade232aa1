"""provision / unprovision: the test VMs (and datastores) for fio, as use cases without click.

A run is read (vsphere.provision.collect) -> planned (core.provisioning, pure) -> carried out
only when the caller says so: the CLI shows the plan, asks or takes --yes, holds the write lock
and the signal handler, and hands in the progress display and the stop event.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.model import Severity
from ..core.provisioning import (
    ProvisionOptions,
    ProvisionPlan,
    plan_provision,
    plan_unprovision,
    provision_status,
)
from ..errors import Interrupted

if TYPE_CHECKING:
    from ..vsphere import Session

Execute = Callable[[Any, "threading.Event | None"], tuple]  # (progress, stop) -> results


@dataclass(frozen=True)
class Provisioning:
    """A planned run: what it would do, and how to do it."""

    plan: ProvisionPlan
    execute: Execute


def provision(session: Session, where: Any, options: ProvisionOptions) -> Provisioning:
    """The VMs (and with create_datastores, the VMFS datastores) to create in scope (where: a
    Scoped)."""
    from ..vsphere import provision as adapter
    snap = adapter.collect(session, where.scope, where.selector)
    plan = plan_provision(snap.facts, options)
    return Provisioning(plan, lambda progress, stop: adapter.execute_provision(
        session, snap, plan, options, progress=progress, stop=stop))


def unprovision(session: Session, where: Any, datastores: bool, name_prefix: str | None,
                timeout: float) -> Provisioning:
    """The tagged VMs (and with datastores, the tagged datastores holding nothing else) to
    remove in scope."""
    from ..vsphere import provision as adapter
    snap = adapter.collect(session, where.scope, where.selector)
    plan = plan_unprovision(snap.facts, datastores=datastores, name_prefix=name_prefix)
    return Provisioning(plan, lambda progress, stop: adapter.execute_unprovision(
        session, snap, plan, timeout, progress=progress, stop=stop))


def outcome(plan: ProvisionPlan, results: tuple | None, signum: int | None = None) -> Severity:
    """The status of what happened (results None: nothing was run); a run a signal cut short
    raises Interrupted naming what was left undone (after the caller showed the results)."""
    if signum is not None and results is not None:
        left = sum(1 for r in results if not r.ok)
        raise Interrupted(f"interrupted: {left} action(s) not done", signum)
    return provision_status(plan, results)
