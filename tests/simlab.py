"""Start and steer the Go vCenter + SAN simulator (tests/sim) from Python.

Usable outside pytest (bench/ imports it):

    lab = SimLab()
    lab.start()                      # seed lab; builds tests/sim/bin/esxsim when stale
    lab.post("/failover", {"active": "storage2"})
    lab.scst_root("storage1")         # that node's SCST view: a sysfs-shaped scst_tgt tree
    lab.stop()

Failures raise SimLabError; nothing here skips.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

SIM_DIR = Path(__file__).resolve().parent / "sim"
BINARY = SIM_DIR / "bin" / "esxsim"
BUILD = SIM_DIR / "build"
SEED = SIM_DIR / "scenarios" / "seed-lab.json"
START_TIMEOUT = 120.0  # generous: a 2-core machine may be building or testing in parallel


class SimLabError(RuntimeError):
    """The simulator could not be built, started or asked."""


class ControlError(SimLabError):
    """The control API answered 4xx/5xx; .status and .body tell what."""

    def __init__(self, message: str, status: int, body: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


def _sources() -> list[Path]:
    return [p for p in SIM_DIR.glob("*.go")] + [SIM_DIR / "go.mod", BUILD]


# Test tools with no pip package: fio (Debian's fio), promtool (Debian's prometheus) and
# systemd-analyze (Debian's systemd, absent from a stock minimal image).
TEST_TOOLS = ("fio", "promtool", "systemd-analyze")


def ensure_test_tools() -> None:
    """tests/sim/build installs the TEST_TOOLS (apt-get) in the step that installs Go, so the
    README's test command needs nothing else. Fails loudly, never skips."""
    if all(shutil.which(t) for t in TEST_TOOLS):
        return
    proc = subprocess.run([str(BUILD)], capture_output=True, text=True)
    missing = [t for t in TEST_TOOLS if shutil.which(t) is None]
    if proc.returncode != 0 or missing:
        raise SimLabError(f"tests/sim/build did not install {', '.join(missing) or 'them'} "
                          f"({proc.returncode}):\n{proc.stdout}{proc.stderr}")


def ensure_built() -> Path:
    """Build the simulator when the binary is missing or older than a Go source.
    ESXSIM_BINARY names a prebuilt binary instead (e.g. one built with -race)."""
    override = os.environ.get("ESXSIM_BINARY")
    if override:
        if not Path(override).is_file():
            raise SimLabError(f"ESXSIM_BINARY={override} does not exist")
        return Path(override)
    if BINARY.exists():
        built = BINARY.stat().st_mtime
        if all(p.stat().st_mtime <= built for p in _sources()):
            return BINARY
    proc = subprocess.run([str(BUILD)], capture_output=True, text=True)
    if proc.returncode != 0 or not BINARY.exists():
        raise SimLabError(f"tests/sim/build failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return BINARY


def read_env_file(path: str | os.PathLike) -> dict[str, str]:
    env = {}
    for line in Path(path).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            env[k.strip()] = v.strip()
    return env


class SimLab:
    """One running esxsim process and its control API."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.env: dict[str, str] = {}
        self.env_file: Path | None = None
        self._dir: tempfile.TemporaryDirectory | None = None
        self._log = None
        self.scst_dir: Path | None = None  # --scst-dir: one directory per SCST storage node

    # -- lifecycle -----------------------------------------------------------------------
    def start(self, scenario: str | os.PathLike | None = SEED, *, latency_ms: int | None = None,
              extra_args=()) -> SimLab:
        """Start the simulator and wait for its env file. scenario None: only extra_args
        (e.g. --generate) choose the estate."""
        if self.proc is not None:
            raise SimLabError("already started")
        binary = ensure_built()
        self._dir = tempfile.TemporaryDirectory(prefix="esxsim-")
        env_file = Path(self._dir.name) / "esxsim.env"
        self.scst_dir = Path(self._dir.name) / "scst"
        argv = [str(binary), "--listen", "127.0.0.1:0", "--control", "127.0.0.1:0",
                "--env-file", str(env_file), "--scst-dir", str(self.scst_dir)]
        if scenario is not None:
            argv += ["--scenario", str(scenario)]
        if latency_ms is not None:
            argv += ["--latency-ms", str(int(latency_ms))]
        argv += [str(a) for a in extra_args]
        self._log = open(Path(self._dir.name) / "esxsim.log", "w+")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while not env_file.exists():
            if self.proc.poll() is not None:
                log = self.log()
                self._cleanup()
                raise SimLabError(f"esxsim exited with {self.proc.returncode}:\n{log}")
            if time.monotonic() > deadline:
                log = self.log()
                self.stop()
                raise SimLabError(f"esxsim did not start within {START_TIMEOUT}s:\n{log}")
            time.sleep(0.02)
        self.env = read_env_file(env_file)
        self.env_file = env_file  # the file as esxsim wrote it (tests of the README's use)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self._cleanup()

    def _cleanup(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._dir is not None:
            self._dir.cleanup()  # the SCST view (scst_dir) too
            self._dir = None
        self.scst_dir = None

    def log(self) -> str:
        """The simulator's output so far (for error messages)."""
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        return self._log.read()

    def __enter__(self) -> SimLab:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- env file ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.env["ESXPATH_VCENTER"]

    @property
    def user(self) -> str:
        return self.env["ESXPATH_USER"]

    @property
    def password(self) -> str:
        return self.env["ESXPATH_PASSWORD"]

    @property
    def ca_file(self) -> str:
        return self.env["ESXPATH_CA_FILE"]

    @property
    def control(self) -> str:
        return self.env["ESXSIM_CONTROL"]

    # -- SCST view (tests/sim/README.md "SCST view") -----------------------------------------
    def _scst_node_dir(self, node: str) -> Path:
        if self.scst_dir is None:
            raise SimLabError("simulator not started")
        d = self.scst_dir / node
        if not d.is_dir():
            nodes = sorted(p.name for p in self.scst_dir.iterdir()) if self.scst_dir.is_dir() else []
            raise SimLabError(f"no SCST view for node {node!r} (SCST nodes: {', '.join(nodes) or 'none'})")
        return d

    def scst_root(self, node: str) -> Path:
        """The node's SCST sysfs tree, shaped like /sys/kernel/scst_tgt."""
        return self._scst_node_dir(node) / "scst_tgt"

    def crm_mon_xml(self, node: str) -> Path:
        """What `crm_mon --output-as=xml` prints on that node."""
        return self._scst_node_dir(node) / "crm_mon.xml"

    # -- control API ---------------------------------------------------------------------
    def _call(self, method: str, path: str, body=None):
        if self.proc is None or self.proc.poll() is not None:
            raise SimLabError(f"simulator not running; log:\n{self.log()}")
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.control + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")
            raise ControlError(f"{method} {path} -> {e.code}: {detail}", e.code, detail) from None

    def get(self, path: str):
        return self._call("GET", path)

    def post(self, path: str, body=None):
        return self._call("POST", path, {} if body is None else body)

    def reset(self) -> SimLab:
        self.post("/reset")
        return self
