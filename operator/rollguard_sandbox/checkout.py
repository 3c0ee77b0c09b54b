"""Where the parts of this checkout live, as the sandbox maps images and tools onto them."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rollguard_sandbox.containers import Image, ImageMap
from rollguard_sandbox.locustwiring import wire_locust

PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Checkout:
    root: Path

    @classmethod
    def find(cls) -> Checkout:
        """The checkout this package was imported from (operator/rollguard_sandbox -> the repository)."""
        return cls(PACKAGE_DIR.parents[1])

    @property
    def service(self) -> Path:
        return self.root / "service"

    @property
    def loadtest(self) -> Path:
        return self.root / "loadtest"

    @property
    def crds(self) -> Path:
        return self.root / "manifests" / "crds"

    @property
    def chart(self) -> Path:
        return self.root / "charts" / "claims-api"

    @property
    def bin(self) -> Path:
        """The folder of the running interpreter: the project's .venv/bin."""
        return Path(sys.executable).parent

    def helm(self) -> str | None:
        local = self.root / ".tools" / "bin" / "helm"
        return str(local) if local.exists() else shutil.which("helm")

    def path_env(self) -> str:
        return os.pathsep.join([str(self.bin), os.environ.get("PATH", "/usr/bin:/bin")])

    @property
    def containers_conf(self) -> Path:
        """podman's settings for this kind of machine (runc, cgroupfs, ulimits), as `make images` has them."""
        return self.root / "mk" / "containers.conf"

    def images(
        self, built: Mapping[str, str] | None = None, builds: Mapping[str, Path] | None = None
    ) -> ImageMap:
        """The API image runs from service/ (gunicorn by default), the load-test image from loadtest/.

        `built` names the images `make images` built (`api`, `loadtest`): the
        references that run when pods run as containers. `builds` maps an API
        image reference to the folder of the named build it runs instead of service/.
        """
        built = built or {}
        api = self._api_image(self.service, built.get("api", ""))
        variants = tuple(
            (reference, self._api_image(folder, "")) for reference, folder in (builds or {}).items()
        )
        loadtest = Image(
            workdir=self.loadtest,
            entrypoint=("locust",),
            paths={"/app": self.loadtest},
            reference=built.get("loadtest", ""),
            wiring=wire_locust,
        )
        return ImageMap(rules=(("loadtest", loadtest), ("locust", loadtest), *variants), default=api)

    @staticmethod
    def _api_image(folder: Path, reference: str) -> Image:
        return Image(
            workdir=folder,
            entrypoint=("gunicorn", "-c", "gunicorn.conf.py", "config.wsgi"),
            paths={"/app": folder},
            reference=reference,
        )

    def missing(self) -> list[str]:
        """What the full story needs but this checkout does not have (yet)."""
        needs = {
            "the operator (operator/rollguard/__main__.py)": self.root
            / "operator"
            / "rollguard"
            / "__main__.py",
            "the API chart (charts/claims-api)": self.chart / "templates" / "apirelease.yaml",
            "the API's gunicorn.conf.py": self.service / "gunicorn.conf.py",
            "the migrate_phase command": self.service
            / "phased_migrations"
            / "management"
            / "commands"
            / "migrate_phase.py",
            "the seed_demo command": self.service / "billing" / "management" / "commands" / "seed_demo.py",
            "the locustfile": self.loadtest / "locustfile.py",
        }
        found = [label for label, path in needs.items() if not path.exists()]
        if self.helm() is None:
            found.append("helm (make tools)")
        return found
