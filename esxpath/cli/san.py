"""esxpath san: the SAN's own view. This module makes the `san` group and `san dump`; other
san commands register themselves on the group (they import `san` from here)."""
from __future__ import annotations

import datetime as dt

import click

from ..app.san import DEFAULT_SYSFS
from ..render.document import json_text
from .exit import emit, esxpath_command
from .options import CONTEXT


@click.group(context_settings=CONTEXT)
def san():
    """The SAN's own view: SCST and Pacemaker on the storage nodes, checked against ESXi."""


@esxpath_command()
@click.option("--sysfs-root", metavar="DIR", default=None,
              help=f"SCST's sysfs tree to read (default {DEFAULT_SYSFS}). The dump is "
                   "stamped as live state taken now: give only a tree SCST keeps current, "
                   "never an old copy.")
@click.option("--scst-conf", metavar="FILE",
              help="Read this scst.conf instead of the live sysfs tree (a node that is down, a "
                   "change under review); ids SCST would generate are computed.")
@click.option("--crm-mon-xml", metavar="FILE",
              help="Pacemaker's state from FILE (saved `crm_mon --output-as=xml`). Default: run "
                   "crm_mon --output-as=xml if it is installed, else the role is unknown.")
@click.option("--node", metavar="NAME",
              help="This node's name as Pacemaker knows it (default: crm_node -n, else uname -n).")
@click.option("--resource", metavar="NAME",
              help="The promotable clone (or its primitive) to read the role from, when the "
                   "cluster has several.")
@click.option("--output", "-o", "output_format", type=click.Choice(["json"]), default="json",
              show_default=True, help="Output format: one JSON document on stdout.")
def dump(sysfs_root: str | None, scst_conf: str | None, crm_mon_xml: str | None,
         node: str | None, resource: str | None, output_format: str):
    """Print this storage node's SCST state and Pacemaker role as one JSON document.

    \b
    Run it as root on each storage node (from cron, or on demand over ssh as the command given
    to `san check --san-cmd`). It reads SCST's sysfs tree (first line of each attribute) or an
    scst.conf, never writes to SCST and never talks to vCenter. The document (schema
    esxpath/san-dump/1, docs/san.md) lists setup_id, each device with the id ESXi will show
    (eui.* from eui64_id or the first 8 bytes of t10_dev_id, or naa.*; computed as SCST does
    when scst.conf sets none), device and target groups (group_id, ALUA state, preferred,
    targets with rel_tgt_id, local or the peer's, enabled), the node's targets and their LUNs,
    and the node's role: promoted, unpromoted, stopped or unknown.

    \b
    Exit codes: 0 printed; 64 usage; 78 an input missing, unreadable or malformed (the
    message names the file and, for scst.conf, the line).
    """
    from ..app.san import DumpSources
    from ..app.san import dump as read_dump
    sources = DumpSources(sysfs_root, scst_conf, crm_mon_xml, node, resource)
    doc = read_dump(sources, lambda: dt.datetime.now(dt.timezone.utc))
    emit(json_text(doc, newline=False))


san.add_command(dump)

COMMANDS = (san,)
