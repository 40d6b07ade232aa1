"""merge.py: several vCenters' reports as one (--all-profiles), and how output shows it."""
from __future__ import annotations

import json

from factory import EUI1, EUI2, compliant, lab

from esxpath.core.merge import NOT_READ, UNREACHABLE, NotRead, merge
from esxpath.core.model import Policy, Report, Selector, Severity
from esxpath.render.output import render, to_dict
from esxpath.core.verify import audit


def audited(inv, selector: Selector | None = None) -> Report:
    selector = selector or Selector()
    return Report(command="audit", inventory=inv, selector=selector,
                  findings=tuple(audit(inv, selector, Policy())))


def test_hosts_and_findings_name_their_vcenter_and_the_status_is_the_worst():
    east, west = audited(compliant()), audited(lab())  # west: MRU everywhere (drift)
    assert (east.status, west.status) == (Severity.OK, Severity.DRIFT)
    merged = merge("audit", [("east", east), ("west", west)])
    assert merged.status == Severity.DRIFT
    assert [(h.vcenter, h.name) for h in merged.inventory.hosts] == \
        [("east", h.name) for h in east.inventory.hosts] + [("west", h.name) for h in west.inventory.hosts]
    assert len(merged.findings) == len(west.findings)
    assert all(f.vcenter == "west" and f.message.startswith("west: ") for f in merged.findings)
    doc = to_dict(merged)
    assert doc["vcenters"] == [{"name": "east", "status": "OK", "error": None, "hosts": 5},
                               {"name": "west", "status": "DRIFT", "error": None, "hosts": 5}]
    assert {h["vcenter"] for h in doc["hosts"]} == {"east", "west"}


def test_an_unreadable_vcenter_is_unknown_and_hides_nothing_else():
    east = audited(compliant())
    merged = merge("audit", [("east", east),
                             ("west", NotRead("127.0.0.1:9: connection refused", UNREACHABLE))])
    assert merged.status == Severity.UNKNOWN
    assert [h.vcenter for h in merged.inventory.hosts] == ["east"] * 5
    (f,) = merged.findings
    assert (f.severity, f.code, f.vcenter, f.host) == (Severity.UNKNOWN, UNREACHABLE, "west", None)
    assert f.message == "west: vCenter not read: 127.0.0.1:9: connection refused"
    assert render(merged, "nagios").startswith(
        "ESXPATH UNKNOWN - west: vCenter not read: 127.0.0.1:9: connection refused | ")
    vc = {v["name"]: v for v in json.loads(render(merged, "json"))["vcenters"]}
    assert vc["west"] == {"name": "west", "status": "UNKNOWN",
                          "error": "127.0.0.1:9: connection refused", "hosts": 0}
    assert vc["east"]["status"] == "OK"


def test_each_profile_keeps_only_its_own_devices():
    """Profiles may select different devices: each host keeps what its own selector kept."""
    east = audited(compliant(), Selector(device_globs=(EUI1,)))
    west = audited(compliant(), Selector(device_globs=(EUI2,)))
    merged = merge("show", [("east", east), ("west", west)])
    shown = {(h["vcenter"], d["name"]) for h in to_dict(merged)["hosts"] for d in h["devices"]}
    assert shown == {("east", EUI1), ("west", EUI2)}


def test_same_host_names_in_two_vcenters_stay_apart_in_every_format():
    east, west = audited(compliant()), audited(lab())
    merged = merge("audit", [("east", east), ("west", west)])
    prom = render(merged, "prometheus")
    assert 'esxpath_host_up{host="esx01",vcenter="east"} 1' in prom
    assert 'esxpath_host_up{host="esx01",vcenter="west"} 1' in prom
    # compliance is per vCenter: the same host and device name, compliant only in east
    assert f'esxpath_device_compliant{{host="esx01",vcenter="east",device="{EUI1}"}} 1' in prom
    assert f'esxpath_device_compliant{{host="esx01",vcenter="west",device="{EUI1}"}} 0' in prom
    table = render(merged, "table")
    assert "east: esx01 (DC0/storage-cluster) connected" not in table  # audit: no host lines
    assert any(line.startswith("DRIFT   west: ") for line in table.splitlines())
    shown = render(merge("show", [("east", east), ("west", west)]), "table").splitlines()
    assert "east: esx01 (DC0/storage-cluster) connected" in shown
    assert "west: esx01 (DC0/storage-cluster) connected" in shown


def test_a_single_vcenters_report_has_no_vcenter_keys():
    doc = to_dict(audited(lab()))
    assert "vcenters" not in doc
    assert all("vcenter" not in h for h in doc["hosts"])
    assert all("vcenter" not in f for f in doc["findings"])
    assert "vcenter=" not in render(audited(lab()), "prometheus")


def test_all_profiles_reads_at_most_four_vcenters_at_once_and_in_profile_order(tmp_path):
    """each_profile with six profiles: four bodies run at the same time (each waits until four
    are in), never five; a body that raises becomes that profile's UNKNOWN entry."""
    import threading

    import click

    from esxpath.cli import fanout

    path = tmp_path / "esxpath.toml"
    path.write_text("".join(f'[vcenter.p{i}]\nserver = "vc{i}"\n' for i in range(6)))
    path.chmod(0o600)
    lock, four_in = threading.Lock(), threading.Event()
    active, peak, seen = [0], [0], []

    def body(rt, conn, where):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            seen.append(conn.target.url)
            if active[0] == fanout.AT_ONCE:
                four_in.set()
        try:
            assert four_in.wait(60), "the vCenters were not read at the same time"
            if conn.target.url == "vc3":
                raise RuntimeError("boom")
            return Report(command="show", inventory=compliant())
        finally:
            with lock:
                active[0] -= 1

    ctx = click.Context(click.Command("show"))
    ctx.params = {"config": str(path), "profile": None, "parallel": 8}
    with ctx:
        merged = fanout.each_profile(fanout.Runtime(0), "show", body)
    assert peak[0] == fanout.AT_ONCE == 4
    assert sorted(seen) == [f"vc{i}" for i in range(6)]
    assert [name for name, _ in merged.vcenters] == [f"p{i}" for i in range(6)]
    assert dict(merged.vcenters)["p3"].startswith("internal error: RuntimeError: boom")
    assert merged.status == Severity.UNKNOWN
    assert len(merged.inventory.hosts) == 5 * 5


def test_why_a_vcenter_was_not_read_picks_the_finding_code():
    """Down or refusing the login: vcenter-unreachable; a scope matching nothing or a bug
    there is no unreachable vCenter: vcenter-not-read."""
    from esxpath.app.fanout import _run
    from esxpath.errors import AuthError, ConnectionFailed, ScopeError

    def raising(error):
        def body(rt, conn, where):
            raise error
        return body

    for error, code in [(ConnectionFailed("vc:443: connection refused"), UNREACHABLE),
                        (AuthError("vc:443: login failed for u"), UNREACHABLE),
                        (ScopeError("no host in scope"), NOT_READ),
                        (KeyError("bug"), NOT_READ)]:
        why = _run(raising(error), "west", None, None)  # type: ignore[arg-type]
        assert isinstance(why, NotRead) and why.code == code, (error, why)
        merged = merge("audit", [("west", why)])
        assert [f.code for f in merged.findings] == [code]
