"""The project's rules as a Pulumi policy pack: `pulumi preview --policy-pack policy` (policy/README.md)."""
