"""The twin: the self-managed deployment's Airflow run on this machine without Docker or a cluster, from the very
objects k8s/ renders (`make local`, and the runtime tests)."""
