"""The one error hierarchy of the harness side.

Every error names what was wrong and what to do, and carries the failure class
and the exit code the CLI returns for it (see the README's table)::

    EtlkitError                 exit 1, an unexpected fault
    ├── PlanError               F1, exit 2: the spec, a ref, a flag or an input file
    ├── CapacityError           F2, exit 7: no sandbox, lease or workspace
    ├── CredentialError         F3, exit 3: a profile or an allowed variable
    ├── ConnectorError          F4, exit 4: the source or target refused or failed
    ├── PartialWriteError       F5, exit 5: the target may hold part of a write
    └── CheckError              F6, exit 6: a validation check did not pass
"""

from __future__ import annotations


class EtlkitError(Exception):
    """Base of every error etlkit raises on purpose."""

    failure_class: str | None = None
    exit_code: int = 1


class PlanError(EtlkitError):
    """The plan is wrong before anything runs: fix the spec, a ref or a flag."""

    failure_class = "F1"
    exit_code = 2


class CapacityError(EtlkitError):
    """No sandbox, lease or workspace could be had for the run."""

    failure_class = "F2"
    exit_code = 7


class CredentialError(EtlkitError):
    """A credential profile is missing, incomplete or not allowed in."""

    failure_class = "F3"
    exit_code = 3


class ConnectorError(EtlkitError):
    """The source or the target failed or refused during the sync."""

    failure_class = "F4"
    exit_code = 4


class PartialWriteError(EtlkitError):
    """The target may hold part of a write; verify before any retry."""

    failure_class = "F5"
    exit_code = 5


class CheckError(EtlkitError):
    """A validation check ran and did not pass."""

    failure_class = "F6"
    exit_code = 6
