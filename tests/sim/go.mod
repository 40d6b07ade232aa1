// esxsim builds offline from Debian's Go sources (golang-github-vmware-govmomi-dev and its
// dependency golang-github-google-uuid-dev, under /usr/share/gocode): tests/sim/build runs
// `go build` with GOPROXY=off, GOSUMDB=off, GOFLAGS=-mod=readonly. Both requirements are
// replaced by those directories, so no module is downloaded and no go.sum is needed (Go keeps
// no checksums for directory replacements).
module esxsim

// 1.17 or later: module graph pruning and lazy loading. Debian 12 ships Go 1.19.
go 1.19

require (
	github.com/google/uuid v1.3.0
	github.com/vmware/govmomi v0.24.2
)

replace (
	github.com/google/uuid => /usr/share/gocode/src/github.com/google/uuid
	github.com/vmware/govmomi => /usr/share/gocode/src/github.com/vmware/govmomi
)

// govmomi 0.24.2's own go.mod requires these, but no package the simulator builds imports them
// and Debian's govmomi package does not depend on them (they are not installed). Excluded, they
// drop out of the module graph, so `go mod tidy`, `go list -m all` and `go mod verify` also work
// offline (without the exclusions, `go build` and `go vet` still work, but those three stop at
// "module lookup disabled by GOPROXY=off").
exclude (
	github.com/davecgh/go-xdr v0.0.0-20161123171359-e6a2ba005892
	github.com/kr/pretty v0.1.0
	github.com/kr/text v0.1.0
	github.com/vmware/vmw-guestinfo v0.0.0-20170707015358-25eff159a728
)
