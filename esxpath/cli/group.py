"""The `esxpath` click group, its commands registered from one module per family, and run(),
the console entry point."""
from __future__ import annotations

import logging
import sys

import click

from .. import __version__
from ..app.session import Runtime
from ..errors import EsxpathError, Terminated, UsageError, exit_status
from . import apply, config_cmd, exporter, gate, provision, report, san, san_check
from .exit import fail
from .options import CONTEXT, OutputFile
from .signals import terminate_as_interrupt


@click.group(context_settings=CONTEXT, epilog="""\b
Connection from the environment (no password on the command line):
  ESXPATH_VCENTER, ESXPATH_USER, ESXPATH_PASSWORD, ESXPATH_CA_FILE
  (also VSPHERE_SERVER/VSPHERE_USER/VSPHERE_PASSWORD and GOVC_URL/GOVC_USERNAME/
  GOVC_PASSWORD/GOVC_TLS_CA_CERTS)

Exit codes: 0 ok, 1 drift, 2 danger/unsafe, 3 could not verify, 64 usage, 65 scope matched
nothing, 69 connection/TLS, 70 internal error, 75 busy (another writer), 77 authentication,
78 configuration, 130 interrupted, 143 terminated.""")
@click.version_option(__version__, "--version", prog_name="esxpath")
@click.option("-v", "--verbose", count=True, help="Log to stderr (-vv: debug).")
@click.option("--record", "record_file", metavar="FILE", type=OutputFile(),
              help="Record the vSphere session to FILE (credentials scrubbed) to report a problem; "
                   "anything there but a regular file is refused (exit 78).")
@click.option("--replay", "replay_file", metavar="FILE",
              type=click.Path(exists=True),  # missing: 64; not a regular file: 78 (recording)
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
    terminate_as_interrupt()  # SIGTERM leaves as Ctrl-C does: the report, exit 143
    ctx.obj = Runtime(verbose, (record_file, "record") if record_file
                      else (replay_file, "replay") if replay_file else None,
                      prompt=_hidden_prompt if sys.stdin.isatty() else None, say=_say)
    # the root closes last: the logout, then the cassette (which checks a replay played it all)
    ctx.call_on_close(ctx.obj.close)


def _hidden_prompt(text: str) -> str:
    return click.prompt(text, hide_input=True, err=True)


def _say(line: str) -> None:
    click.echo(line, err=True)


# san_check registers on the san group
for _family in (report, apply, gate, provision, san, san_check, exporter, config_cmd):
    for _command in _family.COMMANDS:
        main.add_command(_command)


def run(argv=None):
    """Console entry point: click's own usage errors also leave through exit_status()."""
    try:
        status = main.main(args=argv, prog_name="esxpath", standalone_mode=False)
    except click.exceptions.Exit as e:
        status = e.exit_code
    except click.ClickException as e:  # usage errors, and click's file errors
        e.show()
        status = exit_status(UsageError(e.format_message()))
    except (click.Abort, KeyboardInterrupt) as e:
        fail("terminated" if isinstance(e, Terminated) else "interrupted")
        status = exit_status(e if isinstance(e, KeyboardInterrupt) else KeyboardInterrupt())
    except EsxpathError as e:  # raised while closing, e.g. a replay that did not match
        fail(str(e))
        status = exit_status(e)
    sys.exit(int(status or 0))
