"""A Kubernetes API emulator for tests and the local sandbox (KMock plus API-server semantics)."""

from rollguard_emulator.crds import load_crds
from rollguard_emulator.faults import Fault
from rollguard_emulator.server import RollguardEmulator

__all__ = ["Fault", "RollguardEmulator", "load_crds"]
