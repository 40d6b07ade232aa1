"""The vSphere adapter: the only package that imports pyVmomi and tenacity.

It turns vSphere objects and faults into esxpath.core.model objects and esxpath.errors types, and
never prints. Retries live only here (session.py).
"""
from __future__ import annotations

from .esxcli import Esxcli
from .inventory import read_inventory
from .session import ConnectOptions, Session, connect
from .writes import apply_changes

__all__ = ["ConnectOptions", "Esxcli", "Session", "apply_changes", "connect", "read_inventory"]
