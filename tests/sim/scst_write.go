// scst_write.go: the SCST view on disk, DIR/<node>/scst_tgt/ shaped like /sys/kernel/scst_tgt
// and DIR/<node>/crm_mon.xml (crm_mon.go).
//
// Attribute formats follow SCST's show functions (scst/src/scst_sysfs.c, scst_vdisk.c): the
// value on the first line, and a second line "[key]" (SCST_SYSFS_KEY_MARK) when the value is
// not the default: setup_id "0x%x" ([key] when not 0); group_id, a target group's state and a
// remote target's rel_tgt_id always carry [key]; preferred "%u" ([key] when 1); a target's
// enabled "%d" (never), its rel_tgt_id "%d" ([key] when not 0); t10_dev_id, prod_id,
// t10_vend_id [key] when set explicitly; eui64_id/naa_id "0x<hex>" + [key], or an empty line.
// A local target in a target group and a device in a device group are symlinks (to
// targets/<driver>/<target> and devices/<dev>), as are devices/<dev>/handler and
// targets/.../luns/<n>/device. Directories hold the "mgmt" files SCST has there.
//
// Only files whose content changed are rewritten, each atomically (temporary file or
// symlink, then rename); files and directories that no longer exist are removed.
package main

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

const keyMark = "[key]\n"

// scstEntry is one file (Data) or symlink (Link) of the tree.
type scstEntry struct {
	Data string
	Link string
}

type scstWriter struct {
	dir  string
	last map[string]map[string]scstEntry // node -> relative path -> entry
}

func newSCSTWriter(dir string) *scstWriter {
	return &scstWriter{dir: dir, last: map[string]map[string]scstEntry{}}
}

func attr(value string, key bool) scstEntry {
	e := scstEntry{Data: value + "\n"}
	if key {
		e.Data += keyMark
	}
	return e
}

func hexAttr(h string) scstEntry {
	if h == "" {
		return scstEntry{Data: "\n"}
	}
	return attr("0x"+h, true)
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

const (
	mgmtDGs  = "Usage: echo \"create group_name\" >mgmt\n       echo \"del group_name\" >mgmt\n"
	mgmtDevs = "Usage: echo \"add device\" >mgmt\n       echo \"del device\" >mgmt\n"
	mgmtTG   = "Usage: echo \"add target\" >mgmt\n       echo \"del target\" >mgmt\n"
)

// scstTree renders one node's view as paths relative to DIR/<node>.
func scstTree(v *scstView, crm string) map[string]scstEntry {
	t := map[string]scstEntry{}
	root := "scst_tgt/"
	put := func(p string, e scstEntry) { t[root+p] = e }
	put("setup_id", attr(fmt.Sprintf("0x%x", v.SetupID), v.SetupID != 0))
	handlers := map[string]bool{}
	exports := map[string][]string{} // device -> targets/.../luns/<n> (or .../ini_groups/<g>/luns/<n>)
	lunDir := func(tg scstTarget, l scstLUNMap) string {
		if l.IniGroup != "" {
			return fmt.Sprintf("targets/%s/%s/ini_groups/%s/luns/%d", tg.Driver, tg.Name, l.IniGroup, l.LUN)
		}
		return fmt.Sprintf("targets/%s/%s/luns/%d", tg.Driver, tg.Name, l.LUN)
	}
	for _, tg := range v.Targets {
		for _, l := range tg.LUNs {
			exports[l.Device] = append(exports[l.Device], lunDir(tg, l))
		}
	}
	for _, d := range v.Devices {
		p := "devices/" + d.Name + "/"
		handlers[d.Handler] = true
		put(p+"handler", scstEntry{Link: "../../handlers/" + d.Handler})
		put(p+"type", attr("0 - disk", false))
		put(p+"t10_dev_id", attr(d.T10DevID, d.T10Set))
		put(p+"eui64_id", hexAttr(d.EUI64))
		put(p+"naa_id", hexAttr(d.NAA))
		put(p+"t10_vend_id", attr(d.VendID, d.VendID != scstDefaultVendor(d.Handler)))
		put(p+"prod_id", attr(d.ProdID, d.ProdSet))
		put(p+"usn", attr(d.USN, false))
		for i, e := range exports[d.Name] {
			put(fmt.Sprintf("%sexported/export%d", p, i), scstEntry{Link: "../../../" + e})
		}
	}
	for h := range handlers {
		put("handlers/"+h+"/type", attr("0 - disk", false))
	}
	put("device_groups/mgmt", scstEntry{Data: mgmtDGs})
	for _, dg := range v.DGs {
		p := "device_groups/" + dg.Name + "/"
		put(p+"devices/mgmt", scstEntry{Data: mgmtDevs})
		for _, d := range dg.Devices {
			put(p+"devices/"+d, scstEntry{Link: "../../../devices/" + d})
		}
		put(p+"target_groups/mgmt", scstEntry{Data: mgmtDGs})
		for _, tg := range dg.TGs {
			q := p + "target_groups/" + tg.Name + "/"
			put(q+"mgmt", scstEntry{Data: mgmtTG})
			put(q+"group_id", attr(fmt.Sprint(tg.GroupID), true))
			put(q+"state", attr(tg.State, true))
			put(q+"preferred", attr(boolDigit(tg.Preferred), tg.Preferred))
			for _, tt := range tg.Targets {
				if tt.Local {
					put(q+tt.Name, scstEntry{Link: "../../../../targets/qla2x00t/" + tt.Name})
				} else {
					put(q+tt.Name+"/rel_tgt_id", attr(fmt.Sprint(tt.RelTgtID), true))
				}
			}
		}
	}
	for _, tg := range v.Targets {
		p := "targets/" + tg.Driver + "/" + tg.Name + "/"
		put(p+"enabled", attr(boolDigit(tg.Enabled), false))
		put(p+"rel_tgt_id", attr(fmt.Sprint(tg.RelTgtID), tg.RelTgtID != 0))
		put(p+"luns/mgmt", scstEntry{Data: "Usage: echo \"add H:C:I:L lun [parameters]\" >mgmt\n"})
		put(p+"ini_groups/mgmt", scstEntry{Data: "Usage: echo \"create GROUP_NAME\" >mgmt\n"})
		for _, l := range tg.LUNs {
			q := lunDir(tg, l) + "/"
			up := "../../../../../devices/"
			if l.IniGroup != "" { // targets/<drv>/<t>/ini_groups/<g>/luns/<n>/device
				up = "../../../../../../../devices/"
				g := p + "ini_groups/" + l.IniGroup + "/"
				put(g+"luns/mgmt", scstEntry{Data: "Usage: echo \"add H:C:I:L lun [parameters]\" >mgmt\n"})
				put(g+"initiators/mgmt", scstEntry{Data: "Usage: echo \"add INITIATOR_NAME\" >mgmt\n"})
			}
			put(q+"device", scstEntry{Link: up + l.Device})
			put(q+"read_only", attr("0", false))
		}
	}
	t["crm_mon.xml"] = scstEntry{Data: crm}
	return t
}

// write brings DIR in line with views.
func (w *scstWriter) write(views map[string]*scstView) error {
	now := time.Now().UTC()
	for node := range w.last {
		if views[node] == nil {
			if err := os.RemoveAll(filepath.Join(w.dir, node)); err != nil {
				return err
			}
			delete(w.last, node)
		}
	}
	for node, v := range views {
		tree := scstTree(v, crmMonXML(v, views, now))
		if err := w.writeNode(node, tree); err != nil {
			return fmt.Errorf("scst view of %s: %w", node, err)
		}
	}
	return nil
}

func (w *scstWriter) writeNode(node string, tree map[string]scstEntry) error {
	base := filepath.Join(w.dir, node)
	old := w.last[node]
	w.last[node] = nil // on error, rewrite everything next time
	// First remove what is gone and the directories it leaves empty (deepest first), so that
	// a path can change from symlink to directory or back.
	dirs := map[string]bool{}
	for p := range old {
		if _, ok := tree[p]; ok {
			continue
		}
		if err := os.Remove(filepath.Join(base, filepath.FromSlash(p))); err != nil && !os.IsNotExist(err) {
			return err
		}
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	var gone []string
	for d := range dirs {
		gone = append(gone, d)
	}
	sort.Slice(gone, func(i, j int) bool { return strings.Count(gone[i], "/") > strings.Count(gone[j], "/") })
	for _, d := range gone {
		os.Remove(filepath.Join(base, filepath.FromSlash(d))) // fails (and stays) when not empty
	}
	paths := make([]string, 0, len(tree))
	for p := range tree {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		e := tree[p]
		if prev, ok := old[p]; ok && prev == e {
			continue
		}
		full := filepath.Join(base, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		var err error
		if e.Link != "" {
			err = symlinkAtomic(e.Link, full)
		} else {
			err = writeAtomic(full, []byte(e.Data), 0o644)
		}
		if err != nil {
			return err
		}
	}
	w.last[node] = tree
	return nil
}

// symlinkAtomic points path at target, replacing whatever is there in one rename.
func symlinkAtomic(target, path string) error {
	tmp := fmt.Sprintf("%s.tmp%d", path, time.Now().UnixNano())
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
