"""provision/unprovision output: the plan (and what ran) as a table or the esxpath/provision/1
JSON document, both from the same objects. Pure."""
from __future__ import annotations

from dataclasses import asdict

from ..core.provisioning import ActionResult, ProvisionPlan, provision_status
from ..errors import UsageError
from .columns import align
from .document import envelope, json_text


def render_plan(plan: ProvisionPlan, fmt: str = "table",
                results: tuple[ActionResult, ...] | None = None) -> str:
    if fmt == "json":
        doc = envelope("provision", plan.command, provision_status(plan, results),
                       datastores=[asdict(a) for a in plan.datastores],
                       vms=[asdict(a) for a in plan.vms],
                       results=[asdict(r) for r in results] if results is not None else None)
        return json_text(doc)
    if fmt != "table":
        raise UsageError(f"{plan.command} supports --output table or json, not {fmt!r}")
    rows = [("WHAT", "NAME", "ACTION", "LUN/DATASTORE", "HOST", "WHY")]
    for a in plan.datastores:
        rows.append(("datastore", a.name or "-", a.kind, a.lun or "-", a.host or "-", a.reason))
    for v in plan.vms:
        rows.append(("vm", v.name, v.kind, v.datastore or "-", v.host or "-", v.reason))
    lines = align(rows)
    if results is not None:
        lines.append("")
        lines += align([("WHAT", "NAME", "ACTION", "RESULT", "SECONDS")] + [
            (r.what, r.name, r.action, _outcome(r), f"{r.seconds:.1f}")
            for r in results])
    elif plan.writes == 0:
        lines.append(f"nothing to {plan.command}")
    return "\n".join(lines) + "\n"


def _outcome(r: ActionResult) -> str:
    if not r.ok:
        return f"FAILED: {r.error}"
    return f"ok ({r.error})" if r.error else "ok"  # ok with a warning, e.g. not tagged
