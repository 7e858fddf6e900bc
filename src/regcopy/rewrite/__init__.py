"""Rewriting workloads to the migrated images: Kubernetes YAML, Helm values, docker-compose files."""
