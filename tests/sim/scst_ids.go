// scst_ids.go: the ids SCST's vdisk handler gives a device, and the device names the SCST view
// uses so that those ids are the euis/naas the hosts see.
//
// SCST (scst/src/dev_handlers/scst_vdisk.c, vdisk_gen_dev_id_num and vdev_create_node):
// dev_id_num = (setup_id << 32) | crc32c(0, name, strlen(name)+1), the kernel's crc32c (seed 0,
// no final inversion) over the name AND its terminating NUL; t10_dev_id = "%llx-%s" of dev_id_num
// and the name, cut to 25 characters (char t10_dev_id[16+8+2]); usn = "%llx" of dev_id_num;
// prod_id = the name cut to 16 characters. Checked against SCST's README (section "Checking the
// Target Configuration"): disk01 -> 27cddc71-disk01, disk02 -> 132a74e8 (multipath WWID
// 23133326137346538).
package main

import (
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"strings"
	"sync"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// kernelCRC32C is Linux's crc32c(0, data, len): the reflected Castagnoli CRC with seed 0 and
// no final inversion. Go's crc32.Update inverts on entry and exit, so undo both.
func kernelCRC32C(data []byte) uint32 {
	return ^crc32.Update(^uint32(0), castagnoli, data)
}

// scstDevIDNum is vdisk_gen_dev_id_num: (setup_id << 32) | crc32c over name + NUL.
func scstDevIDNum(setupID uint32, name string) uint64 {
	return uint64(setupID)<<32 | uint64(kernelCRC32C(append([]byte(name), 0)))
}

// scstGenT10DevID is the t10_dev_id vdisk generates for a new device.
func scstGenT10DevID(setupID uint32, name string) string {
	id := fmt.Sprintf("%x-%s", scstDevIDNum(setupID, name), name)
	if len(id) > 25 {
		id = id[:25]
	}
	return id
}

// scstIdentity is how one LUN is named and identified in SCST on every node exporting it.
// Empty explicit fields mean "SCST's default" (generated t10_dev_id, no eui64_id/naa_id,
// prod_id = name).
type scstIdentity struct {
	Name     string
	T10DevID string // explicit t10_dev_id
	EUI64    string // explicit eui64_id, hex without 0x
	NAA      string // explicit naa_id, hex without 0x
	ProdID   string // explicit prod_id (the model hosts show)
}

var scstIdentities = struct {
	sync.Mutex
	m map[string]scstIdentity
}{m: map[string]scstIdentity{}}

// scstIdentityFor names a LUN (same result on every node, cached per canonical name):
//   - eui.<8 ASCII lowercase hex digits, first not 0> (the seed lab's and generated LUNs): a
//     name lun<N>_<11+ octal digits> solved so that SCST's generated t10_dev_id (setup_id 0)
//     starts with those 8 characters: nothing explicit, the id is SCST's own;
//   - eui.<8 other printable ASCII bytes>: explicit t10_dev_id "<ascii>-lun<N>";
//   - other eui.<16|24|32 hex>: explicit eui64_id; naa.<16|32 hex>: explicit naa_id;
//
// prod_id is set to the model (cut to 16) unless the name gives it anyway.
func scstIdentityFor(canonical, model string, lun int) scstIdentity {
	scstIdentities.Lock()
	defer scstIdentities.Unlock()
	key := fmt.Sprintf("%s/%d/%s", canonical, lun, model)
	if id, ok := scstIdentities.m[key]; ok {
		return id
	}
	id := scstIdentity{Name: fmt.Sprintf("lun%d", lun)}
	kind, hexID := "", ""
	if i := strings.IndexByte(canonical, '.'); i > 0 {
		kind, hexID = canonical[:i], strings.ToLower(canonical[i+1:])
	}
	raw, err := hex.DecodeString(hexID)
	switch {
	case err != nil:
	case kind == "eui" && len(raw) == 8 && isLowerHex(raw) && raw[0] != '0':
		var want uint32
		fmt.Sscanf(string(raw), "%x", &want)
		if name, ok := solveSCSTName(fmt.Sprintf("lun%d_", lun), want); ok {
			id.Name = name
		} else {
			id.T10DevID = string(raw) + "-" + id.Name
		}
	case kind == "eui" && len(raw) == 8 && isPrintable(raw):
		id.T10DevID = string(raw) + "-" + id.Name
	case kind == "eui" && (len(raw) == 8 || len(raw) == 12 || len(raw) == 16):
		id.EUI64 = hexID
	case kind == "naa" && (len(raw) == 8 || len(raw) == 16):
		id.NAA = hexID
	}
	if prod := cut(model, 16); prod != "" && prod != cut(id.Name, 16) {
		id.ProdID = prod
	}
	scstIdentities.m[key] = id
	return id
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func isLowerHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func isPrintable(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c > '~' || c == '-' {
			return false
		}
	}
	return true
}

// solveSCSTName finds prefix + octal digits whose crc32c (with NUL, seed 0) is want. The CRC
// is linear over GF(2) for messages of one length, and each octal digit '0'..'7' is 0x30 plus
// three free bits, so this is a linear system of 32 equations in 3 unknowns per digit; with
// 11 or more digits it has a solution (free unknowns are taken as 0: deterministic).
func solveSCSTName(prefix string, want uint32) (string, bool) {
	for n := 11; n <= 16; n++ {
		base := append([]byte(prefix+strings.Repeat("0", n)), 0)
		target := want ^ kernelCRC32C(base)
		type vec struct {
			v     uint32
			combo uint64
		}
		var basis [32]*vec
		for j := 0; j < 3*n; j++ {
			msg := make([]byte, len(base))
			msg[len(prefix)+j/3] = 1 << (j % 3)
			x := vec{kernelCRC32C(msg), 1 << j}
			for bit := 31; bit >= 0 && x.v != 0; bit-- {
				if x.v>>bit&1 == 0 {
					continue
				}
				if basis[bit] == nil {
					basis[bit] = &vec{x.v, x.combo}
					break
				}
				x.v ^= basis[bit].v
				x.combo ^= basis[bit].combo
			}
		}
		var combo uint64
		ok := true
		for bit := 31; bit >= 0; bit-- {
			if target>>bit&1 == 0 {
				continue
			}
			if basis[bit] == nil {
				ok = false
				break
			}
			target ^= basis[bit].v
			combo ^= basis[bit].combo
		}
		if !ok {
			continue
		}
		name := []byte(prefix)
		for i := 0; i < n; i++ {
			name = append(name, '0'+byte(combo>>(3*i)&7))
		}
		if kernelCRC32C(append(append([]byte{}, name...), 0)) == want {
			return string(name), true
		}
	}
	return "", false
}
