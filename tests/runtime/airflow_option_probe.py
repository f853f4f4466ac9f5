"""Run with an image's Python: reads AIRFLOW__SECTION__OPTION names (JSON list) on stdin and prints, for each, whether
that Airflow (with its providers' sections) knows the option and where Airflow has moved it, if it has."""

import json
import os
import sys

os.environ.setdefault("AIRFLOW_HOME", os.environ.get("TMPDIR", "/tmp") + "/airflow-option-probe")

from airflow.configuration import conf  # noqa: E402
from airflow.providers_manager import ProvidersManager  # noqa: E402

ProvidersManager().initialize_providers_configuration()
described = conf.configuration_description
moved = {(old_section, old_option): f"{new_section}.{new_option}"
         for (new_section, new_option), (old_section, old_option, _) in conf.deprecated_options.items()}
found = {}
for name in json.load(sys.stdin):
    section, option = (part.lower() for part in name.split("__", 2)[1:])
    found[name] = {"known": option in (described.get(section, {}).get("options") or {}),
                   "moved_to": moved.get((section, option))}
print(json.dumps(found))
