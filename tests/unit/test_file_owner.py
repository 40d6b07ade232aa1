"""The config file and password files: checked on the open descriptor, and owned by the user
running esxpath or by root (another user could change the vCenter, the CA or the password).
The tests run as root: a file of uid 65534 (nobody) is another user's."""
from __future__ import annotations

import os

import pytest

from esxpath.app import config
from esxpath.app.credentials import read_password_file
from esxpath.errors import ConfigError

NOBODY = 65534


def test_the_tests_run_as_root():
    assert os.geteuid() == 0, "these tests chown files to another user: run them as root"


def test_a_password_file_of_another_user_is_refused(tmp_path):
    pw = tmp_path / "vc.pw"
    pw.write_text("s3cret\n")
    pw.chmod(0o600)
    assert read_password_file(str(pw)) == "s3cret"
    os.chown(pw, NOBODY, -1)
    with pytest.raises(ConfigError, match=f"password file {pw} is owned by uid {NOBODY}"):
        read_password_file(str(pw))


def test_a_config_of_another_user_is_refused(tmp_path):
    cfg = tmp_path / "esxpath.toml"
    cfg.write_text('[vcenter.lab]\nserver = "vc"\n')
    cfg.chmod(0o644)
    assert list(config.load(str(cfg), {}).profiles) == ["lab"]
    os.chown(cfg, NOBODY, -1)
    with pytest.raises(ConfigError, match=f"config {cfg} is owned by uid {NOBODY}.*chown"):
        config.load(str(cfg), {})


def test_a_profiles_password_file_of_another_user_is_refused_as_the_config_is_read(tmp_path):
    pw = tmp_path / "vc.pw"
    pw.write_text("s3cret\n")
    pw.chmod(0o600)
    os.chown(pw, NOBODY, -1)
    cfg = tmp_path / "esxpath.toml"
    cfg.write_text('[vcenter.lab]\nserver = "vc"\npassword_file = "vc.pw"\n')
    with pytest.raises(ConfigError, match=r"\[vcenter.lab\] password file .* owned by uid 65534"):
        config.load(str(cfg), {})


def test_a_fifo_named_as_the_config_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "esxpath.toml"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(ConfigError, match="not a regular file"):
        config.load(str(fifo), {})
