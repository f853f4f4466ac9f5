"""`airflow-stack`: run Airflow CLI commands (and REST calls) against a deployed stack, either flavour."""
