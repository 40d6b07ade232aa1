// lab_mutate.go: the changes a host accepts through esxcli and the vSphere API (PSP, RR
// config, SATP user rules), and publishing a host's regenerated view to vcsim afterwards.
package main

import (
	"strings"

	"github.com/vmware/govmomi/simulator"
)

// SetPSP sets a device's path selection policy on one host (host by name or moid) and
// records the write. Switching to another PSP resets RR's config to its defaults, as a new
// PSP instance on ESXi does.
func (l *Lab) SetPSP(host, dev, psp string) error { return l.SetPSPCtx(nil, host, dev, psp) }

// SetPSPCtx is SetPSP for SOAP methods: ctx (may be nil) lets the view update skip the lock
// the running method already holds.
func (l *Lab) SetPSPCtx(ctx *simulator.Context, host, dev, psp string) error {
	l.mu.Lock()
	h, d, err := l.lookupNMP(host, dev)
	if err == nil && !ValidPSP(psp) {
		err = errf("argument", "Invalid PSP name %q; valid: %s", psp, strings.Join(ValidPSPs, ", "))
	}
	if err != nil {
		l.mu.Unlock()
		return err
	}
	if d.PSP != psp {
		d.RR = DefaultRR()
	}
	d.PSP = psp
	l.recordWrite(h.Name, dev, "psp", psp)
	l.mu.Unlock()
	l.PublishCtx(ctx, h)
	return nil
}

// RRChange is a partial RR configuration change (nil = keep), as `deviceconfig set` takes it.
type RRChange struct {
	LimitType *string
	IOPS      *int
	Bytes     *int64
	UseANO    *bool
	// -T/--latency-eval-time and -S/--num-sampling-cycles (esxcli_latency.go checks the ranges)
	LatencyEvalTime *int64
	SamplingCycles  *int64
}

// SetRR changes a device's RR configuration and records the write. The device must use
// VMW_PSP_RR. Giving --iops without --type selects the iops limit (bytes likewise).
func (l *Lab) SetRR(host, dev string, ch RRChange) error {
	l.mu.Lock()
	h, d, err := l.lookupNMP(host, dev)
	if err != nil {
		l.mu.Unlock()
		return err
	}
	cfg := d.RR
	fail := func(format string, a ...interface{}) error {
		l.mu.Unlock()
		return errf("argument", format, a...)
	}
	if d.PSP != PSPRR {
		return fail("Unable to set PSP device config for %s: device is not claimed by %s", dev, PSPRR)
	}
	if ch.LimitType != nil {
		switch *ch.LimitType {
		case "default", "iops", "bytes", "latency":
			cfg.LimitType = *ch.LimitType
		default:
			return fail("Invalid limit type %q: valid types are default, iops, bytes, latency", *ch.LimitType)
		}
	}
	if ch.IOPS != nil {
		if *ch.IOPS < 1 {
			return fail("Invalid IOPS limit %d: must be at least 1", *ch.IOPS)
		}
		cfg.IOPS = *ch.IOPS
		if ch.LimitType == nil {
			cfg.LimitType = "iops"
		}
	}
	if ch.Bytes != nil {
		if *ch.Bytes < 1 {
			return fail("Invalid byte limit %d: must be at least 1", *ch.Bytes)
		}
		cfg.Bytes = *ch.Bytes
		if ch.LimitType == nil && ch.IOPS == nil {
			cfg.LimitType = "bytes"
		}
	}
	if ch.UseANO != nil {
		cfg.UseANO = *ch.UseANO
	}
	if msg := applyLatencyChange(&cfg, ch); msg != "" {
		return fail("%s", msg)
	}
	d.RR = cfg
	l.recordWrite(h.Name, dev, "rr", cfg.String())
	l.mu.Unlock()
	l.Publish(h)
	return nil
}

// AddSatpRule adds a user SATP rule on one host and records the write. Like ESXi, the rule
// claims only devices that appear later (or after a reclaim), not the present ones.
func (l *Lab) AddSatpRule(host string, r SatpRule) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.byName[host]
	if h == nil {
		h = l.byMoid[host]
	}
	if h == nil {
		return errf("host", "unknown host %q", host)
	}
	if r.SATP == "" {
		return errf("argument", "Missing required parameter -s|--satp")
	}
	if _, ok := satpDefaultPSP[r.SATP]; !ok {
		return errf("argument", "Unable to find SATP %s", r.SATP)
	}
	if r.PSP != "" && !ValidPSP(r.PSP) {
		return errf("argument", "Invalid PSP name %q", r.PSP)
	}
	for _, old := range h.SatpRules {
		if old.SATP == r.SATP && old.Vendor == r.Vendor && old.Model == r.Model &&
			old.Device == r.Device && old.Driver == r.Driver && old.Transport == r.Transport &&
			old.ClaimOption == r.ClaimOption {
			return errf("argument", "Error adding SATP user rule: Duplicate user rule found for SATP %s", r.SATP)
		}
	}
	if r.RuleGroup == "" {
		r.RuleGroup = "user"
	}
	h.SatpRules = append(h.SatpRules, r)
	l.recordWrite(h.Name, r.Device, "satp_rule", ruleString(r))
	h.version++
	return nil
}

func ruleString(r SatpRule) string {
	parts := []string{"satp=" + r.SATP}
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("vendor", r.Vendor)
	add("model", r.Model)
	add("psp", r.PSP)
	add("pspoption", r.PSPOption)
	add("claimoption", r.ClaimOption)
	add("option", r.Options)
	add("device", r.Device)
	add("description", r.Description)
	return strings.Join(parts, ",")
}

// Publish regenerates h's typed storage view and installs it in vcsim (see view.go).
// It must be called without l.mu held. publishHook is set by the inventory code.
func (l *Lab) Publish(h *Host) { l.PublishCtx(nil, h) }

// PublishCtx is Publish from inside a SOAP method (ctx.Caller is already locked).
func (l *Lab) PublishCtx(ctx *simulator.Context, h *Host) {
	if publishHook != nil {
		publishHook(ctx, h)
	}
	observeHost(h) // events.go: the storage events of what changed
}

// PublishAll publishes every host.
func (l *Lab) PublishAll() {
	l.mu.Lock()
	hosts := append([]*Host{}, l.Hosts...)
	l.mu.Unlock()
	for _, h := range hosts {
		l.Publish(h)
	}
}

// publishHook installs a host's view in vcsim; nil until the inventory exists.
var publishHook func(ctx *simulator.Context, h *Host)
