"""A Kubernetes API emulator for tests and the local sandbox (KMock plus API-server semantics)."""

from rollguard.emulator.crds import load_crds
from rollguard.emulator.faults import Fault
from rollguard.emulator.server import RollguardEmulator

__all__ = ["Fault", "RollguardEmulator", "load_crds"]
