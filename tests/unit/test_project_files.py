"""stackconfig/project_files.py: the project's files as settings, the gate and the twin read them."""

from __future__ import annotations

import pytest

from stackconfig import project_files as pf
from stackconfig.load import from_stack_file

URL = "https://raw.githubusercontent.com/apache/airflow/constraints-2.9.2/constraints-3.11.txt"


@pytest.mark.parametrize(
    "line, target",
    [
        (f"--constraint {URL}", URL),
        (f"--constraint={URL}", URL),
        (f'-c "{URL}"', URL),
        ("apache-airflow-providers-amazon", None),
        ("# --constraint commented", None),
    ],
)
def test_a_constraint_line_and_its_target(line, target):
    assert pf.constraint_target(line) == target


def test_versions_are_read_from_the_constraints_url_and_header(tmp_path):
    assert (pf.constraints_airflow_version(URL), pf.constraints_python(URL)) == ("2.9.2", "3.11")
    assert pf.requirements_airflow_version(f"boto3\n--constraint {URL}\n") == "2.9.2"
    assert pf.requirements_airflow_version("boto3\n") is None
    header = tmp_path / "c.txt"
    header.write_text("# airflow-version: 2.11.0\n# python-version: 3.12\nfoo==1\n")
    assert pf.header_value(header, "airflow-version") == "2.11.0" and pf.header_value(tmp_path / "none", "x") is None


def test_the_offered_versions_are_the_pins_in_docker():
    offered = pf.offered_image_versions()
    assert offered == sorted(offered, key=lambda v: tuple(map(int, v.split("."))))
    assert from_stack_file(pf.PROJECT_DIR, "prod").airflow.version in offered
    assert pf.image_requirements_for("2.11.2") == "docker/requirements.txt"
    assert pf.image_requirements_for("3.3.2") == "docker/requirements-3.txt"
