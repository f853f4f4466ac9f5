"""A sample DAG: reads the Variable `greeting`, which Airflow finds in AWS Secrets Manager.

Seed it with `pulumi config set --secret --path 'airflow.variables.greeting' '<text>'` and `pulumi up`.
"""

from __future__ import annotations

from datetime import datetime

from airflow.decorators import dag, task
from airflow.models import Variable


@dag(
    dag_id="hello_secrets",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example"],
    doc_md=__doc__,
)
def hello_secrets():
    @task
    def read_greeting() -> str:
        greeting = Variable.get("greeting", default_var=None)
        if greeting is None:
            raise ValueError("Variable 'greeting' not found: seed it as airflow.variables.greeting (see docs/deploying.md)")
        print(f"greeting: {greeting}")
        return greeting

    @task
    def announce(greeting: str) -> None:
        print(f"announced: {greeting.upper()}")

    announce(read_greeting())


hello_secrets()
