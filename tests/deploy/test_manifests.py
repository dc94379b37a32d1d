"""The compose file and the Kubernetes manifests parse and agree with each other: every worker is
there, scalable, scraped on the port it serves, probed on /healthz and autoscaled on queue depth."""
from __future__ import annotations

import yaml

from tests.deploy.support import DEPLOY, known_metric_names, metric_names

WORKERS = ("intake", "routing", "sla", "notify", "department-updates")
K8S = DEPLOY / "kubernetes"


def _documents(path):
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _port_of(args):
    return int(args[args.index("--metrics-port") + 1])


def test_every_yaml_file_under_deploy_parses():
    files = sorted(DEPLOY.rglob("*.y*ml"))
    assert len(files) >= 15
    for path in files:
        assert _documents(path), path


def test_compose_starts_the_services_and_each_worker_can_be_scaled():
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    assert {"postgres", "redis", "rabbitmq", "prometheus", "grafana", "gateway", *WORKERS} <= set(services)
    scrape = {job["job_name"]: job for job in
              yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())["scrape_configs"]}
    for name in WORKERS:
        worker = services[name]
        assert "container_name" not in worker and "ports" not in worker, name   # --scale would clash
        assert worker["command"][:2] == ["worker", name]
        port = _port_of(worker["command"])
        assert f"{port}/healthz" in " ".join(worker["healthcheck"]["test"])
        dns, = scrape[f"claimflow-{name}"]["dns_sd_configs"]
        assert dns["names"] == [name] and dns["port"] == port


def _deployments():
    found = {}
    for path in K8S.glob("*.yaml"):
        for doc in _documents(path):
            if doc.get("kind") == "Deployment":
                found[doc["metadata"]["name"]] = doc
    return found


def test_each_worker_has_a_deployment_probed_on_healthz_of_its_metrics_port():
    deployments = _deployments()
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert all((K8S / resource).exists() for resource in listed)
    for name in WORKERS:
        deployment = deployments[f"claimflow-{name}"]
        container, = deployment["spec"]["template"]["spec"]["containers"]
        port = _port_of(container["args"])
        assert {p["name"]: p["containerPort"] for p in container["ports"]}["metrics"] == port
        for probe in ("livenessProbe", "readinessProbe"):
            check = container[probe]["httpGet"]
            assert check["path"] == "/healthz" and check["port"] == "metrics", (name, probe)
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(port)
        assert any(f"{name}-deployment.yaml" == resource for resource in listed)


def test_queue_driven_workers_autoscale_on_queue_depth_and_never_to_zero():
    deployments = _deployments()
    known = known_metric_names()
    scaled = {}
    for doc in _documents(K8S / "autoscaling/scaledobjects.yaml"):
        assert doc["apiVersion"] == "keda.sh/v1alpha1" and doc["kind"] == "ScaledObject"
        scaled[doc["spec"]["scaleTargetRef"]["name"]] = doc["spec"]
    assert {"claimflow-intake", "claimflow-routing", "claimflow-notify"} <= set(scaled)
    for target, spec in scaled.items():
        assert target in deployments
        assert spec["minReplicaCount"] >= 1 and spec["maxReplicaCount"] > spec["minReplicaCount"]
        depth = []
        for trigger in spec["triggers"]:
            if trigger["type"] == "prometheus":
                used = metric_names(trigger["metadata"]["query"])
                assert used <= known, (target, used - known)
                depth.append("claimflow_backlog_items" in used)
            else:
                depth.append(trigger["type"] in ("redis", "rabbitmq"))
        assert depth and all(depth), target      # every trigger is a queue depth
