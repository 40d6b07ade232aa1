"""ESXi storage events: the simulator posts them as hosts do, and esxpath reads them bounded.

Through the CLI as a subprocess (watch, check --after-failover, audit --since) and through the
adapter, against the simulator; the simulated clock (POST /clock) stands in for the seconds a
slow host spends without paths, so nothing here sleeps.
"""
from __future__ import annotations

import json
import re
import signal
import time
from datetime import datetime, timedelta

import pytest

from cli_process import CLUSTER_HOSTS, IN_CLUSTER, SCST, cli_env, explain, report, run, start

pytestmark = pytest.mark.sim

APD_START = "esx.problem.storage.apd.start"
APD_EXIT = "esx.clear.storage.apd.exit"
APD_TIMEOUT = "esx.problem.storage.apd.timeout"


@pytest.fixture
def env(sim_env):
    return cli_env(sim_env)


def watch_around(env, act):
    """watch -o json from before act() until after it: stopped with SIGINT (watch then prints
    the timeline so far), so the window ends after everything act() did."""
    proc = start(env, "watch", *IN_CLUSTER, "--interval", "0.2", "--duration", "600", "-o", "json")
    line = proc.stderr.readline()
    if not line.startswith("esxpath: watching 4 host(s)"):
        proc.kill()  # else reading the rest of stderr would wait out --duration
        raise AssertionError(line + proc.communicate(timeout=30)[1])
    act()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    proc.stdout, proc.stderr = out, err  # for report() / explain()
    doc = report(proc)
    assert doc is not None, explain(proc)
    return proc, doc


def hosts_of(doc):
    return {h["name"]: h for h in doc["hosts"]}


def t(text):
    return datetime.fromisoformat(text)


def test_slow_recovery_on_one_host_shows_its_apd_interval_in_watch_json(lab, env):
    def failover():
        lab.post("/failover", {"active": "storage2", "slow_hosts": {"esx02": 20}})
        lab.post("/clock", {"advance": 20})  # 20 simulated seconds without paths, then back

    proc, doc = watch_around(env, failover)
    assert doc["storage"]["error"] is None, doc["storage"]
    hosts = hosts_of(doc)
    esx02 = hosts["esx02"]
    apd = [i for i in esx02["storage_intervals"] if i["kind"] == "apd"]
    assert sorted(i["subject"] for i in apd) == sorted(SCST), esx02["storage_intervals"]
    for i in apd:
        assert not i["open"] and not i["started_before"], i
        assert t(i["end"]) - t(i["start"]) == timedelta(seconds=20), i
        assert i["length"] == 20.0
    assert esx02["io_pause_seconds"] == 20.0
    types = [e["type"] for e in esx02["storage_events"]]
    assert types.count(APD_START) == 2 and types.count(APD_EXIT) == 2, types
    assert APD_TIMEOUT not in types  # 20 s is far below the 140 s APD timeout
    # the window is on vCenter's clock and holds the events
    assert t(doc["storage"]["start"]) <= min(t(e["time"]) for e in esx02["storage_events"])
    assert t(doc["storage"]["end"]) >= max(t(e["time"]) for e in esx02["storage_events"])
    for name in ("esx01", "esx03", "esx04"):
        assert hosts[name]["storage_events"] == [] and hosts[name]["io_pause_seconds"] == 0.0


def test_clean_failover_gives_no_storage_events(lab, env):
    proc, doc = watch_around(env, lambda: lab.post("/failover", {"active": "storage2"}))
    assert doc["storage"] == {**doc["storage"], "error": None, "events": 0}
    for name, h in hosts_of(doc).items():
        assert (h["storage_events"], h["storage_intervals"], h["io_pause_seconds"]) == ([], [], 0.0), name
    assert sorted(hosts_of(doc)) == sorted(CLUSTER_HOSTS)


def test_failover_report_reads_only_the_window_among_10000_old_events(lab, env):
    lab.post("/events", {"old": 10000})
    lab.post("/failover", {"active": "storage2", "slow_hosts": {"esx03": 5}})
    lab.post("/clock", {"advance": 5})
    lab.post("/stats/reset")
    proc = run(env, "check", "--after-failover", "--to-tpg", "2", *IN_CLUSTER, "-o", "json")
    doc = report(proc)
    assert proc.returncode == 0 and doc is not None, explain(proc)
    in_window = sum(len(h["storage_events"]) for h in doc["storage"]["hosts"].values())
    assert in_window == doc["storage"]["events"] > 0
    assert doc["storage"]["hosts"]["esx03"]["io_pause_seconds"] == 5.0
    stats = lab.get("/stats")
    ev, calls = stats["events"], stats["calls"]
    assert ev["posted"] >= 10000 + in_window
    assert ev["collectors"] == calls["CreateCollectorForEvents"] == 1
    assert calls["DestroyCollector"] == 1 and "QueryEvents" not in calls
    # what came over the wire is the window's events, in as many pages as they need, not 10,000
    assert ev["returned"] == in_window
    assert ev["pages"] == calls["ReadNextEvents"] == in_window // 100 + 1


def test_audit_since_reports_recent_events_and_not_older_ones(lab, env):
    lab.post("/events", {"old": 500})  # a day old and more
    lab.post("/path", {"host": "esx01", "path": "vmhba2:C0:T0:L1", "state": "dead"})
    proc = run(env, "audit", *IN_CLUSTER, "--since", "1h", "-o", "json")
    doc = report(proc)
    assert doc is not None, explain(proc)
    storage = doc["storage"]
    assert storage["events"] == 1, storage
    ev = storage["hosts"]["esx01"]["storage_events"][0]
    assert (ev["type"], ev["device"], ev["path"]) == (
        "esx.problem.storage.redundancy.degraded", "eui.3163393161633461", "vmhba2:C0:T0:L1")
    notes = [f for f in doc["findings"] if f["code"] == "storage-events"]
    assert [(f["host"], f["severity"]) for f in notes] == [("esx01", "OK")]
    # two days back: the preloaded old events are in, too
    proc = run(env, "audit", *IN_CLUSTER, "--since", "2d", "-o", "json")
    assert report(proc)["storage"]["events"] > 400, explain(proc)
    # without --since nothing is read: the cron audit's calls stay as they were
    lab.post("/stats/reset")
    proc = run(env, "audit", *IN_CLUSTER, "-o", "json")
    assert "storage" not in report(proc), explain(proc)
    assert "CreateCollectorForEvents" not in lab.get("/stats")["calls"]


def test_audit_since_prometheus_counts_events_per_host_and_type(lab, env):
    lab.post("/path", {"host": "esx04", "path": "vmhba3:C0:T1:L2", "state": "dead"})
    lab.post("/path", {"host": "esx04", "path": "vmhba3:C0:T1:L2", "state": "active"})
    proc = run(env, "audit", *IN_CLUSTER, "--since", "15m", "--format", "prometheus")
    lines = proc.stdout.splitlines()
    assert ('esxpath_storage_events_total{host="esx04",type="esx.problem.storage.redundancy.degraded"} 1'
            in lines), explain(proc)
    assert ('esxpath_storage_events_total{host="esx04",type="esx.clear.storage.redundancy.restored"} 1'
            in lines), explain(proc)
    assert 'esxpath_storage_io_pause_seconds{host="esx04"} 0' in lines


def test_apd_timeout_after_140_simulated_seconds_keeps_the_interval_open(lab, session):
    from esxpath.core.model import Host
    from esxpath.vsphere.events import read_storage_events, server_time

    begin = server_time(session)
    dev = SCST[1]
    for rt in ("vmhba2:C0:T0:L2", "vmhba2:C0:T1:L2", "vmhba3:C0:T0:L2", "vmhba3:C0:T1:L2"):
        lab.post("/path", {"host": "esx01", "path": rt, "state": "dead"})
    lab.post("/clock", {"advance": 139})
    assert APD_TIMEOUT not in [e["type"] for e in lab.get("/events")["events"]]
    lab.post("/clock", {"advance": 2})
    events = {e["type"]: e for e in lab.get("/events")["events"]}
    assert events[APD_TIMEOUT]["arguments"] == [dev, "140"]
    # (GET /events prints nanoseconds, which Python's datetime cuts to microseconds)
    elapsed = t(events[APD_TIMEOUT]["time"]) - t(events[APD_START]["time"])
    assert round(elapsed.total_seconds(), 3) == 140
    moid = lab.get("/state")["hosts"]["esx01"]["moid"]
    window = read_storage_events(session, [Host("esx01", moid=moid)], begin, server_time(session))
    (apd,) = [i for i in window.host("esx01").intervals if i.kind == "apd"]
    assert (apd.subject, apd.open, apd.timed_out) == (dev, True, True)
    assert apd.length >= 141


def test_collector_pages_forward_and_back_within_the_time_range(lab, si):
    from pyVmomi import vim

    lab.post("/events", {"old": 250})
    now = si.CurrentTime()
    spec = vim.event.EventFilterSpec(
        time=vim.event.EventFilterSpec.ByTime(beginTime=now - timedelta(days=2), endTime=now),
        eventTypeId=["esx.problem.storage.redundancy.degraded"])
    collector = si.content.eventManager.CreateCollectorForEvents(spec)
    try:
        pages = []
        while page := collector.ReadNextEvents(10):
            pages.append(page)
        keys = [e.key for p in pages for e in p]
        assert len(keys) == 36 and keys == sorted(keys)  # 250 old events, 7 types in turn
        assert all(e.eventTypeId == "esx.problem.storage.redundancy.degraded" for p in pages for e in p)
        back = collector.ReadPreviousEvents(5)
        assert [e.key for e in back] == keys[::-1][:5]
        collector.RewindCollector()
        assert [e.key for e in collector.ReadNextEvents(3)] == keys[:3]
        with pytest.raises(vmodl_fault("InvalidArgument")):
            collector.ReadNextEvents(0)
    finally:
        collector.DestroyCollector()
    # a range with nothing in it
    spec.time = vim.event.EventFilterSpec.ByTime(beginTime=now - timedelta(minutes=1), endTime=now)
    empty = si.content.eventManager.CreateCollectorForEvents(spec)
    assert not empty.ReadNextEvents(100)
    empty.DestroyCollector()


def vmodl_fault(name):
    from pyVmomi import vmodl
    return getattr(vmodl.fault, name)


def test_lost_lun_shows_its_operational_state_and_a_permanent_loss_event(lab, env):
    lab.post("/lun-state", {"host": "esx02", "device": SCST[0], "state": ["lostCommunication"]})
    proc = run(env, "show", *IN_CLUSTER, "-o", "json")
    doc = report(proc)
    assert doc is not None, explain(proc)
    states = {(h["name"], d["name"]): d["operational_state"] for h in doc["hosts"] for d in h["devices"]}
    assert states[("esx02", SCST[0])] == ["lostCommunication"]
    assert states[("esx01", SCST[0])] == ["ok"]
    table = run(env, "show", *IN_CLUSTER).stdout
    (row,) = [line for line in table.splitlines() if "LUN lostCommunication" in line]
    assert row.split()[0] == SCST[0]
    proc = run(env, "audit", *IN_CLUSTER, "--since", "5m", "-o", "json")
    doc = report(proc)
    (ev,) = doc["storage"]["hosts"]["esx02"]["storage_events"]
    assert (ev["type"], ev["device"]) == ("esx.problem.scsi.device.state.permanentloss", SCST[0])
    (f,) = [f for f in doc["findings"] if f["code"] == "storage-events"]
    assert (f["host"], f["severity"]) == ("esx02", "DANGER") and "permanent device loss" in f["message"]


def test_no_events_reads_no_events(lab, env):
    def act():
        lab.post("/stats/reset")
        lab.post("/failover", {"active": "storage2", "slow_hosts": {"esx02": 3}})

    proc = start(env, "watch", *IN_CLUSTER, "--interval", "0.2", "--duration", "600",
                 "--no-events", "-o", "json")
    assert proc.stderr.readline().startswith("esxpath: watching")
    act()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert '"storage"' not in out and "storage_events" not in out, out + err
    calls = lab.get("/stats")["calls"]
    assert "CreateCollectorForEvents" not in calls and "CurrentTime" not in calls


def test_vmfs_heartbeat_events_name_the_volume_and_the_datastore(lab, session):
    import json
    from pathlib import Path

    from esxpath.core.model import Host
    from esxpath.vsphere.events import read_storage_events, server_time

    sc = json.loads((Path(__file__).parent / "scenarios" / "seed-lab.json").read_text())
    (lun,) = [x for x in sc["luns"] if x["canonical"] == SCST[0]]
    lun["vmfs"] = "ds-events"
    lab.post("/load", sc)
    begin = server_time(session)
    dead = ("vmhba2:C0:T0:L1", "vmhba2:C0:T1:L1", "vmhba3:C0:T0:L1", "vmhba3:C0:T1:L1")
    for rt in dead:
        lab.post("/path", {"host": "esx04", "path": rt, "state": "dead"})
    lab.post("/clock", {"advance": 8})
    lab.post("/path", {"host": "esx04", "path": dead[0], "state": "active"})
    moid = lab.get("/state")["hosts"]["esx04"]["moid"]
    w = read_storage_events(session, [Host("esx04", moid=moid)], begin, server_time(session))
    h = w.host("esx04")
    (timedout,) = [e for e in h.events if e.type == "esx.problem.vmfs.heartbeat.timedout"]
    assert timedout.datastore == "ds-events" and timedout.volume and timedout.volume != "ds-events"
    (lost,) = [e for e in h.events if e.type == "esx.problem.storage.connectivity.lost"]
    assert (lost.device, lost.datastore, lost.path) == (SCST[0], "ds-events", dead[-1])
    kinds = {(i.kind, i.subject): i for i in h.intervals}
    apd = kinds[("apd", SCST[0])]
    assert apd.length >= 8.0 and not apd.open  # 8 simulated seconds and the calls' own time
    assert kinds[("heartbeat", "ds-events")].length == apd.length == h.pause_seconds
    assert kinds[("redundancy", SCST[0])].open  # one path back: no redundancy yet


# ---------------------------------------------------------------- a failed clock read (CurrentTime)

def clock_fails(lab, count=20):
    """The next `count` CurrentTime calls fail (more than the session's retries)."""
    lab.post("/faults", {"method": "CurrentTime", "count": count, "fault": "SystemError"})


@pytest.mark.parametrize("when", ["start", "end"])
def test_watch_keeps_its_timeline_when_vcenters_clock_cannot_be_read(lab, env, when):
    if when == "start":
        clock_fails(lab)

    def failover():
        if when == "end":
            clock_fails(lab)
        lab.post("/failover", {"active": "storage2"})
        polled = lab.get("/stats")["esxcli"].get("storage nmp path list", 0)
        while lab.get("/stats")["esxcli"].get("storage nmp path list", 0) < polled + 8:
            time.sleep(0.05)  # two more samples of the 4 hosts: the switch is in the timeline

    proc, doc = watch_around(env, failover)
    assert proc.returncode == 130, explain(proc)  # ended by Ctrl-C: the timeline, then 130
    storage = doc["storage"]
    assert "vCenter's clock" in storage["error"] and "SystemError" in storage["error"], storage
    assert storage["end"] is None and (storage["start"] is None) == (when == "start"), storage
    hosts = hosts_of(doc)
    assert sorted(hosts) == sorted(CLUSTER_HOSTS)
    for name, h in hosts.items():  # the timeline is all there: every host switched to TPG 2
        assert h["new_ao"] == [2] and h["new_ao_after"] is not None, (name, h)
    assert "CreateCollectorForEvents" not in lab.get("/stats")["calls"]  # no window, no read


def test_check_after_failover_cannot_verify_when_vcenters_clock_cannot_be_read(lab, env):
    lab.post("/failover", {"active": "storage2"})
    clock_fails(lab)
    proc = run(env, "check", "--after-failover", "--to-tpg", "2", *IN_CLUSTER, "-o", "json")
    doc = report(proc)
    # the paths are right, but an open All-Paths-Down cannot be ruled out: not verified
    assert doc is not None and proc.returncode == 3, explain(proc)
    assert "vCenter's clock" in doc["storage"]["error"], doc["storage"]
    assert [(f["code"], f["severity"]) for f in doc["findings"]] == \
        [("storage-events-unread", "UNKNOWN")], explain(proc)
    assert sorted(h["name"] for h in doc["hosts"]) == sorted(CLUSTER_HOSTS)
    # and unsafe stays unsafe: a host still on the old group exits 2 with the error noted
    lab.post("/reset")
    clock_fails(lab)
    proc = run(env, "check", "--after-failover", "--to-tpg", "2", *IN_CLUSTER, "-o", "json")
    doc = report(proc)
    assert doc is not None and proc.returncode == 2, explain(proc)
    assert doc["storage"]["error"] and doc["findings"], explain(proc)


def test_audit_since_still_reports_when_vcenters_clock_cannot_be_read(lab, env):
    clock_fails(lab)
    proc = run(env, "audit", *IN_CLUSTER, "--since", "1h", "-o", "json")
    doc = report(proc)
    assert doc is not None, explain(proc)
    assert sorted(h["name"] for h in doc["hosts"]) == sorted(CLUSTER_HOSTS)
    assert all(h["devices"] for h in doc["hosts"]), explain(proc)
    assert "vCenter's clock" in doc["storage"]["error"]
    # as for any event read that failed: one UNKNOWN finding, the host findings as they were
    (unread,) = [f for f in doc["findings"] if f["code"] == "storage-events-unread"]
    assert unread["severity"] == "UNKNOWN" and proc.returncode == 3, explain(proc)


def test_ctrl_c_during_the_clock_read_still_interrupts_watch(lab, env):
    proc = start(env, "watch", *IN_CLUSTER, "--interval", "0.2", "--duration", "600", "-o", "json")
    assert proc.stderr.readline().startswith("esxpath: watching")
    lab.post("/latency", {"method": "CurrentTime", "ms": 20000})
    proc.send_signal(signal.SIGINT)  # ends the polling: watch now reads the clock for its window
    while lab.get("/stats")["calls"].get("CurrentTime", 0) < 2:  # the end's read has arrived
        assert proc.poll() is None, explain(proc)
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "esxpath: interrupted" in err, out + err
    # -o json always prints a report (docs/json.md): the interrupt's error document
    doc = json.loads(out)
    assert [(f["code"], f["message"]) for f in doc["findings"]] == [("error", "interrupted")], out


# ---------------------------------------------------------------- the filter's entity

def entity_of_last_read(lab):
    (req,) = lab.get("/requests?method=CreateCollectorForEvents")["requests"]
    return re.search(r'<entity type="(\w+)">([^<]*)</entity>', req["body"]).groups()


def test_the_event_read_filters_on_the_narrowest_entity_of_the_scope(lab, session):
    from dataclasses import replace

    from esxpath.core.model import Scope
    from esxpath.vsphere import read_inventory
    from esxpath.vsphere.events import read_storage_events, server_time

    lab.post("/events", {"old": 500})  # on every host, the standalone esx05 too
    end = server_time(session)
    begin = end - timedelta(days=3)
    inv = read_inventory(session, Scope(cluster="storage-cluster"), esxcli=False)
    hosts = list(inv.hosts)
    state = lab.get("/state")["hosts"]
    lab.post("/stats/reset")
    lab.post("/requests/reset")
    w = read_storage_events(session, hosts, begin, end)
    assert entity_of_last_read(lab)[0] == "ClusterComputeResource"
    narrow = lab.get("/stats")["events"]["returned"]
    assert sorted(h.host for h in w.hosts) == sorted(CLUSTER_HOSTS)
    assert all(h.events for h in w.hosts) and "esx05" not in {e.host for e in w.events}
    assert narrow == len(w.events)  # nothing came over the wire that was not the cluster's
    # the same hosts without their place: the root folder, every host's events come
    lab.post("/stats/reset")
    lab.post("/requests/reset")
    wide = read_storage_events(session, [replace(h, cluster_moid="", datacenter_moid="")
                                         for h in hosts], begin, end)
    assert entity_of_last_read(lab)[0] == "Folder"
    assert wide.events == w.events
    assert lab.get("/stats")["events"]["returned"] > narrow
    # one host: itself; a cluster host and the standalone one: their datacenter
    lab.post("/requests/reset")
    (esx01,) = [h for h in hosts if h.name == "esx01"]
    read_storage_events(session, [esx01], begin, end)
    assert entity_of_last_read(lab) == ("HostSystem", state["esx01"]["moid"])
    both = read_inventory(session, Scope(hosts=("esx01", "esx05")), esxcli=False)
    lab.post("/requests/reset")
    w = read_storage_events(session, list(both.hosts), begin, end)
    assert entity_of_last_read(lab)[0] == "Datacenter"
    assert {h.host for h in w.hosts if h.events} == {"esx01", "esx05"}
    # hosts of two datacenters: only the root folder holds them all
    lab.post("/requests/reset")
    apart = [replace(h, datacenter_moid=f"datacenter-{i}") for i, h in enumerate(both.hosts)]
    read_storage_events(session, apart, begin, end)
    assert entity_of_last_read(lab)[0] == "Folder"
