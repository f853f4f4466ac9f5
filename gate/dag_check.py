"""Runs inside the Airflow virtual environment: load the DAG folder and the plugins folder the way a scheduler does,
and print one JSON report (DAG ids, import errors, cycles, plugins, plugin import errors).

Usage: python dag_check.py <dags folder>; the plugins folder comes from AIRFLOW__CORE__PLUGINS_FOLDER.
Standard library and Airflow only: this file runs on the Airflow's Python, not the project's.
"""

import json
import sys

from airflow import plugins_manager
from airflow.models import DagBag
from airflow.utils.dag_cycle_tester import check_cycle

plugins_manager.ensure_plugins_loaded()
bag = DagBag(dag_folder=sys.argv[1], include_examples=False)
cycles = {}
for dag_id, dag in bag.dags.items():
    try:
        check_cycle(dag)
    except Exception as err:  # noqa: BLE001 - reported, not raised
        cycles[dag_id] = str(err)
report = {
    "dags": sorted(bag.dags),
    "import_errors": bag.import_errors,
    "cycles": cycles,
    "plugins": sorted(plugin.name for plugin in plugins_manager.plugins or []),
    "plugin_import_errors": dict(plugins_manager.import_errors),
}
print(json.dumps(report))
