"""Password files handed over by systemd (LoadCredential=): 0400 plus an ACL entry for the
service's user, which stat shows as mode 0440. Accepted there only, and nowhere else."""
from __future__ import annotations

import pytest

from esxpath.app.credentials import read_password_file
from esxpath.errors import ConfigError


@pytest.fixture
def creds(tmp_path, monkeypatch):
    d = tmp_path / "credentials"
    d.mkdir()
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(d))
    return d


def password_file(directory, mode: int, name: str = "vc1.password"):
    p = directory / name
    p.write_text("s3cret\n", encoding="utf-8")
    p.chmod(mode)
    return p


@pytest.mark.parametrize("mode", [0o400, 0o440, 0o600])
def test_a_credential_without_other_or_write_bits_is_read(creds, mode):
    assert read_password_file(str(password_file(creds, mode))) == "s3cret"


@pytest.mark.parametrize("mode", [0o444, 0o460, 0o404, 0o450])
def test_a_credential_others_could_read_or_a_group_write_is_refused(creds, mode):
    with pytest.raises(ConfigError, match=f"has mode {mode:o}"):
        read_password_file(str(password_file(creds, mode)))


def test_group_read_outside_the_credentials_directory_is_refused(creds, tmp_path):
    with pytest.raises(ConfigError, match="has mode 440"):
        read_password_file(str(password_file(tmp_path, 0o440)))


def test_a_link_from_the_credentials_directory_to_elsewhere_is_refused(creds, tmp_path):
    target = password_file(tmp_path, 0o440)
    (creds / "vc1.password").symlink_to(target)
    with pytest.raises(ConfigError, match="has mode 440"):
        read_password_file(str(creds / "vc1.password"))


def test_without_credentials_directory_group_read_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with pytest.raises(ConfigError, match="has mode 440"):
        read_password_file(str(password_file(tmp_path, 0o440)))
