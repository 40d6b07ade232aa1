// esxsim: a vCenter + SCST/ALUA SAN simulator built on govmomi's vcsim (see README.md).
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "esxsim: not wired yet", len(lab.Hosts))
	os.Exit(2)
}
