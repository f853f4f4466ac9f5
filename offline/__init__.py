"""The program under Pulumi's mock engine: what `pulumi up` would create, with no cloud account and no CLI.

`make plan` and the tests share this one harness.
"""

from offline.engine import Plan, RecordedResource, run_stack

__all__ = ["Plan", "RecordedResource", "run_stack"]
