"""A sample plugin: a macro DAGs use to build date-partitioned paths, e.g. {{ macros.platform_macros.partition(ds) }}."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin


def partition(ds: str) -> str:
    year, month, day = ds.split("-")
    return f"year={year}/month={month}/day={day}"


class PlatformMacrosPlugin(AirflowPlugin):
    name = "platform_macros"
    macros = [partition]
