"""The golden plans: what `pulumi up` would create for every stack/flavour combination and the bootstrap, held
byte for byte. A failure here is either a regression or an intended change: then `make golden` and commit the
diff with the reason."""

from __future__ import annotations

import difflib

import pytest

from offline.golden import VARIANTS, golden_path, rendered
from offline.render import as_json


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_the_plan_is_the_golden_one(name, every_plan):
    path = golden_path(name)
    assert path.exists(), f"{path} is missing: run `make golden`"
    text, golden = rendered(every_plan[name]), path.read_text()
    if text != golden:
        diff = "".join(list(difflib.unified_diff(golden.splitlines(True), text.splitlines(True), str(path), "now"))[:80])
        pytest.fail(f"the {name} plan differs from {path.name}; if intended, run `make golden` and commit it:\n{diff}")


def _flipped(value):
    if isinstance(value, dict):
        return {k: _flipped(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_flipped(v) for v in value]
    return value


def test_the_plan_is_byte_stable():
    """Two runs give the same bytes, and the order in which the engine hands back map keys (protobuf Structs have
    none) does not reach them: the same plan with every map reversed renders the same."""
    first, second = VARIANTS["prod"].run(), VARIANTS["prod"].run()
    assert as_json(first) == as_json(second)
    text = as_json(first)
    for resource in first.resources:
        resource.inputs = _flipped(resource.inputs)
    first.outputs = _flipped(first.outputs)
    assert as_json(first) == text
