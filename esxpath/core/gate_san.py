"""The SAN half of the pre-failover gate (check --san), beside the ESXi half (gate.py). Pure.

THE RULE, SAN HALF. With the storage nodes' dumps given, a failover to T is safe only if also:
  (d) the dumps agree with each other and with every host's view (the SAN audit's consistency
      findings, esxpath/san/audit.py): a DANGER or UNKNOWN one refuses; a DRIFT one is a note
      (it does not make a failover hurt);
  (e) every dump shows the SAN as it is now: taken within --san-max-age of this machine's clock
      and from SCST's live state, not from scst.conf (else UNKNOWN; audit only notes it);
  (f) the node behind each device's takeover group T, and the nodes behind the AO paths, are
      dumped and ready to take over (the readiness rule, esxpath/san/readiness.py, with its
      gate severities).
The SAN side computes the findings (SanEvidence, implemented by esxpath.san.audit.SanDumps);
this module decides what the gate makes of them.
"""
from __future__ import annotations

from typing import Protocol

from .model import Finding, Inventory, Selector, Severity

UNKNOWN, NOTE = Severity.UNKNOWN, Severity.NOTE


class SanEvidence(Protocol):
    """What the gate asks the storage nodes' dumps."""

    def consistency(self, inventory: Inventory, selector: Selector,
                    drift: Severity = Severity.DRIFT) -> list[Finding]:
        """(d): the SAN audit's consistency findings; what audit calls DRIFT gets `drift`."""
        ...

    def stale(self, severity: Severity) -> list[Finding]:
        """(e): the stale and saved-config dumps, each with `severity`."""
        ...

    def readiness(self, inventory: Inventory, selector: Selector,
                  targets: dict[str, int | None]) -> list[Finding]:
        """(f): the readiness rule for each device's takeover group (`targets`)."""
        ...


def gate_findings(san: SanEvidence, inventory: Inventory, selector: Selector,
                  targets: dict[str, int | None]) -> list[Finding]:
    """The SAN's part of the pre-failover gate, rules (d) to (f) above."""
    out = san.consistency(inventory, selector, drift=NOTE)  # a drift alone moves no I/O
    out += san.stale(UNKNOWN)
    out += san.readiness(inventory, selector, targets)
    return out


__all__ = ["SanEvidence", "gate_findings"]
