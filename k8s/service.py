"""The webserver's Service: a Network Load Balancer, inside the VPC or for the allowed ranges on the internet."""

from __future__ import annotations

from k8s.containers import labels, pod_labels
from k8s.environment import EXECUTION_API_SERVICE
from k8s.spec import WEBSERVER_PORT, AirflowSpec

WEBSERVER_SERVICE = "airflow-webserver"


def webserver_service(spec: AirflowSpec) -> dict:
    """An NLB to the webserver: inside the VPC, or on the internet for the allowed ranges only; with a certificate,
    it terminates TLS on 443."""
    annotations = {
        "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
        # pulumi-kubernetes' await for a Service also wants endpoints on ready pods, which cannot exist before the
        # migration Job that the settings (whose base URL is this load balancer's name) come before: wait for the
        # name only (the waitFor annotation replaces the default await; pulumi-kubernetes 4.18+).
        "pulumi.com/waitFor": "jsonpath={.status.loadBalancer.ingress[0].hostname}",
    }
    if spec.webserver_exposure == "internal":
        annotations["service.beta.kubernetes.io/aws-load-balancer-internal"] = "true"
    port = {"name": "http", "port": 80, "targetPort": WEBSERVER_PORT, "protocol": "TCP"}
    if spec.webserver_certificate_arn:
        annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"] = spec.webserver_certificate_arn
        annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-ports"] = "https"
        port = {"name": "https", "port": 443, "targetPort": WEBSERVER_PORT, "protocol": "TCP"}
    service_spec: dict = {"type": "LoadBalancer", "selector": labels(spec, "webserver"), "ports": [port]}
    if spec.webserver_allowed_cidrs:
        service_spec["loadBalancerSourceRanges"] = list(spec.webserver_allowed_cidrs)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": WEBSERVER_SERVICE,
            "namespace": spec.namespace,
            "labels": labels(spec, "webserver"),
            "annotations": annotations,
        },
        "spec": service_spec,
    }


def execution_api_service(spec: AirflowSpec) -> dict:
    """Airflow 3: the api-server's execution API for worker pods, inside the cluster only (the load balancer may
    terminate TLS or face the internet; workers need neither)."""
    # This version's api-servers only: while an upgrade from Airflow 2 rolls, the old webservers serve no execution
    # API, and a worker sent there would fail its task.
    return cluster_service(spec, EXECUTION_API_SERVICE, "webserver", "http", WEBSERVER_PORT, "TCP",
                           selector=pod_labels(spec, "webserver"))


def cluster_service(spec: AirflowSpec, name: str, component: str, port_name: str, port: int, protocol: str, *,
                    selector: dict[str, str] | None = None) -> dict:
    """A Service inside the cluster only, in front of `component`'s pods (or `selector`'s) on `port`."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": spec.namespace, "labels": labels(spec, component)},
        "spec": {
            "type": "ClusterIP",
            "selector": selector or labels(spec, component),
            "ports": [{"name": port_name, "port": port, "targetPort": port, "protocol": protocol}],
        },
    }
