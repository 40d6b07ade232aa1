"""The pure domain: no I/O, no pyVmomi, no click (tests/unit/test_core_purity.py proves it)."""
