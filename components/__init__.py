"""ComponentResources (AWS wiring) and the pure builders they use (policy documents, Airflow settings, archives).

Importing this package imports nothing heavy: pure builders stay usable without Pulumi's providers.
"""
