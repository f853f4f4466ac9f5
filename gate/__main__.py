"""`python -m gate --stack <name>`: the checks `make gate` runs before the unit tests.

1. `Pulumi.<stack>.yaml` is valid (the program's own config model), and, in Pulumi Deployments, still what the
   bootstrap built the stack's deploy role and path filters for.
2. The gate's Airflow is the stack's `airflow.version`, so that the DAGs are loaded by the Airflow that will run them.
3. The flavour's requirements resolve with apache-airflow==<airflow.version> under Airflow's constraints.
4. Every DAG file imports, no DAG has a cycle, and every plugin imports.
5. On Airflow 3, nothing in the DAGs or plugins uses what Airflow 3 removed (ruff's AIR301/AIR302; AIR311/AIR312,
   which still work, are listed).

Exit status 0 when all hold, 1 when one fails, 2 when the gate itself cannot run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Optional

from bootstrap.deployment_triggers import BUILT_FOR_VARIABLE, stale_deploy_settings
from gate import airflow3_rules
from gate.dags import airflow_version, check_dags
from gate.requirements import image_input, managed_input, resolve
from stackconfig.errors import ConfigError
from stackconfig.load import PROJECT_DIR, from_stack_file
from stackconfig.project_files import constraints_file, image_requirements_for
from stackconfig.stack_files import read_stack_config



def _stack_airflow_python(project: Path, settings, constraints_file: Optional[Path]) -> Path:
    """The Airflow the stack runs: MWAA's for a managed stack, the image's for a self-managed one."""
    from local import image_env

    version = settings.airflow.version
    if settings.managed:
        return mwaa_airflow_python(project, settings, constraints_file)
    try:
        return image_env.build(project / ".venv-image" / version, version) / "python"
    except image_env.ImageEnvError as err:
        print(f"gate: cannot build the image's Airflow {version}: {str(err)[-500:]}", file=sys.stderr)
        return project / ".venv-image" / version / "bin" / "python"


def mwaa_airflow_python(project: Path, settings, constraints_file: Optional[Path], build=None) -> Path:
    """MWAA's Airflow of the stack's version: AIRFLOW_PYTHON (or .venv-airflow, `make gate`'s 2.9.2) when it is that
    version; otherwise `.venv-mwaa/<version>`, built once on MWAA's Python for the version with what MWAA installs:
    apache-airflow==<version> and the requirements file under its --constraint line (`constraints_file` in its
    place where GitHub cannot be reached)."""
    from local import image_env

    version = settings.airflow.version
    default = Path(os.environ.get("AIRFLOW_PYTHON", PROJECT_DIR / ".venv-airflow/bin/python"))
    if default.exists() and airflow_version(default) == version:
        return default
    files = settings.files(project)
    requirements = files.requirements_file.read_text() if files.requirements_file is not None else ""
    body, python = managed_input(requirements, version, constraints_file)
    venv = project / ".venv-mwaa" / version
    print(f"gate: building MWAA's Airflow {version} on Python {python} in {venv.relative_to(project)} (once)")
    try:
        return (build or image_env.build_from)(venv, image_env.local_python(python), body) / "python"
    except image_env.ImageEnvError as err:
        print(f"gate: cannot build MWAA's Airflow {version}: {str(err)[-500:]}", file=sys.stderr)
        return venv / "bin" / "python"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="make gate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--project", type=Path, default=PROJECT_DIR, help="the folder holding Pulumi.yaml")
    parser.add_argument(
        "--airflow-python",
        type=Path,
        help="the Python of the stack's Airflow; default: MWAA's for a managed stack (AIRFLOW_PYTHON or .venv-airflow "
        "when it is the stack's version, else .venv-mwaa/<version>, built once), the image's Python layer for the "
        "stack's version (.venv-image/<version>, built once) for a self-managed one",
    )
    parser.add_argument(
        "--constraints-file",
        type=Path,
        help="a local file used in place of the --constraint URL in the MWAA requirements (for machines without GitHub)",
    )
    args = parser.parse_args(argv)
    project = args.project.resolve()
    failed = False

    def report(ok: bool, what: str, details: list[str] = ()) -> None:
        nonlocal failed
        failed = failed or not ok
        print(f"gate: {'ok  ' if ok else 'FAIL'}  {what}")
        for line in details:
            print(f"        {line}")

    try:
        settings = from_stack_file(project, args.stack)
    except FileNotFoundError as err:
        print(f"gate: cannot run: {err}", file=sys.stderr)
        return 2
    except ConfigError as err:
        report(False, f"Pulumi.{args.stack}.yaml", str(err).splitlines())
        print("gate: failed: nothing was deployed")
        return 1
    report(True, f"Pulumi.{args.stack}.yaml: {settings.flavour}, Airflow {settings.airflow.version}")

    recorded = os.environ.get(BUILT_FOR_VARIABLE)
    if recorded:  # set by the bootstrap in the stack's Pulumi Deployments settings
        stale = stale_deploy_settings(recorded, args.stack, settings, read_stack_config(project, args.stack).project)
        report(
            not stale,
            "the deploy role and path filters match the stack file"
            if not stale
            else "the stack file has changed what the bootstrap built the deploy role and path filters for: "
            "re-run the bootstrap (cd bootstrap && pulumi up) before this deployment",
            stale,
        )
        if stale:  # the deployment would fail with AccessDenied or miss its triggers: nothing else is worth checking
            print("gate: failed: nothing was deployed")
            return 1

    if args.airflow_python is None:
        args.airflow_python = _stack_airflow_python(project, settings, args.constraints_file)
    if not args.airflow_python.exists():
        print(f"gate: cannot run: no Airflow at {args.airflow_python} (make gate creates .venv-airflow)", file=sys.stderr)
        return 2
    version = settings.airflow.version
    found = airflow_version(args.airflow_python)
    report(
        found == version,
        f"the gate's Airflow is {found}; the stack runs {version}",
        [] if found == version else [f"--airflow-python is Airflow {found}: give the stack's {version}, or leave it out "
                                     "and the gate builds it"],
    )

    uv = os.environ.get("UV", "uv")
    with tempfile.TemporaryDirectory(prefix="gate-") as scratch:
        work = Path(scratch)
        files = settings.files(project)
        if settings.managed and files.requirements_file is not None:
            constraints = args.constraints_file.resolve() if args.constraints_file else None
            body, python = managed_input(files.requirements_file.read_text(), version, constraints)
            what = f"{files.requirements_file.name} resolves with apache-airflow=={version} under its constraints"
        elif settings.managed:
            body, python, what = None, "", ""
        else:
            requirements, pins = image_requirements_for(version, project), constraints_file(version)
            body, python = image_input((project / requirements).read_text(), version, project / pins)
            what = f"{requirements} resolves with apache-airflow=={version} under {pins}"
        if body is not None:
            resolution = resolve(what, body, python, uv=uv, workdir=work)
            report(resolution.ok, resolution.what, resolution.detail.splitlines()[-12:])

        plugins_dir = project / settings.airflow.plugins_dir if settings.airflow.plugins_dir else None
        plugins = plugins_dir if plugins_dir is not None and plugins_dir.is_dir() else None
        home = work / "airflow-home"
        home.mkdir()
        dags = check_dags(args.airflow_python, files.dags_dir, plugins, home)
        summary = f"{files.dags_dir.name}/: {len(dags.dags)} DAG(s) load without errors or cycles"
        if plugins is not None:
            summary += f"; {plugins.name}/: {len(dags.plugins)} plugin(s) import"
        report(not dags.problems, summary, dags.problems)

        if int(version.split(".")[0]) >= 3:
            findings = airflow3_rules.check([files.dags_dir, *([plugins] if plugins else [])], project)
            report(
                not findings.breaking,
                f"{files.dags_dir.name}/ uses nothing Airflow {version} removed (ruff {', '.join(airflow3_rules.BREAKING)})"
                + (f"; {len(findings.advisory)} use(s) of what Airflow 3 deprecates" if findings.advisory else ""),
                findings.breaking + findings.advisory,
            )

    print("gate: " + ("failed: nothing was deployed" if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
