"""The sandbox's Kubernetes API: the project's emulator served on a local port, with our CRDs."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kmock
import yaml

from rollguard_emulator import RollguardEmulator, load_crds


def kubeconfig(server_url: str, namespace: str = "default") -> dict[str, Any]:
    """A kubeconfig for the emulator: plain HTTP, no real credentials."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "sandbox", "cluster": {"server": server_url.rstrip("/")}}],
        "users": [{"name": "sandbox", "user": {"token": "sandbox"}}],
        "contexts": [
            {"name": "sandbox", "context": {"cluster": "sandbox", "user": "sandbox", "namespace": namespace}}
        ],
        "current-context": "sandbox",
    }


@dataclass
class Cluster:
    emulator: RollguardEmulator
    server: kmock.Server

    @property
    def url(self) -> str:
        return str(self.server.url).rstrip("/")

    def write_kubeconfig(self, path: Path, namespace: str = "default") -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(kubeconfig(self.url, namespace)))
        return path


@contextlib.asynccontextmanager
async def running_cluster(
    crd_folder: Path, namespaces: Iterable[str] = ("default",)
) -> AsyncIterator[Cluster]:
    """An emulated API server on 127.0.0.1 serving the CRDs of `crd_folder`, until the block ends."""
    emulator = RollguardEmulator()
    crds = load_crds(crd_folder)
    emulator.register_crds(crds)
    for crd in crds:
        emulator.objects[
            "apiextensions.k8s.io/v1/customresourcedefinitions", None, crd["metadata"]["name"]
        ] = crd
    for namespace in namespaces:
        emulator.objects["v1/namespaces", None, namespace] = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": namespace},
        }
    async with emulator, kmock.Server(emulator) as server:
        yield Cluster(emulator=emulator, server=server)
