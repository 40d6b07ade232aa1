// storage.go: HostStorageSystem methods vcsim lacks or fakes (multipath policy, rescans).
package main

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// StorageSystem wraps one host's vcsim HostStorageSystem.
type StorageSystem struct {
	*simulator.HostStorageSystem
	host string
}

// Get returns the wrapped object: vcsim 0.24 property reads need it for embedded pointers.
func (s *StorageSystem) Get() mo.Reference { return s.HostStorageSystem }

// SetMultipathLunPolicy sets the PSP of the logical unit whose multipathInfo id is LunId.
// Like a host: unknown id -> NotFound, an HPP device -> HostConfigFault (it takes no NMP PSP),
// unknown PSP -> InvalidArgument (policy.policy).
func (s *StorageSystem) SetMultipathLunPolicy(ctx *simulator.Context, req *types.SetMultipathLunPolicy) soap.HasFault {
	body := &methods.SetMultipathLunPolicyBody{}
	policy := req.Policy.GetHostMultipathInfoLogicalUnitPolicy()
	canonical, hpp := "", false
	lab.Lock()
	if h := lab.byName[s.host]; h != nil {
		for _, d := range h.Devices {
			if d.UUID == req.LunId {
				canonical, hpp = d.Canonical, !d.IsNMP()
			}
		}
	}
	lab.Unlock()
	switch {
	case canonical == "":
		body.Fault_ = simulator.Fault("The object or item referred to could not be found.",
			&types.NotFound{})
	case hpp:
		body.Fault_ = simulator.Fault("Device "+canonical+" is claimed by HPP (High Performance Plugin), "+
			"not NMP: it does not take an NMP path selection policy.", &types.HostConfigFault{})
	case policy == nil || !ValidPSP(policy.Policy):
		body.Fault_ = simulator.Fault("A specified parameter was not correct: policy.policy",
			&types.InvalidArgument{InvalidProperty: "policy.policy"})
	default:
		if err := lab.SetPSPCtx(ctx, s.host, canonical, policy.Policy); err != nil {
			body.Fault_ = simulator.Fault(err.Error(), &types.InvalidArgument{InvalidProperty: "lunId"})
		} else {
			body.Res = &types.SetMultipathLunPolicyResponse{}
		}
	}
	return body
}

// RescanAllHba re-reads the lab (LUNs added or removed through the control API are already
// there; this refreshes the typed view).
func (s *StorageSystem) RescanAllHba(ctx *simulator.Context, _ *types.RescanAllHba) soap.HasFault {
	s.republish(ctx)
	return &methods.RescanAllHbaBody{Res: new(types.RescanAllHbaResponse)}
}

// RescanHba is RescanAllHba for one adapter.
func (s *StorageSystem) RescanHba(ctx *simulator.Context, _ *types.RescanHba) soap.HasFault {
	s.republish(ctx)
	return &methods.RescanHbaBody{Res: new(types.RescanHbaResponse)}
}

// RefreshStorageSystem refreshes the typed view from the lab.
func (s *StorageSystem) RefreshStorageSystem(ctx *simulator.Context, _ *types.RefreshStorageSystem) soap.HasFault {
	s.republish(ctx)
	return &methods.RefreshStorageSystemBody{Res: new(types.RefreshStorageSystemResponse)}
}

func (s *StorageSystem) republish(ctx *simulator.Context) {
	if h := lab.HostByName(s.host); h != nil {
		lab.PublishCtx(ctx, h)
	}
}
