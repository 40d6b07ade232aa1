"""Option types and the single options the commands share: each value is checked while the
command line is parsed, before anything runs."""
from __future__ import annotations

import math

import click

from ..app.credentials import Target, split_userinfo
from ..app.files import NotRegularFile, check_output
from ..errors import ConfigError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class FiniteFloat(click.FloatRange):
    """A FloatRange that refuses nan and inf: `--wait nan` would never time out (every
    comparison with nan is false) and `--timeout inf` never gives up."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if math.isnan(number) or math.isinf(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def seconds(min: float) -> FiniteFloat:
    return FiniteFloat(min=min)


class Duration(click.ParamType):
    """A duration such as 90s, 15m, 2h or 1d (a bare number is seconds), as seconds."""

    name = "duration"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            return float(value)
        from ..core.storage_events import parse_duration
        try:
            return parse_duration(value)
        except ValueError as e:
            self.fail(str(e), param, ctx)


class VcenterUrl(click.ParamType):
    """--vcenter / ESXPATH_VCENTER: split here, once; GOVC_URL may carry user:password@."""

    name = "url"

    def convert(self, value, param, ctx):
        if isinstance(value, Target):
            return value
        try:
            return split_userinfo(value)
        except ValueError as e:  # e.g. a port that is not a number; never echo the value
            self.fail(f"not a vCenter URL: {e}", param, ctx)


class OutputFile(click.ParamType):
    """A file esxpath writes (--prom-file, --record): absent or a regular file; a device node,
    FIFO, directory or socket is refused here, before anything runs, with exit 78 (audit too:
    nothing was audited yet) and left untouched (esxpath/app/files.py says why only regular
    ones). The writer checks again (files.write_atomic); a write that fails for another reason
    (no such directory) fails when it is made."""

    name = "file"

    def convert(self, value, param, ctx):
        try:
            check_output(value)
        except NotRegularFile as e:
            option = param.opts[0] if param is not None else "the output file"
            raise ConfigError(f"{option} {value}: {e.strerror or e}: refused, nothing written"
                              ) from None
        except OSError:  # the write fails too, and says why (the write's own error: audit's 3)
            pass
        return value

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem
        return [CompletionItem(incomplete, type="file")]  # the shell completes file names


# the one --config (the commands with vcenter_options, and the exporter)
config_option = click.option(
    "--config", metavar="FILE", type=click.Path(), envvar="ESXPATH_CONFIG",
    help="Config file with the profiles. Default: the first found of "
         "/etc/esxpath/esxpath.toml, ~/.config/esxpath/esxpath.toml (no merging). "
         "Env: ESXPATH_CONFIG.")


def output_options(*formats: str, aliases: tuple[str, ...] = ()):
    """-o/--output (value `fmt`): table or json unless `formats` says more; `aliases` are
    further spellings of the same option (audit's --format, used by existing cron lines)."""
    return click.option("--output", "-o", *aliases, "fmt",
                        type=click.Choice(formats or ("table", "json")), default="table",
                        show_default=True, help="Output format.")


def lock_option(f):
    return click.option("--wait-lock", type=seconds(min=0), default=0, metavar="SECONDS",
                        help="Wait this long for another esxpath that is writing to the same "
                             "vCenter from this machine (default: fail at once, exit 75).")(f)
