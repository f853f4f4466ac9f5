"""The gate's Airflow 3 check (gate/airflow3_rules.py): ruff's AIR3 rules split into what breaks a DAG on 3.x and
what is advice."""

from __future__ import annotations

from pathlib import Path

from gate import airflow3_rules

PROJECT = Path(__file__).resolve().parents[2]


def test_what_airflow_3_removed_breaks_and_what_it_deprecates_is_advice(tmp_path):
    (tmp_path / "old.py").write_text(
        "from airflow import DAG\nfrom airflow.utils.dates import days_ago\n"
        "with DAG('old', start_date=days_ago(1), schedule_interval='@daily'):\n    pass\n"
    )
    found = airflow3_rules.check([tmp_path], tmp_path)
    assert "old.py:3: AIR301 `schedule_interval` is removed in Airflow 3.0" in found.breaking
    assert any(line.startswith("old.py:3: AIR301 `airflow.utils.dates.days_ago`") for line in found.breaking)
    assert any(" AIR311 " in line for line in found.advisory) and not any(" AIR3" in b and " AIR31" in b for b in found.breaking)


def test_the_shipped_dags_break_nothing_on_airflow_3():
    found = airflow3_rules.check([PROJECT / "dags"], PROJECT)
    assert found.breaking == [] and found.advisory  # airflow.decorators still works on 3.x


def test_no_folders_no_findings(tmp_path):
    assert airflow3_rules.check([tmp_path / "missing"], tmp_path) == airflow3_rules.Findings()
