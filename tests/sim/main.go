// esxsim: a vCenter + SCST/ALUA SAN simulator built on govmomi's vcsim (see README.md).
//
//	esxsim --scenario FILE --listen 127.0.0.1:0 --env-file PATH [--control 127.0.0.1:0]
//	       [--latency-ms N] [--zero-rate-mbps N] [--generate hosts=64,luns=32] [--write-scenario F]
//	       [--api-version 8.0.3.0] [--scst-dir DIR]
package main

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
)

// User is the only account the simulator accepts (with the random password of this run).
const User = "esxpath@vsphere.local"

// scenario is the loaded scenario, kept for POST /reset.
var scenario *Scenario

func main() {
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	var (
		scenarioPath = flag.String("scenario", "", "scenario JSON file (see README.md)")
		generate     = flag.String("generate", "", "generate a big estate instead, e.g. hosts=64,luns=32[,cluster_size=16]; --scenario (or the seed lab) gives fabric and nodes")
		writeSc      = flag.String("write-scenario", "", "write the (generated) scenario to this file and exit")
		listen       = flag.String("listen", "127.0.0.1:0", "HTTPS address of the vSphere endpoint (/sdk)")
		control      = flag.String("control", "127.0.0.1:0", "HTTP address of the control API")
		envFile      = flag.String("env-file", "", "write ESXPATH_* / ESXSIM_CONTROL lines here once listening")
		certFile     = flag.String("cert-file", "", "where to write the certificate PEM (default: <env-file>.pem)")
		latencyMS    = flag.Int("latency-ms", 0, "latency added to every SOAP call")
		zeroRate     = flag.Float64("zero-rate-mbps", 0, "eager-zeroing rate of CreateVM_Task in MiB/s (0: default)")
		scstDir      = flag.String("scst-dir", "", "keep each SCST node's view here: DIR/<node>/scst_tgt/ (sysfs-shaped) and DIR/<node>/crm_mon.xml")
	)
	flag.Parse()
	scstSetDir(*scstDir)
	if err := run(*scenarioPath, *generate, *writeSc, *listen, *control, *envFile, *certFile, *latencyMS, *zeroRate); err != nil {
		log.Fatalf("esxsim: %v", err)
	}
}

func run(scPath, generate, writeSc, listen, control, envFile, certFile string, latencyMS int, zeroRate float64) error {
	start := time.Now()
	if os.Getenv("GOGC") == "" {
		// Most of the heap is the lab, alive for the whole run; at Go's default (100) a big
		// estate's collector rescans it every few MB of answers, a quarter of our CPU in a
		// 256-host audit. A real vCenter's CPU is not on the client's machine; ours is.
		debug.SetGCPercent(400)
	}
	sc, err := loadOrGenerate(scPath, generate)
	if err != nil {
		return err
	}
	if writeSc != "" {
		return writeScenario(sc, writeSc)
	}
	if envFile == "" {
		return fmt.Errorf("--env-file is required")
	}
	scenario = sc
	if err := lab.Load(sc); err != nil {
		return err
	}
	model, err := buildInventory(sc)
	if err != nil {
		return fmt.Errorf("inventory: %w", err)
	}
	lab.PublishAll()
	for _, h := range sc.Hosts { // the scenario's connection state and maintenance mode
		if err := syncHostRuntime(h.Name); err != nil {
			return err
		}
	}
	applyAPIVersion()
	if zeroRate > 0 {
		prov.mu.Lock()
		prov.zeroRate = zeroRate
		prov.mu.Unlock()
	}
	if err := installProvision(sc); err != nil {
		return fmt.Errorf("provisioning: %w", err)
	}
	runHostHooks()
	if err := scstSync(); err != nil { // scst_control.go: the SCST view of the start scenario
		return err
	}
	if latencyMS > 0 {
		mw.setBaseline(latencyRule{MS: latencyMS})
	}

	password, err := randomPassword()
	if err != nil {
		return err
	}
	sdkLn, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	ctlLn, err := net.Listen("tcp", control)
	if err != nil {
		return err
	}
	if certFile == "" {
		certFile = envFile + ".pem"
	}
	tlsConfig, err := selfSignedTLS(certFile)
	if err != nil {
		return err
	}

	svc := model.Service
	host := sdkLn.Addr().String()
	svc.Listen = &url.URL{Scheme: "https", Host: host, Path: "/sdk", User: url.UserPassword(User, password)}
	svc.RegisterSDK(simulator.Map)
	simulator.Map.SessionManager().ServiceHostName = host
	mux := http.NewServeMux()
	mux.Handle("/sdk", mw.wrap(http.HandlerFunc(svc.ServeSDK)))
	mux.Handle("/sdk/webService", mw.wrap(sdkAlias(svc.ServeSDK))) // esxcli's default path
	mux.HandleFunc("/sdk/vimServiceVersions.xml", serviceVersions(svc.ServiceVersions))
	sdkSrv := &http.Server{
		Handler:   mux,
		TLSConfig: tlsConfig,
		// HTTP/1.1 only: fault "reset" hijacks the connection, which HTTP/2 cannot.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:     log.New(os.Stderr, "sdk: ", log.Ltime),
	}
	ctlSrv := &http.Server{Handler: controlHandler()}
	go func() { log.Fatal(sdkSrv.ServeTLS(sdkLn, "", "")) }()
	go func() { log.Fatal(ctlSrv.Serve(ctlLn)) }()

	runtime.GC() // the build's garbage, before the first client rather than during (see resetLab)
	env := strings.Join([]string{
		"ESXPATH_VCENTER=https://" + host + "/sdk",
		"ESXPATH_USER=" + User,
		"ESXPATH_PASSWORD=" + password,
		"ESXPATH_CA_FILE=" + certFile,
		"ESXSIM_CONTROL=http://" + ctlLn.Addr().String(),
	}, "\n") + "\n"
	if err := writeAtomic(envFile, []byte(env), 0o600); err != nil {
		return err
	}
	lab.Lock()
	nh := len(lab.Hosts)
	lab.Unlock()
	log.Printf("esxsim: %d hosts ready in %.2fs: https://%s/sdk, control http://%s", nh,
		time.Since(start).Seconds(), host, ctlLn.Addr())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	return nil
}

func loadOrGenerate(scPath, generate string) (*Scenario, error) {
	if scPath == "" {
		exe, _ := os.Executable()
		scPath = filepath.Join(filepath.Dir(exe), "..", "scenarios", "seed-lab.json")
		if generate == "" {
			return nil, fmt.Errorf("--scenario is required (or --generate)")
		}
	}
	sc, err := LoadScenario(scPath)
	if err != nil {
		return nil, err
	}
	if generate == "" {
		return sc, nil
	}
	hosts, luns, size, err := parseGenerate(generate)
	if err != nil {
		return nil, err
	}
	return Generate(sc, hosts, luns, size), nil
}

func randomPassword() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// writeAtomic writes a file through a temporary file in the same directory and a rename, so
// that a reader polling for it never sees it half written.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
