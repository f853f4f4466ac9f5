"""The README's cost figures are what `make cost` gives for the shipped stack files today: a change to a stack file,
a rule or a price that moves them fails here until `python -m offline.cost --readme-table` writes them anew."""

from __future__ import annotations

from offline.cost import README, readme_block, readme_table


def _readme_block() -> str:
    text = README.read_text()
    start, end = readme_block(text)
    return text[start:end].strip()


def test_the_readme_shows_the_current_figures_of_dev_and_prod(stack_plans):
    block = _readme_block()
    assert "`Pulumi.dev.yaml`" in block and "`Pulumi.prod.yaml`" in block
    assert block == readme_table(plans=stack_plans)
