"""The vSphere adapter: the only package that imports pyVmomi and tenacity.

It turns vSphere objects and faults into esxpath.model objects and esxpath.errors types, and
never prints. Its names load on first use, so that the pure modules (parse, records,
esxcli_devices) import without pyVmomi, as the decode helper process does (helper.py).
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "ConnectOptions": ".session",
    "Esxcli": ".esxcli",
    "Session": ".session",
    "apply_changes": ".writes",
    "connect": ".session",
    "read_inventory": ".inventory",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
