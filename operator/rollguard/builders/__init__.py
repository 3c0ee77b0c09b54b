"""Pure manifest builders: an ApiRelease or LoadTest in, Kubernetes objects out."""

from rollguard.builders.deployment import build_deployment, pod_template
from rollguard.builders.jobs import build_migration_job, migration_job_name
from rollguard.builders.loadtest import (
    build_master_job,
    build_master_service,
    build_verification_loadtest,
    build_worker_job,
    verification_name,
)
from rollguard.builders.spec import revision_of

__all__ = [
    "build_deployment",
    "build_master_job",
    "build_master_service",
    "build_migration_job",
    "build_verification_loadtest",
    "build_worker_job",
    "migration_job_name",
    "pod_template",
    "revision_of",
    "verification_name",
]
