"""Plan checks of artifact globs: they must stay inside the run's workspace."""

from __future__ import annotations

import re
from pathlib import Path

from etlkit.spec._finding import Finding

_DRIVE = re.compile(r"[A-Za-z]:")


def artifact_findings(globs: list[str], workspace: Path | None) -> list[Finding]:
    """Return findings for globs that are absolute, climb out, or follow links out."""
    findings = []
    for index, glob in enumerate(globs):
        path = f"artifacts[{index}]"
        parts = re.split(r"[\\/]", glob)

        if not glob or glob.startswith(("/", "\\", "~")) or _DRIVE.match(glob):
            findings.append(
                Finding(
                    "artifact-absolute",
                    path,
                    f"Artifact glob {glob!r} is empty or absolute; artifacts are "
                    "captured from inside the workspace only.",
                    "Write the glob relative to the workspace, e.g. 'logs/*.log'.",
                )
            )
        elif ".." in parts:
            findings.append(
                Finding(
                    "artifact-escape",
                    path,
                    f"Artifact glob {glob!r} climbs out of the workspace with '..'.",
                    "Remove the '..' parts and capture files inside the workspace.",
                )
            )
        elif workspace is not None:
            escaped = _escaping_match(glob, workspace)
            if escaped is not None:
                findings.append(
                    Finding(
                        "artifact-link",
                        path,
                        f"Artifact glob {glob!r} matches {escaped!r}, a link that "
                        "leads out of the workspace.",
                        "Narrow the glob, or remove the link from the workspace.",
                    )
                )
    return findings


def _escaping_match(glob: str, workspace: Path) -> str | None:
    """Return the first match of ``glob`` that resolves outside ``workspace``."""
    root = workspace.resolve()
    for match in sorted(workspace.glob(glob)):
        resolved = match.resolve()
        if resolved != root and root not in resolved.parents:
            return str(match.relative_to(workspace))
    return None
