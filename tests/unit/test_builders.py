"""The pure builders: archives, file selection, Airflow options, subnet layout."""

from __future__ import annotations

import json
import os
import zipfile
from io import BytesIO

import pytest

from stackconfig.airflow_options import SECRETS_MANAGER_BACKEND, configuration_options, secrets_backend_options
from components.shared.dag_files import asset_files
from components.shared.plugins_archive import build_folder_zip, write_plugins_zip
from stackconfig.network import NetworkSettings


@pytest.fixture
def plugins(tmp_path):
    folder = tmp_path / "plugins"
    (folder / "pkg").mkdir(parents=True)
    (folder / "a.py").write_text("A = 1\n")
    (folder / "pkg" / "b.py").write_text("B = 2\n")
    (folder / "pkg" / "__pycache__").mkdir()
    (folder / "pkg" / "__pycache__" / "b.cpython-311.pyc").write_bytes(b"\0")
    (folder / ".DS_Store").write_bytes(b"x")
    return folder


def test_plugins_zip_is_byte_identical_across_builds_and_timestamps(plugins):
    first = build_folder_zip(plugins)
    os.utime(plugins / "a.py", (1_000_000, 1_000_000))
    assert build_folder_zip(plugins) == first
    names = zipfile.ZipFile(BytesIO(first)).namelist()
    assert names == ["a.py", "pkg/b.py"]


def test_plugins_zip_changes_with_content(plugins):
    first = build_folder_zip(plugins)
    (plugins / "a.py").write_text("A = 2\n")
    assert build_folder_zip(plugins) != first


def test_written_archive_is_named_by_content(plugins, tmp_path):
    path = write_plugins_zip(plugins, tmp_path / "build")
    assert path.read_bytes() == build_folder_zip(plugins)
    assert write_plugins_zip(plugins, tmp_path / "build") == path


def test_asset_files_keep_airflowignore_and_skip_litter(tmp_path):
    (tmp_path / ".airflowignore").write_text("scratch/\n")
    (tmp_path / "dag.py").write_text("")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "dag.pyc").write_bytes(b"")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.py").write_text("")
    assert [rel for rel, _ in asset_files(tmp_path)] == [".airflowignore", "dag.py"]
    assert asset_files(tmp_path / "missing") == []


def test_secrets_backend_options_are_what_airflow_reads():
    options = secrets_backend_options(connections_prefix="x/connections", variables_prefix="x/variables", variables_lookup_pattern="^team_")
    assert options["secrets.backend"] == SECRETS_MANAGER_BACKEND
    assert json.loads(options["secrets.backend_kwargs"]) == {
        "connections_prefix": "x/connections",
        "variables_prefix": "x/variables",
        "variables_lookup_pattern": "^team_",
    }


def test_backend_options_win_over_nothing_and_user_options_are_text():
    merged = configuration_options({"core.parallelism": 8}, {"secrets.backend": "b"})
    assert merged == {"core.parallelism": "8", "secrets.backend": "b"}


def test_default_subnets_do_not_overlap_and_fit_the_vpc():
    import ipaddress

    network = NetworkSettings(cidr="10.8.0.0/20", availability_zones=["eu-west-1a", "eu-west-1b", "eu-west-1c"])
    private, public = network.subnet_cidrs()
    nets = [ipaddress.IPv4Network(c) for c in private + public]
    assert len(nets) == 6
    assert all(n.subnet_of(ipaddress.IPv4Network("10.8.0.0/20")) for n in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
