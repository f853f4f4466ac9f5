"""The stack's configuration: read once, validated, typed. The only reader of `pulumi.Config`."""

from stackconfig.errors import ConfigError, ConfigIssue
from stackconfig.load import PROJECT_DIR, from_pulumi as read
from stackconfig.settings import Settings

__all__ = ["PROJECT_DIR", "ConfigError", "ConfigIssue", "Settings", "read"]
