// lab_claim.go: how a host claims a LUN that appears: SATP claim rules (user before system,
// first match wins), the SATP's default PSP, a rule's pspoption for VMW_PSP_RR.
package main

import (
	"fmt"
	"strings"
)

// satpDefaultPSP is the PSP a SATP claims with when no rule names one.
var satpDefaultPSP = map[string]string{
	SATPALUA:  PSPMRU,
	SATPLocal: PSPFixed,
	SATPAA:    PSPFixed,
}

// ClaimPolicy picks SATP, PSP and RR config for a device appearing on h, from h's SATP rules
// (user rules first, then system rules; first match wins). alua tells whether the device
// reports target port groups (tpgs_on). Caller holds l.mu.
func (h *Host) ClaimPolicy(vendor, model, canonical string, alua bool) (satp, psp string, rr RRConfig) {
	rr = DefaultRR()
	match := func(r SatpRule) bool {
		if r.Device != "" && r.Device != canonical {
			return false
		}
		if r.Vendor != "" && !strings.EqualFold(strings.TrimSpace(r.Vendor), strings.TrimSpace(vendor)) {
			return false
		}
		if r.Model != "" && !strings.HasPrefix(model, r.Model) {
			return false
		}
		if strings.Contains(r.ClaimOption, "tpgs_on") && !alua {
			return false
		}
		if strings.Contains(r.ClaimOption, "tpgs_off") && alua {
			return false
		}
		return r.Vendor != "" || r.Model != "" || r.Device != "" || r.ClaimOption != ""
	}
	for _, group := range []string{"user", "system"} {
		for _, r := range h.SatpRules {
			if r.RuleGroup != group || !match(r) {
				continue
			}
			psp = r.PSP
			if psp == "" {
				psp = satpDefaultPSP[r.SATP]
			}
			if psp == PSPRR {
				rr = applyPSPOption(rr, r.PSPOption)
			}
			return r.SATP, psp, rr
		}
	}
	if alua {
		return SATPALUA, PSPMRU, rr
	}
	return SATPAA, PSPFixed, rr
}

// applyPSPOption applies a rule's pspoption such as "iops=1" or "bytes=1048576" to RR config.
func applyPSPOption(rr RRConfig, opt string) RRConfig {
	for _, kv := range strings.FieldsFunc(opt, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
		var n int64
		switch {
		case strings.HasPrefix(kv, "iops="):
			if _, err := fmt.Sscan(strings.TrimPrefix(kv, "iops="), &n); err == nil && n > 0 {
				rr.LimitType, rr.IOPS = "iops", int(n)
			}
		case strings.HasPrefix(kv, "bytes="):
			if _, err := fmt.Sscan(strings.TrimPrefix(kv, "bytes="), &n); err == nil && n > 0 {
				rr.LimitType, rr.Bytes = "bytes", n
			}
		case kv == "useANO=1":
			rr.UseANO = true
		default:
			rr = applyLatencyOption(rr, kv) // policy=latency, samplingCycles=, latencyEvalTime=
		}
	}
	return rr
}
