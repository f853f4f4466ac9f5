"""`airflow`: the version, Airflow options, the Secrets Manager backend, Variables and Connections, the project's DAG,
requirements and plugin files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic.alias_generators import to_camel

from stackconfig import limits
from stackconfig.errors import ConfigIssue
from stackconfig.project_files import constraints_airflow_version, constraints_python, mwaa_python, requirements_constraint
from stackconfig.section import Section as _Section, context as _context, raise_if as _raise_if


class SecretPrefixes(BaseModel):
    """Where the Secrets Manager backend looks for Variables and Connections (the resolved prefixes)."""

    connections: str
    variables: str


_PREFIX = re.compile(r"^[A-Za-z0-9_+=.@\-]+(/[A-Za-z0-9_+=.@\-]+)*$")
_SECTION_OPTION = re.compile(r"^[a-z0-9_]+\.[a-z0-9_.]+$")
_URI = re.compile(r"^[a-z][a-z0-9+.\-]*://", re.IGNORECASE)
RESERVED_OPTIONS = ("secrets.backend", "secrets.backend_kwargs")


class SecretsBackendSettings(_Section):
    """Where Airflow looks up Variables and Connections in AWS Secrets Manager.

    The prefixes default to `<environmentName>/connections` and `<environmentName>/variables` (see
    `Settings.secret_prefixes`), so that two stacks in one account never share or overwrite each other's secrets.
    """

    connections_prefix: Optional[str] = None
    """Unset: `<environmentName>/connections`. a secret-name prefix, no leading/trailing `/`"""
    variables_prefix: Optional[str] = None
    """Unset: `<environmentName>/variables`. as above, different from the connections prefix"""
    connections_lookup_pattern: Optional[str] = None
    """Unset: (all). a regular expression; only matching conn ids are looked up"""
    variables_lookup_pattern: Optional[str] = None
    """Unset: (all). as above, for Variables"""

    @model_validator(mode="after")
    def _check(self) -> "SecretsBackendSettings":
        issues = []
        for field in ("connections_prefix", "variables_prefix"):
            value = getattr(self, field)
            if value is not None and not _PREFIX.match(value):
                issues.append(
                    ConfigIssue(
                        to_camel(field),
                        value,
                        "a Secrets Manager name prefix: letters, digits and _+=.@- in parts separated by '/', "
                        "no leading or trailing '/'",
                    )
                )
        if self.connections_prefix is not None and self.connections_prefix == self.variables_prefix:
            issues.append(
                ConfigIssue("variablesPrefix", self.variables_prefix, "a prefix different from connectionsPrefix")
            )
        for field in ("connections_lookup_pattern", "variables_lookup_pattern"):
            value = getattr(self, field)
            if value is None:
                continue
            try:
                re.compile(value)
            except re.error as err:
                issues.append(ConfigIssue(to_camel(field), value, f"a valid regular expression ({err})"))
        _raise_if(issues)
        return self


class AirflowSettings(_Section):
    version: Optional[str] = None
    """Unset: 2.9.2 (managed) or 2.9.3 (self-managed). managed: a version MWAA runs: 2.7.2, 2.8.1, 2.9.2, 2.10.1,
    2.10.3, 2.11.0, 3.0.6, 3.2.1, 3.3.1; self-managed: a version the image has pins for in `docker/constraints/`
    (2.9.3, 2.11.2, 3.3.2; `make image-constraints AIRFLOW_VERSION=...` adds one). On a deployed stack a change
    follows the upgrade path of docs/operations.md: no downgrades on EKS, 3.x from the latest 2.11 on MWAA
    """
    configuration_options: dict[str, Any] = Field(default_factory=dict)
    """`section.option` keys (lower case, at most 64 chars) to printable-ASCII values (at most 256); `secrets.backend*`
    are reserved
    """
    secrets: SecretsBackendSettings = Field(default_factory=SecretsBackendSettings)
    """where Airflow reads Variables and Connections in Secrets Manager."""
    variables: dict[str, SecretStr] = Field(default_factory=dict)
    """Variables seeded as secrets `<variablesPrefix>/<key>`; set with `--secret`"""
    connections: dict[str, SecretStr] = Field(default_factory=dict)
    """Connections (URI or JSON object) seeded as `<connectionsPrefix>/<conn_id>`; set with `--secret`"""
    dags_dir: str = "dags"
    """project folder whose files go to `s3://<bucket>/dags/`"""
    requirements_file: str = "airflow-requirements.txt"
    """managed: project file delivered as `requirements.txt` (`''` for none); its `--constraint` line must name
    `airflow.version`. Self-managed images take their packages from `docker/requirements.txt`
    """
    plugins_dir: str = "plugins"
    """project folder of Airflow plugins (`''` for none). Managed: zipped (deterministically) to `plugins.zip`.
    Self-managed: built into the image (`/opt/image/plugins`, Airflow's plugins folder), so every component and worker
    pod imports them, and a changed plugin is a new image that rolls the pods (Airflow reads plugins at start)"""

    @field_validator("configuration_options", mode="before")
    @classmethod
    def _options_as_text(cls, value: Any) -> Any:
        # `pulumi config set --path` stores numbers and booleans as such; Airflow reads text.
        if isinstance(value, dict):
            return {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> "AirflowSettings":
        issues: list[ConfigIssue] = []
        issues += self._check_options()
        issues += self._check_files(_context(info).get("project_dir"))
        _raise_if(issues)
        return self

    def _check_options(self) -> list[ConfigIssue]:
        issues = []
        for key, value in self.configuration_options.items():
            item = f'configurationOptions."{key}"'
            if key in RESERVED_OPTIONS:
                issues.append(ConfigIssue(item, value, "set by this project; use airflow.secrets.* instead"))
                continue
            if (
                len(key) > limits.CONFIG_OPTION_KEY_MAX
                or not limits.CONFIG_OPTION_KEY.match(key)
                or not _SECTION_OPTION.match(key)
            ):
                issues.append(
                    ConfigIssue(
                        item,
                        value,
                        "a key 'section.option' of lower-case letters, digits, '_' and '.', "
                        f"at most {limits.CONFIG_OPTION_KEY_MAX} characters",
                    )
                )
            if not isinstance(value, (str, int, float)):
                issues.append(ConfigIssue(item, value, "a text, number or boolean value"))
            elif len(str(value)) > limits.CONFIG_OPTION_VALUE_MAX or not limits.PRINTABLE_ASCII.match(str(value)):
                issues.append(
                    ConfigIssue(item, value, f"printable ASCII, at most {limits.CONFIG_OPTION_VALUE_MAX} characters")
                )
        return issues

    def check_seeds(self, prefixes: SecretPrefixes) -> list[ConfigIssue]:
        issues = []
        for field, prefix in (("variables", prefixes.variables), ("connections", prefixes.connections)):
            for name, secret in getattr(self, field).items():
                item = f"airflow.{field}.{name}"
                full = f"{prefix}/{name}"
                if not limits.SECRET_NAME_CHARS.match(name) or len(full) > limits.SECRET_NAME_MAX:
                    issues.append(
                        ConfigIssue(
                            item,
                            "[secret]",
                            f"a name of letters, digits and _+=.@-/ that keeps '{prefix}/<name>' within "
                            f"{limits.SECRET_NAME_MAX} characters",
                        )
                    )
                value = secret.get_secret_value()
                if not value:
                    issues.append(ConfigIssue(item, "[secret]", "a non-empty value"))
                elif field == "connections" and not (_URI.match(value) or _is_json_object(value)):
                    issues.append(
                        ConfigIssue(
                            item,
                            "[secret]",
                            "a connection URI such as postgres://user:password@host:5432/db, or a JSON object",
                        )
                    )
        return issues

    def check_constraint_line(self, project_dir: Optional[Path]) -> list[ConfigIssue]:
        """managed: requirements.txt's --constraint line must name the Airflow version the stack runs and the Python
        MWAA runs it on (3.12 from 2.11; a 3.11 constraints file resolves other wheels than MWAA installs)."""
        path = project_dir / self.requirements_file if project_dir and self.requirements_file else None
        if path is None or not path.is_file() or self.version is None:
            return []
        target = requirements_constraint(path.read_text())
        if target is None:
            return []
        issues = []
        pinned, python = constraints_airflow_version(target), constraints_python(target)
        if pinned is not None and pinned != self.version:
            issues.append(
                ConfigIssue(
                    "airflow.requirementsFile",
                    self.requirements_file,
                    f"its --constraint line is for Airflow {pinned}; make it match airflow.version {self.version}",
                )
            )
        if python is not None and python != mwaa_python(self.version):
            issues.append(
                ConfigIssue(
                    "airflow.requirementsFile",
                    self.requirements_file,
                    f"its --constraint line is for Python {python}; MWAA runs Airflow {self.version} on Python "
                    f"{mwaa_python(self.version)} (constraints-{mwaa_python(self.version)}.txt)",
                )
            )
        return issues

    def _check_files(self, project_dir: Optional[Path]) -> list[ConfigIssue]:
        if project_dir is None:
            return []
        issues = []
        if not (project_dir / self.dags_dir).is_dir():
            issues.append(ConfigIssue("dagsDir", self.dags_dir, "a folder of the project that holds the DAG files"))
        if self.requirements_file:
            path = project_dir / self.requirements_file
            if not path.is_file():
                issues.append(
                    ConfigIssue("requirementsFile", self.requirements_file, "a file of the project, or '' for none")
                )
        if "plugins_dir" in self.model_fields_set and self.plugins_dir and not (project_dir / self.plugins_dir).is_dir():
            issues.append(ConfigIssue("pluginsDir", self.plugins_dir, "a folder of the project, or '' for none"))
        return issues


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False



