"""scst.conf in scstadmin's grammar: what it parses to, and one line naming the line for what it
cannot parse."""
from __future__ import annotations

import pytest

from esxpath.errors import ExitStatus, InputError
from esxpath.san.scstconf import parse_scst_conf, tokenize

PATH = "/etc/scst.conf"


def parse(text: str):
    return parse_scst_conf(text, PATH)


def test_statements_blocks_comments_and_quotes():
    text = ('# a comment\n'
            'TARGET_DRIVER iscsi { enabled 1\n'  # text after '{' belongs to the block
            '\tIncomingUser "joe 12charsecret"   # trailing comment\n'
            '\tTARGET iqn.2006-10.net.vlnb:tgt\\#1 {\n'  # an escaped '#' is part of the name
            '\t}\n'
            '}\n')
    [drv] = tokenize(text, PATH)
    assert drv.words == ["TARGET_DRIVER", "iscsi"] and drv.line == 2
    assert [s.words for s in drv.block] == [["enabled", "1"], ["IncomingUser", "joe 12charsecret"],
                                            ["TARGET", "iqn.2006-10.net.vlnb:tgt#1"]]
    assert drv.block[2].line == 4 and drv.block[2].block == []


def test_generated_ids_use_the_setup_id_wherever_it_stands():
    state = parse("HANDLER vdisk_fileio {\n DEVICE disk01\n}\nsetup_id 0x1234\n")
    [dev] = state.devices
    assert state.setup_id == 0x1234
    assert dev.t10_dev_id == "123427cddc71-disk01" and dev.t10_vend_id == "SCST_FIO"
    assert dev.prod_id == "disk01"


def test_explicit_ids_and_defaults():
    state = parse("HANDLER vdisk_blockio {\n"
                  " DEVICE d1 {\n  t10_dev_id \"abcdefgh-x\"\n  prod_id P\n }\n"
                  " DEVICE d2 {\n  eui64_id 0x0011223344556677\n }\n"
                  "}\nHANDLER dev_disk {\n DEVICE 1:0:0:0\n}\n")
    d1, d2, passthrough = state.devices
    assert (d1.t10_dev_id, d1.prod_id, d1.t10_vend_id) == ("abcdefgh-x", "P", "SCST_BIO")
    assert d2.eui64_id == "0011223344556677"
    assert (passthrough.handler, passthrough.t10_dev_id, passthrough.t10_vend_id) == \
        ("dev_disk", None, None)


def test_target_groups_local_and_remote_targets():
    state = parse("HANDLER vdisk_blockio {\n DEVICE d\n}\n"
                  "TARGET_DRIVER qla2x00t {\n TARGET 21:00:00:24:ff:54:09:80 {\n  rel_tgt_id 7\n"
                  "  LUN 0 d {\n   read_only 1\n  }\n }\n TARGET 21:00:00:24:ff:54:09:81\n}\n"
                  "DEVICE_GROUP dg {\n DEVICE d\n TARGET_GROUP tg {\n  group_id 5\n"
                  "  TARGET 21:00:00:24:FF:54:09:80\n  TARGET 21:00:00:24:ff:54:09:99 {\n"
                  "   rel_tgt_id 9\n  }\n }\n}\n"
                  "TARGET_DRIVER copy_manager {\n TARGET copy_manager_tgt {\n  LUN 0 d\n }\n}\n")
    t1, t2 = state.targets
    assert (t1.enabled, t1.rel_tgt_id, [(lu.lun, lu.device) for lu in t1.luns]) == (False, 7, [(0, "d")])
    assert (t2.rel_tgt_id, t2.luns) == (None, ())
    [dg] = state.device_groups
    [tg] = dg.target_groups
    # SCST's default state is active; a local target reports its own rel_tgt_id (matched
    # without regard to case), a remote one the configured one
    assert (tg.group_id, tg.state, tg.preferred) == (5, "active", False)
    assert [(t.name, t.rel_tgt_id) for t in tg.targets] == [("21:00:00:24:FF:54:09:80", 7),
                                                           ("21:00:00:24:ff:54:09:99", 9)]


@pytest.mark.parametrize("text, line, what", [
    ("HANDLER vdisk_blockio {\n DEVICE d\n", 1, "never closed"),
    ("HANDLER vdisk_blockio {\n}\n}\n", 3, "without a matching"),
    ("{\n}\n", 1, "without a keyword"),
    ("TARGET_DRIVER iscsi {\n TARGET t { enabled 1 }\n}\n", 2, "before '}'"),
    ("TARGET_DRIVER iscsi {\n IncomingUser \"joe secret\n}\n", 2, "unterminated quote"),
    ("DEVICE d1\n", 1, "DEVICE outside"),
    ("HANDLER vdisk_blockio {\n LUN 0 d\n}\n", 2, "LUN is not allowed inside HANDLER"),
    ("HANDLER {\n}\n", 1, "HANDLER without a name"),
    ("setup_id zero\n", 1, "setup_id 'zero' is not a number"),
    ("HANDLER vdisk_blockio {\n DEVICE d {\n  eui64_id 0x1234\n }\n}\n", 3, "eui64_id '0x1234'"),
    ("HANDLER vdisk_blockio {\n DEVICE d {\n  t10_dev_id 0123456789abcdef0123456789\n }\n}\n", 3,
     "longer than 25"),
    ("TARGET_DRIVER iscsi {\n TARGET t {\n  LUN x d\n }\n}\n", 3, "LUN 'x' is not a number"),
    ("TARGET_DRIVER iscsi {\n TARGET t {\n  LUN 0\n }\n}\n", 3, "LUN needs a number and a device"),
    ("TARGET_DRIVER iscsi {\n TARGET t {\n  LUN 0 nosuch\n }\n}\n", 3, "'nosuch' is not defined"),
    ("TARGET_DRIVER iscsi {\n TARGET t {\n  enabled yes\n }\n}\n", 3, "enabled 'yes' is not 0 or 1"),
    ("DEVICE_GROUP dg {\n TARGET_GROUP tg {\n  state active\n }\n}\n", 2, "has no group_id"),
    ("DEVICE_GROUP dg {\n TARGET_GROUP tg {\n  group_id 1\n  state primary\n }\n}\n", 4,
     "'primary' is not an ALUA state"),
])
def test_unparsable_config_names_file_and_line(text, line, what):
    with pytest.raises(InputError) as e:
        parse(text)
    message = str(e.value)
    assert message.startswith(f"{PATH}: line {line}: ") and what in message, message
    assert "\n" not in message and e.value.status == ExitStatus.CONFIG
