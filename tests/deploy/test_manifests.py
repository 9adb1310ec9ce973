"""The compose file and the Kubernetes manifests hold together (no Docker or cluster here: they are parsed)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _documents(name: str) -> dict[str, dict]:
    """Kubernetes objects of one file, by kind."""
    return {doc["kind"]: doc for doc in yaml.safe_load_all((DEPLOY / "k8s" / name).read_text()) if doc}


def test_compose_runs_nginx_replicas_and_the_audit_database() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"nginx", "cockpit", "audit-db", "prepare"} <= set(services)
    cockpit = services["cockpit"]
    assert "--use-xheaders" in cockpit["command"] and "ports" not in cockpit  # reachable through nginx only
    assert cockpit["deploy"]["replicas"] >= 2
    assert cockpit["depends_on"]["prepare"]["condition"] == "service_completed_successfully"
    assert (
        "cockpit-data:/data" in cockpit["volumes"] and "cockpit-data:/data" in services["prepare"]["volumes"]
    )
    assert services["audit-db"]["image"].startswith("postgres:")
    assert "audit-db:5432" in cockpit["environment"]["CREDIT_AUDIT_URL"]
    assert (DEPLOY / "nginx" / "Dockerfile").read_text().count("apt-get install") == 1
    entrypoint = (DEPLOY / "nginx" / "entrypoint.sh").read_text()
    template = (DEPLOY / "nginx" / "cockpit.conf.template").read_text()
    assert set(re.findall(r"\$\{(COCKPIT_\w+)\}", template)) <= set(
        re.findall(r"\$\{(COCKPIT_\w+)\}", entrypoint)
    )


def test_kubernetes_deployment_probes_service_ingress_and_volume() -> None:
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (DEPLOY / "k8s" / resource).is_file(), resource
    deployment = _documents("deployment.yaml")["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["path"] == "/liveness"
    assert "--use-xheaders" in container["command"]
    claim = next(volume for volume in pod["volumes"] if "persistentVolumeClaim" in volume)
    assert (
        _documents("volume.yaml")["PersistentVolumeClaim"]["metadata"]["name"]
        == claim["persistentVolumeClaim"]["claimName"]
    )
    service = _documents("service.yaml")["Service"]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    ingress = _documents("ingress.yaml")["Ingress"]
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"] and ingress["spec"]["tls"]


def test_the_ingress_sends_the_same_security_headers_as_the_nginx_configuration() -> None:
    headers = _documents("ingress-headers.yaml")["ConfigMap"]["data"]
    template = (DEPLOY / "nginx" / "cockpit.conf.template").read_text()
    for name, value in headers.items():
        assert f'add_header {name} "{value}" always;' in template, name
