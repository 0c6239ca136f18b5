"""etlkit: agent-planned, evidence-first data movement.

The harness side: specs, refs, profiles, the dispatcher and the evidence it
brings back. Everything that touches rows lives in the ``worker`` package.
"""

from etlkit.errors import (
    CapacityError,
    CheckError,
    ConnectorError,
    CredentialError,
    EtlkitError,
    PartialWriteError,
    PlanError,
)

__version__ = "0.1.0"

__all__ = [
    "CapacityError",
    "CheckError",
    "ConnectorError",
    "CredentialError",
    "EtlkitError",
    "PartialWriteError",
    "PlanError",
    "__version__",
]
