"""The simulator pages PropertyCollector reads as vCenter does (tests/sim/paging.go): at most
RetrieveOptions.maxObjects objects per answer, the rest behind a token. Plain pyVmomi."""
import pytest
from pyVmomi import vim, vmodl
from seedlab import ALL_HOSTS

pytestmark = pytest.mark.sim

PC = vmodl.query.PropertyCollector
HOSTS = list(ALL_HOSTS)  # compared with sorted lists


def host_spec(si):
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True)
    spec = PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=view, skip=True, selectSet=[PC.TraversalSpec(
            name="view", path="view", skip=False, type=vim.view.ContainerView)])],
        propSet=[PC.PropertySpec(type=vim.HostSystem, pathSet=["name"])])
    return spec, view


def names(result):
    return [o.propSet[0].val.split(".")[0] for o in result.objects]


@pytest.mark.parametrize("collector", ["root", "created"])
def test_pages_of_max_objects_until_no_token(lab, si, collector):
    spec, view = host_spec(si)
    pc = si.content.propertyCollector
    if collector == "created":
        pc = pc.CreatePropertyCollector()
    lab.post("/stats/reset")
    try:
        pages = [pc.RetrievePropertiesEx([spec], PC.RetrieveOptions(maxObjects=2))]
        while pages[-1].token:
            pages.append(pc.ContinueRetrievePropertiesEx(pages[-1].token))
    finally:
        view.Destroy()
    assert [len(p.objects) for p in pages] == [2, 2, 1]
    assert sorted(n for p in pages for n in names(p)) == HOSTS
    calls = lab.get("/stats")["calls"]
    assert (calls["RetrievePropertiesEx"], calls["ContinueRetrievePropertiesEx"]) == (1, 2)


def test_no_max_objects_is_one_answer(si):
    spec, view = host_spec(si)
    try:
        result = si.content.propertyCollector.RetrievePropertiesEx([spec], PC.RetrieveOptions())
    finally:
        view.Destroy()
    assert result.token is None and sorted(names(result)) == HOSTS


def test_a_token_is_good_once_and_not_after_cancel(si):
    spec, view = host_spec(si)
    pc = si.content.propertyCollector
    try:
        first = pc.RetrievePropertiesEx([spec], PC.RetrieveOptions(maxObjects=2))
        second = pc.ContinueRetrievePropertiesEx(first.token)
        with pytest.raises(vmodl.fault.InvalidArgument):
            pc.ContinueRetrievePropertiesEx(first.token)
        pc.CancelRetrievePropertiesEx(second.token)
        with pytest.raises(vmodl.fault.InvalidArgument):
            pc.ContinueRetrievePropertiesEx(second.token)
        with pytest.raises(vmodl.fault.InvalidArgument):
            pc.ContinueRetrievePropertiesEx("no-such-token")
    finally:
        view.Destroy()
