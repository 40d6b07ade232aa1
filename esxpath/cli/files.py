"""The option type of the files esxpath writes (esxpath/app/files.py says why only regular ones)."""
from __future__ import annotations

import click

from ..errors import ConfigError
from ..app.files import NotRegularFile, check_output


class OutputFile(click.ParamType):
    """A file esxpath writes (--prom-file, --record): absent or a regular file; a device node,
    FIFO, directory or socket is refused here, before anything runs, with exit 78 (audit too:
    nothing was audited yet) and left untouched. The writer checks again (files.write_atomic);
    a write that fails for another reason (no such directory) fails when it is made."""

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
