"""Run inside the Airflow virtual environment: load a DAG folder and report import errors and cycles as JSON."""

import json
import sys

from airflow.models import DagBag
from airflow.utils.dag_cycle_tester import check_cycle

bag = DagBag(dag_folder=sys.argv[1], include_examples=False)
cycles = {}
for dag_id, dag in bag.dags.items():
    try:
        check_cycle(dag)
    except Exception as err:  # noqa: BLE001 - reported, not raised
        cycles[dag_id] = str(err)
print(json.dumps({"dags": sorted(bag.dags), "import_errors": bag.import_errors, "cycles": cycles}))
