"""esxpath: configure and verify ESXi storage multipathing through the vSphere API."""

__version__ = "0.1.0"
