"""The command line: thin click commands over adapter -> core -> render.

Data goes to stdout, diagnostics and progress to stderr. Every outcome leaves through
errors.exit_status(), the one mapping to exit codes.
"""
from __future__ import annotations

import functools
import gc
import logging
import sys
import time

import click

from . import __version__
from .errors import EsxpathError, ExitStatus, UsageError, exit_status
from .model import (DEFAULT_DEVICE_GLOBS, DEFAULT_VENDORS, Expectation, Policy, Report, Scope,
                    Selector, Severity)

log = logging.getLogger("esxpath")

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


# ---------------------------------------------------------------- shared option groups

def vcenter_options(f):
    """Connection options; every value can come from the environment (see --help epilog)."""
    opts = [
        click.option("--vcenter", metavar="URL",
                     help="vCenter or ESXi: host, host:port or https://host/sdk. "
                          "Env: ESXPATH_VCENTER, VSPHERE_SERVER, GOVC_URL."),
        click.option("--user", metavar="NAME",
                     help="User name. Env: ESXPATH_USER, VSPHERE_USER, GOVC_USERNAME."),
        click.option("--password-file", metavar="PATH", type=click.Path(dir_okay=False),
                     help="File whose first line is the password (mode 0600). Otherwise "
                          "ESXPATH_PASSWORD / VSPHERE_PASSWORD / GOVC_PASSWORD, or a hidden prompt."),
        click.option("--ca-file", metavar="PEM", type=click.Path(dir_okay=False),
                     help="CA bundle to verify the server certificate. Env: ESXPATH_CA_FILE, "
                          "GOVC_TLS_CA_CERTS."),
        click.option("--insecure", is_flag=True,
                     help="Do not verify the server certificate (warns; for labs only)."),
        click.option("--timeout", type=click.FloatRange(min=1), default=60, show_default=True,
                     help="Seconds per vSphere call."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def scope_options(f):
    opts = [
        click.option("--datacenter", metavar="NAME", help="Only hosts in this datacenter."),
        click.option("--cluster", metavar="NAME", help="Only hosts in this cluster."),
        click.option("--host", "hosts", metavar="NAME", multiple=True,
                     help="Only this host (repeatable)."),
        click.option("--device", "devices", metavar="GLOB", multiple=True,
                     help="Device canonical-name glob (repeatable). Default: eui.*"),
        click.option("--vendor", "vendors", metavar="VENDOR", multiple=True,
                     help="SCSI vendor (repeatable). Default: SCST_BIO, SCST_FIO."),
        click.option("--parallel", type=click.IntRange(1, 64), default=8, show_default=True,
                     help="Hosts worked on at once."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def output_options(f):
    return click.option("--output", "-o", "fmt", type=click.Choice(["table", "json"]),
                        default="table", show_default=True, help="Output format.")(f)


def policy_options(f):
    opts = [
        click.option("--psp", type=click.Choice(["VMW_PSP_RR"]), default="VMW_PSP_RR",
                     show_default=True, help="Path selection policy wanted."),
        click.option("--iops", type=click.IntRange(min=1), default=None,
                     help="Round Robin IOPS limit wanted (default 1, as in the SCST setup)."),
        click.option("--latency", is_flag=True,
                     help="Use the latency-based Round Robin limit instead of --iops."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


# ---------------------------------------------------------------- state kept per invocation

class Runtime:
    """Per-invocation state: the options of the group and a lazily opened session."""

    def __init__(self, verbose: int, cassette: tuple[str, str] | None = None):
        self.verbose = verbose
        self.cassette = cassette  # (path, "record" | "replay") from --record / --replay
        self._session = None

    def session(self, kw: dict):
        if self._session is None:
            from .credentials import Target, resolve
            from .vsphere import ConnectOptions, connect

            if self.cassette:  # entered before connect, left after logout (the root closes last)
                from .vsphere.recording import recording
                cassette = recording(*self.cassette)
                cassette.__enter__()
                # Not with_resource: click would throw its Exit into the cassette, which then
                # could not check on the way out that the replay played everything.
                click.get_current_context().find_root().call_on_close(
                    lambda: cassette.__exit__(None, None, None))
            if self.cassette is not None and self.cassette[1] == "replay":
                # the cassette answers: no address, user, password or CA needed
                target = Target("https://vcenter.invalid/sdk", "replay@esxpath.invalid", "replay")
                ca_file, insecure = None, False
            else:
                prompt = _hidden_prompt if sys.stdin.isatty() else None
                target = resolve(kw.get("vcenter"), kw.get("user"), kw.get("password_file"), prompt)
                ca_file, insecure = kw.get("ca_file") or _env_ca(), bool(kw.get("insecure"))
            if insecure:
                click.echo("esxpath: warning: --insecure: the server certificate is NOT verified",
                           err=True)
            self._session = connect(ConnectOptions(
                url=target.url, user=target.user, password=target.password,
                ca_file=ca_file, insecure=insecure,
                timeout=kw.get("timeout") or 60))
            click.get_current_context().call_on_close(self.close)
        return self._session

    def close(self):
        if self._session is not None:
            try:
                self._session.close()
            finally:
                self._session = None


def _hidden_prompt(text: str) -> str:
    return click.prompt(text, hide_input=True, err=True)


def _env_ca():
    from .credentials import CA_VARS, first_env
    return first_env(CA_VARS)


def scope_from(kw) -> Scope:
    return Scope(datacenter=kw.get("datacenter"), cluster=kw.get("cluster"),
                 hosts=tuple(kw.get("hosts") or ()))


def selector_from(kw) -> Selector:
    return Selector(device_globs=tuple(kw.get("devices") or DEFAULT_DEVICE_GLOBS),
                    vendors=tuple(kw.get("vendors") or DEFAULT_VENDORS))


def policy_from(kw, claim_rule=False) -> Policy:
    if kw.get("latency") and kw.get("iops") is not None:
        raise UsageError("--iops and --latency exclude each other")
    psp = kw.get("psp") or "VMW_PSP_RR"
    if kw.get("latency"):
        return Policy(psp=psp, limit_type="latency", iops=None, claim_rule=claim_rule)
    return Policy(psp=psp, limit_type="iops", iops=kw.get("iops") or 1, claim_rule=claim_rule)


def emit(text: str):
    if text:
        click.echo(text.rstrip("\n"))


def fail(message: str):
    click.echo(f"esxpath: error: {message}", err=True)


def command(monitoring=False):
    """Run a command body; map its outcome (a status, or an exception) through exit_status()."""
    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kw):
            try:
                status = fn(*args, **kw)
            except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
                raise
            except KeyboardInterrupt as e:
                fail("interrupted")
                status = exit_status(e)
            except EsxpathError as e:
                fail(str(e))
                status = exit_status(e, monitoring=monitoring)
                _error_document(fn.__name__, kw, str(e), monitoring)
            except Exception as e:  # a bug: one line, the traceback only with -v
                log.debug("unexpected error", exc_info=True)
                message = f"internal error: {type(e).__name__}: {e} (run with -v for details)"
                fail(message)
                status = exit_status(e, monitoring=monitoring)
                _error_document(fn.__name__, kw, message, monitoring)
            click.get_current_context().exit(int(status or ExitStatus.OK))
        return wrapper
    return deco


def _error_document(name, kw, message, monitoring):
    """A failed run still gives machine readers their format: JSON readers the esxpath/1
    document, Nagios a status line, node_exporter a status metric."""
    from .output import render_error
    fmt = kw.get("fmt")
    if fmt == "json" or (monitoring and fmt in ("nagios", "prometheus")):
        emit(render_error(message, fmt, command=name))
    if monitoring and kw.get("prom_file"):
        from .promfile import write_atomic
        write_atomic(kw["prom_file"], render_error(message, "prometheus"))


# ---------------------------------------------------------------- the group

@click.group(context_settings=CONTEXT, epilog="""\b
Connection from the environment (no password on the command line):
  ESXPATH_VCENTER, ESXPATH_USER, ESXPATH_PASSWORD, ESXPATH_CA_FILE
  (also VSPHERE_SERVER/VSPHERE_USER/VSPHERE_PASSWORD and GOVC_URL/GOVC_USERNAME/
  GOVC_PASSWORD/GOVC_TLS_CA_CERTS)

Exit codes: 0 ok, 1 drift, 2 danger/unsafe, 3 could not verify, 64 usage, 65 scope matched
nothing, 69 connection/TLS, 70 internal error, 77 authentication, 78 configuration,
130 interrupted.""")
@click.version_option(__version__, "--version", prog_name="esxpath")
@click.option("-v", "--verbose", count=True, help="Log to stderr (-vv: debug).")
@click.option("--record", "record_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Record the vSphere session to FILE (credentials scrubbed) to report a problem.")
@click.option("--replay", "replay_file", metavar="FILE",
              type=click.Path(exists=True, dir_okay=False),
              help="Answer from FILE (made by --record) instead of vCenter; give the same command.")
@click.pass_context
def main(ctx, verbose, record_file, replay_file):
    """Configure and verify ESXi storage multipathing for SCST/ALUA SANs through vCenter.

    Finds the SCST eui.* LUNs on every host in scope, sets VMW_PSP_RR with an IOPS limit of 1
    (plan first, idempotent), audits path states per ALUA target port group, and gates planned
    controller failovers.
    """
    logging.basicConfig(
        level=logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG,
        format="esxpath: %(levelname)s: %(message)s", stream=sys.stderr)
    if record_file and replay_file:
        raise click.UsageError("--record and --replay exclude each other")
    ctx.obj = Runtime(verbose, (record_file, "record") if record_file
                      else (replay_file, "replay") if replay_file else None)


def read(rt: Runtime, kw, selector=None, **extra):
    from .vsphere import read_inventory
    # The inventory (~1M objects at 256 hosts x 32 LUNs, none cyclic) lives until the command
    # ends. Left in the collector's view, every full pass afterwards (verify and rendering make
    # a few) rescans all of it for nothing: ~0.3 s of CPU at that size. Frozen, later passes see
    # only what is new. Only the CLI does this: it owns the process and its lifetime.
    # (read_inventory itself pauses the collector while it reads.)
    try:
        return read_inventory(rt.session(kw), scope_from(kw), selector or selector_from(kw),
                              parallel=kw.get("parallel") or 8, **extra)
    finally:
        gc.freeze()


def require_devices(inventory, selector):
    if not any(selector.matches(d) for h in inventory.hosts for d in h.devices) and \
            all(h.verifiable for h in inventory.hosts):
        from .errors import ScopeError
        raise ScopeError("no device in scope matches " + ", ".join(selector.device_globs)
                         + " with vendor " + "/".join(selector.vendors))


@main.command(context_settings=CONTEXT)
@vcenter_options
@scope_options
@output_options
@click.pass_obj
@command()
def show(rt, **kw):
    """Show policy and path counts per host and device (read-only)."""
    from .output import render
    selector = selector_from(kw)
    inv = read(rt, kw, selector)
    require_devices(inv, selector)
    report = Report(command="show", inventory=inv, selector=selector)
    emit(render(report, kw["fmt"]))
    return exit_status(severity=report.status)  # UNKNOWN when a host could not be read


@main.command(context_settings=CONTEXT)
@vcenter_options
@scope_options
@policy_options
@click.option("--claim-rule", is_flag=True,
              help="Also add SATP claim rules (VMW_SATP_ALUA, vendor, VMW_PSP_RR, iops=1, tpgs_on) "
                   "so LUNs presented later come up right.")
@click.option("--dry-run", is_flag=True, help="Show the plan and write nothing.")
@output_options
@click.pass_obj
@command()
def apply(rt, **kw):
    """Set Round Robin with IOPS=1 on the SCST LUNs in scope: plan, write, re-read, verify.

    Only devices whose policy differs are written; a second run on a compliant estate writes
    nothing. Devices outside the scope (other vendors, local disks) are never touched.
    """
    from .output import render
    from .plan import plan as make_plan
    from .verify import verify_applied
    policy = policy_from(kw, claim_rule=kw["claim_rule"])
    selector = selector_from(kw)
    inv = read(rt, kw, selector, satp_rules=policy.claim_rule)
    require_devices(inv, selector)
    the_plan = make_plan(inv, selector, policy)
    if kw["dry_run"] or the_plan.empty:
        report = Report(command="apply", inventory=inv, selector=selector, plan=the_plan,
                        dry_run=kw["dry_run"])
        emit(render(report, kw["fmt"]))
        return exit_status(severity=report.status)
    if kw["fmt"] == "table":
        click.echo(f"esxpath: applying {len(the_plan.changes)} change(s)", err=True)
    from .vsphere import apply_changes
    results = apply_changes(rt.session(kw), inv, the_plan.changes, parallel=kw["parallel"])
    after = read(rt, kw, selector, satp_rules=policy.claim_rule)
    findings = verify_applied(after, the_plan)
    report = Report(command="apply", inventory=after, selector=selector, plan=the_plan,
                    results=tuple(results), findings=tuple(findings))
    emit(render(report, kw["fmt"]))
    # a failed change is DRIFT; a host that could not be read (before or after) is UNKNOWN
    return exit_status(severity=report.status)


def parse_expect(text: str | None) -> dict:
    if not text:
        return {}
    out = {}
    for item in text.split(","):
        key, _, value = item.partition("=")
        key = key.strip().lower()
        if key not in ("ao", "ano") or not value.strip().isdigit():
            raise UsageError(f"--expect takes ao=N,ano=N, not {text!r}")
        out[key] = int(value)
    return out


@main.command(context_settings=CONTEXT)
@vcenter_options
@scope_options
@policy_options
@click.option("--format", "fmt", type=click.Choice(["table", "json", "nagios", "prometheus"]),
              default="table", show_default=True, help="Output format.")
@click.option("--prom-file", metavar="PATH",
              help="Also write Prometheus metrics to PATH atomically (node_exporter textfile).")
@click.option("--expect", metavar="ao=N,ano=N", help="Exact path counts per device.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing when all is well (for cron).")
@click.pass_obj
@command(monitoring=True)
def audit(rt, **kw):
    """Read-only compliance check for cron and monitoring.

    \b
    Exit codes (Nagios): 0 compliant; 1 drift (policy or IOPS limit not as wanted, path counts
    asymmetric between hosts); 2 danger (no AO or no ANO path, a dead path, a LUN missing on a
    host); 3 could not verify (host unreachable, esxcli failure, authentication).
    """
    from .output import render
    from .verify import audit as run_audit
    policy = policy_from(kw)
    exp = parse_expect(kw["expect"])
    selector = selector_from(kw)
    inv = read(rt, kw, selector)
    findings = run_audit(inv, selector, policy, Expectation(**exp))
    report = Report(command="audit", inventory=inv, selector=selector, findings=tuple(findings))
    if kw["prom_file"]:
        from .promfile import write_atomic
        write_atomic(kw["prom_file"], render(report, "prometheus"))
    if not (kw["quiet"] and report.severity == Severity.OK):
        emit(render(report, kw["fmt"]))
    return exit_status(severity=report.severity)


@main.command(context_settings=CONTEXT)
@vcenter_options
@scope_options
@click.option("--to-tpg", type=click.IntRange(min=0), metavar="ID",
              help="Target port group that will take over (default: the one group now "
                   "non-optimized). Refused if it is the active/optimized group now.")
@click.option("--from-tpg", type=click.IntRange(min=0), metavar="ID",
              help="With --after-failover: the group that was AO before the move (instead of "
                   "--to-tpg); done when another group is AO.")
@click.option("--min-paths", type=click.IntRange(min=1), default=1, show_default=True,
              help="Live paths the taking-over group needs per host and device.")
@click.option("--allow-redundancy-loss", is_flag=True,
              help="Accept a takeover group with fewer live paths than the host's AO paths now "
                   "(still at least --min-paths); the output says so.")
@click.option("--wait", type=click.FloatRange(min=0), default=0, metavar="SECONDS",
              help="Retry until safe (or, with --after-failover, converged) or the time is up.")
@click.option("--interval", type=click.FloatRange(min=0.1), default=2, show_default=True,
              help="Seconds between retries.")
@click.option("--after-failover", is_flag=True,
              help="Wait until the new group (--to-tpg, or any but --from-tpg) is AO with live "
                   "paths on every host and device; report how long each host took.")
@output_options
@click.pass_obj
@command()
def check(rt, **kw):
    """Pre-failover gate: exit 0 only when a failover costs no host its paths or redundancy.

    \b
    Safe only if, on every connected host and in-scope device: the takeover group (--to-tpg,
    default the one group now ANO) is not AO now; its live ANO paths are at least --min-paths
    and at least the host's live AO paths now; the host was read completely, sees the groups as
    the other hosts do, and the device is NMP-claimed, VMW_PSP_RR and operational.
    Exit: 0 safe, 2 not safe (reasons printed, one a line), 3 could not verify, 64 usage.
    """
    from .gate import REDUNDANCY_WAIVER, after_failover, check as run_check, takeover_groups
    from .output import render
    after = kw["after_failover"]
    if after and kw["to_tpg"] is None and kw["from_tpg"] is None:
        raise UsageError("--after-failover needs --to-tpg ID (the group taking over) or "
                         "--from-tpg ID (the group that was AO before the move)")
    if kw["from_tpg"] is not None and not after:
        raise UsageError("--from-tpg goes with --after-failover")
    if kw["from_tpg"] is not None and kw["from_tpg"] == kw["to_tpg"]:
        raise UsageError("--from-tpg and --to-tpg name the same group")
    selector = selector_from(kw)
    exp = Expectation(min_paths=kw["min_paths"], to_tpg=kw["to_tpg"], from_tpg=kw["from_tpg"],
                      allow_redundancy_loss=kw["allow_redundancy_loss"])
    deadline = time.monotonic() + kw["wait"]
    start = time.monotonic()
    done_at: dict[str, float] = {}
    while True:
        inv = read(rt, kw, selector)
        if after:
            findings = tuple(after_failover(inv, selector, exp))
            bad_hosts = {f.host for f in findings if f.severity > Severity.OK}
            now = time.monotonic() - start
            for h in inv.hosts:
                if h.name not in bad_hosts and h.verifiable:
                    done_at.setdefault(h.name, round(now, 3))
        else:
            findings = tuple(run_check(inv, selector, Policy(), exp))
        safe = not any(f.severity > Severity.OK for f in findings)
        if safe or time.monotonic() >= deadline:
            break
        log.info("not yet: %d reason(s); retrying in %.1fs", len(findings), kw["interval"])
        time.sleep(min(kw["interval"], max(0.0, deadline - time.monotonic())))
    timings = tuple((h.name, done_at.get(h.name)) for h in inv.hosts) if after else ()
    targets = () if after else tuple(sorted(takeover_groups(inv, selector, exp).items()))
    waivers = (REDUNDANCY_WAIVER,) if kw["allow_redundancy_loss"] and not after else ()
    report = Report(command="check", inventory=inv, selector=selector, findings=findings,
                    timings=timings, targets=targets, waivers=waivers)
    emit(render(report, kw["fmt"]))
    return exit_status(severity=report.status)


@main.command(context_settings=CONTEXT)
@vcenter_options
@scope_options
@click.option("--interval", type=click.FloatRange(min=0.2), default=1, show_default=True,
              help="Seconds between polls.")
@click.option("--duration", type=click.FloatRange(min=0), default=120, show_default=True,
              help="Seconds to watch (Ctrl-C ends early and still prints the timeline).")
@click.option("--until-switched", is_flag=True,
              help="Stop as soon as every host has a newly AO group on all devices.")
@output_options
@click.pass_obj
@command()
def watch(rt, **kw):
    """Poll path and TPG states during a failover; print a timeline per host (read-only).

    Per host: which group was AO before and after, when AO left the old group, how long until
    the new group was AO on every device, and the dead paths seen, then every change. Start it
    before the failover. Exit 0; 2 when a host switched on some devices only or ended without
    an AO group; 3 when a host could never be read.
    """
    from .timeline import build_timeline, render_timeline
    selector = selector_from(kw)
    samples = []
    deadline = time.monotonic() + kw["duration"]
    try:
        while True:
            began = time.monotonic()
            inv = read(rt, kw, selector)
            samples.append((time.time(), inv))  # when the read finished: the state is at least this old
            if len(samples) == 1:  # esxpath-failover waits for this line before it moves
                click.echo(f"esxpath: watching {len(inv.hosts)} host(s) every {kw['interval']:g}s"
                           f" for up to {kw['duration']:g}s", err=True)
            if kw["until_switched"] and build_timeline(samples, selector).all_switched:
                break
            if time.monotonic() >= deadline:
                break
            pause = kw["interval"] - (time.monotonic() - began)
            time.sleep(max(0.0, min(pause, deadline - time.monotonic())))
    except KeyboardInterrupt:
        if not samples:
            raise
        click.echo("esxpath: interrupted; the timeline so far:", err=True)
    tl = build_timeline(samples, selector)
    emit(render_timeline(tl, kw["fmt"], samples[-1][1]))
    return {"OK": ExitStatus.OK, "DANGER": ExitStatus.DANGER}.get(tl.status, ExitStatus.UNKNOWN)


# Commands kept in their own module; imported last because they use the group and decorators.
from . import cli_provision  # noqa: E402,F401  (provision, unprovision, fio-job, fio-report)


def run(argv=None) -> int:
    """Console entry point: click's own usage errors also leave through the ExitStatus enum."""
    try:
        status = main.main(args=argv, prog_name="esxpath", standalone_mode=False)
    except click.exceptions.Exit as e:
        status = e.exit_code
    except click.UsageError as e:
        e.show()
        status = ExitStatus.USAGE
    except click.ClickException as e:
        e.show()
        status = ExitStatus.USAGE
    except (click.Abort, KeyboardInterrupt):
        fail("interrupted")
        status = ExitStatus.INTERRUPTED
    except EsxpathError as e:  # raised while closing, e.g. a replay that did not match
        fail(str(e))
        status = exit_status(e)
    sys.exit(int(status or 0))


if __name__ == "__main__":  # pragma: no cover
    run()
