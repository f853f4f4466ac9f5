"""Kubernetes objects of the self-managed flavour as plain data, built from typed settings without Pulumi."""
