// provision_vm.go: CreateVM_Task with eager zeroing that takes time, like ESXi writing zeros
// over a thick eager-zeroed disk before the task completes.
//
// vcsim creates VMs synchronously and keeps the disk backing's thinProvisioned/eagerlyScrub
// as given. Here a spec with eager-zeroed disks runs as an asynchronous task: TaskInfo.progress
// advances at the zeroing rate (--zero-rate-mbps, POST /config {"zero_rate_mbps": N}), then
// vcsim creates the VM (so the VM appears when the task succeeds). CancelTask stops it with
// RequestCanceled and no VM. Specs without eager-zeroed disks keep vcsim's synchronous path.
// Every created VM is recorded as a write ("vm", "create <name>"), its removal as
// ("vm", "destroy <name>").
package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/vpx"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// progressTick is how often a zeroing task's progress is updated.
const progressTick = 100 * time.Millisecond

// setZeroRate sets the eager-zeroing rate in MiB/s (> 0).
func setZeroRate(mibps float64) error {
	if mibps <= 0 {
		return fmt.Errorf("zero_rate_mbps must be > 0, got %v", mibps)
	}
	prov.mu.Lock()
	prov.zeroRate = mibps
	prov.mu.Unlock()
	return nil
}

func zeroRate() float64 {
	prov.mu.Lock()
	defer prov.mu.Unlock()
	return prov.zeroRate
}

// postConfig serves POST /config {"zero_rate_mbps": N}; getConfig GET /config.
func postConfig(r *http.Request) (interface{}, error) {
	var body struct {
		ZeroRate *float64 `json:"zero_rate_mbps"`
	}
	if err := readJSON(r, &body); err != nil {
		return nil, err
	}
	if body.ZeroRate == nil {
		return nil, badRequest{fmt.Errorf(`want {"zero_rate_mbps": N}`)}
	}
	if err := setZeroRate(*body.ZeroRate); err != nil {
		return nil, badRequest{err}
	}
	return getConfig(r)
}

func getConfig(*http.Request) (interface{}, error) {
	return map[string]float64{"zero_rate_mbps": zeroRate()}, nil
}

// eagerBytes sums the capacity of the eager-zeroed thick disks a spec adds.
func eagerBytes(spec *types.VirtualMachineConfigSpec) int64 {
	var total int64
	for _, dc := range spec.DeviceChange {
		c := dc.GetVirtualDeviceConfigSpec()
		disk, ok := c.Device.(*types.VirtualDisk)
		if !ok || c.Operation != types.VirtualDeviceConfigSpecOperationAdd {
			continue
		}
		b, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
		if !ok || b.EagerlyScrub == nil || !*b.EagerlyScrub || (b.ThinProvisioned != nil && *b.ThinProvisioned) {
			continue
		}
		size := disk.CapacityInBytes
		if size == 0 {
			size = disk.CapacityInKB * 1024
		}
		total += size
	}
	return total
}

// provFolder replaces a datacenter's VM folder. It embeds vcsim's Folder by value, so vcsim's
// own code (asFolderMO, the property collector) still finds the mo.Folder inside.
type provFolder struct {
	simulator.Folder
}

func (f *provFolder) CreateVMTask(ctx *simulator.Context, req *types.CreateVM_Task) soap.HasFault {
	size := eagerBytes(&req.Config)
	if size == 0 {
		res := f.Folder.CreateVMTask(ctx, req)
		f.recordCreated(res.(*methods.CreateVM_TaskBody).Res.Returnval, req)
		return res
	}
	base := simulator.CreateTask(f, "createVm", nil)
	t := &zeroTask{Task: *base, stop: make(chan struct{})}
	simulator.Map.Put(t)
	prov.mu.Lock()
	prov.tasks[t.Self.Value] = t
	prov.mu.Unlock()
	t.update(types.PropertyChange{Name: "info.startTime", Val: time.Now()},
		types.PropertyChange{Name: "info.state", Val: types.TaskInfoStateRunning},
		types.PropertyChange{Name: "info.progress", Val: int32(0)},
		types.PropertyChange{Name: "info.cancelable", Val: true})
	inner := *ctx // the request's context ends with the request: keep session, drop deadline
	inner.Context = internalContext().Context
	go f.zeroThenCreate(t, &inner, req, size)
	return &methods.CreateVM_TaskBody{Res: &types.CreateVM_TaskResponse{Returnval: t.Self}}
}

// zeroThenCreate advances the task's progress for size/rate seconds, then creates the VM.
func (f *provFolder) zeroThenCreate(t *zeroTask, ctx *simulator.Context, req *types.CreateVM_Task, size int64) {
	defer func() {
		prov.mu.Lock()
		delete(prov.tasks, t.Self.Value)
		prov.mu.Unlock()
	}()
	done := 0.0
	last := int32(0)
	tick := time.NewTicker(progressTick)
	defer tick.Stop()
	for done < float64(size) {
		select {
		case <-t.stop:
			t.finish(nil, &types.RequestCanceled{})
			return
		case <-tick.C:
			// the rate may change while the task runs: integrate it per tick
			done += zeroRate() * (1 << 20) * progressTick.Seconds()
			p := int32(100 * done / float64(size))
			if p > 99 {
				p = 99
			}
			if p != last {
				last = p
				t.update(types.PropertyChange{Name: "info.progress", Val: p})
			}
		}
	}
	var res soap.HasFault
	simulator.Map.WithLock(f, func() { res = f.Folder.CreateVMTask(ctx, req) })
	innerRef := res.(*methods.CreateVM_TaskBody).Res.Returnval
	inner, _ := simulator.Map.Get(innerRef).(*simulator.Task)
	if inner == nil {
		t.finish(nil, &types.SystemError{Reason: "create task vanished"})
		return
	}
	if inner.Info.Error != nil {
		t.finish(nil, inner.Info.Error.Fault)
		return
	}
	f.recordCreated(innerRef, req)
	t.finish(inner.Info.Result, nil)
}

// recordCreated notes a VM vcsim created (from its finished task) for writes, state and reset.
func (f *provFolder) recordCreated(taskRef types.ManagedObjectReference, req *types.CreateVM_Task) {
	task, ok := simulator.Map.Get(taskRef).(*simulator.Task)
	if !ok || task.Info.Error != nil {
		return
	}
	ref, ok := task.Info.Result.(types.ManagedObjectReference)
	if !ok {
		return
	}
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	host, ds := "", ""
	if vm.Runtime.Host != nil {
		if hs, ok := simulator.Map.Get(*vm.Runtime.Host).(*simulator.HostSystem); ok {
			host = hs.Name
		}
	}
	if p, err := datastoreOfPath(req.Config.Files.VmPathName); err == nil {
		ds = p
	}
	prov.mu.Lock()
	prov.vms[ref.Value] = vmEntry{Name: req.Config.Name, Datastore: ds, Host: host}
	prov.mu.Unlock()
	lab.RecordWrite(host, "", "vm", "create "+req.Config.Name+" on "+ds)
}

// datastoreOfPath returns the datastore of "[ds] path".
func datastoreOfPath(p string) (string, error) {
	if len(p) < 2 || p[0] != '[' {
		return "", fmt.Errorf("not a datastore path: %q", p)
	}
	for i := 1; i < len(p); i++ {
		if p[i] == ']' {
			return p[1:i], nil
		}
	}
	return "", fmt.Errorf("not a datastore path: %q", p)
}

// zeroTask is a vcsim Task that can be canceled. Task is embedded by value so vcsim's property
// collector reads its mo.Task.
type zeroTask struct {
	simulator.Task
	stop     chan struct{}
	stopOnce sync.Once
}

func (t *zeroTask) cancel() { t.stopOnce.Do(func() { close(t.stop) }) }

func (t *zeroTask) update(changes ...types.PropertyChange) {
	simulator.Map.WithLock(t, func() { simulator.Map.Update(t, changes) })
}

func (t *zeroTask) finish(result types.AnyType, fault types.BaseMethodFault) {
	state := types.TaskInfoStateSuccess
	var lf interface{}
	if fault != nil {
		state = types.TaskInfoStateError
		lf = types.LocalizedMethodFault{Fault: fault, LocalizedMessage: fmt.Sprintf("%T", fault)}
	}
	changes := []types.PropertyChange{
		{Name: "info.completeTime", Val: time.Now()},
		{Name: "info.cancelable", Val: false},
		{Name: "info.state", Val: state},
		{Name: "info.error", Val: lf},
	}
	if fault == nil {
		changes = append(changes, types.PropertyChange{Name: "info.progress", Val: int32(100)},
			types.PropertyChange{Name: "info.result", Val: result})
	}
	t.update(changes...)
}

// CancelTask stops a running zeroing task; the task then fails with RequestCanceled.
func (t *zeroTask) CancelTask(ctx *simulator.Context, req *types.CancelTask) soap.HasFault {
	body := &methods.CancelTaskBody{}
	if t.Info.State != types.TaskInfoStateRunning && t.Info.State != types.TaskInfoStateQueued {
		body.Fault_ = simulator.Fault("task is not running", &types.InvalidState{})
		return body
	}
	t.cancel()
	body.Res = &types.CancelTaskResponse{}
	return body
}

// provFindChild answers SearchIndex.FindChild for a wrapped VM folder, which vcsim's type
// switch does not recognise; nil for every other entity (vcsim's answer is right for those).
func provFindChild(req *types.FindChild) soap.HasFault {
	f, ok := simulator.Map.Get(req.Entity).(*provFolder)
	if !ok {
		return nil
	}
	body := &methods.FindChildBody{Res: new(types.FindChildResponse)}
	if m := simulator.Map.FindByName(req.Name, f.ChildEntity); m != nil {
		ref := m.Reference()
		body.Res.Returnval = &ref
	}
	return body
}

// provFindByInventoryPath is vcsim's FindByInventoryPath walk with findChild (which must
// consult provFindChild) at every step, so "DC0/vm/<name>" works through the wrapped folder.
func provFindByInventoryPath(req *types.FindByInventoryPath, findChild func(*types.FindChild) soap.HasFault) soap.HasFault {
	body := &methods.FindByInventoryPathBody{Res: new(types.FindByInventoryPathResponse)}
	path := strings.FieldsFunc(req.InventoryPath, func(c rune) bool { return c == '/' })
	if len(path) == 0 {
		return body
	}
	o := &vpx.ServiceContent.RootFolder
	for _, name := range path {
		o = findChild(&types.FindChild{Entity: *o, Name: name}).(*methods.FindChildBody).Res.Returnval
		if o == nil {
			break
		}
	}
	body.Res.Returnval = o
	return body
}
