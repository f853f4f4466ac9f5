"""Runs inside the Airflow virtual environment: load the DAG folder and the plugins folder the way a scheduler does,
and print one JSON report (DAG ids, import errors, cycles, plugins, plugin import errors).

Usage: python dag_check.py <dags folder>; the plugins folder comes from AIRFLOW__CORE__PLUGINS_FOLDER.
Standard library and Airflow only: this file runs on the Airflow's Python, not the project's.
"""

import json
import os
import sys

# Airflow 3's DagBag has no include_examples: the setting decides (read when Airflow is imported).
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"

from airflow import plugins_manager  # noqa: E402 - after the setting
from airflow.models import DagBag  # noqa: E402
from airflow.utils.dag_cycle_tester import check_cycle  # noqa: E402

plugins_manager.ensure_plugins_loaded()
try:
    bag = DagBag(dag_folder=sys.argv[1], include_examples=False)
except TypeError:  # Airflow 3
    bag = DagBag(dag_folder=sys.argv[1])
if hasattr(plugins_manager, "plugins"):  # Airflow 2: module attributes
    plugins, plugin_errors = plugins_manager.plugins or [], dict(plugins_manager.import_errors)
else:  # Airflow 3: loaded once, returned
    plugins, plugin_errors = plugins_manager._get_plugins()
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
    "plugins": sorted(plugin.name for plugin in plugins),
    "plugin_import_errors": dict(plugin_errors),
}
print(json.dumps(report))
