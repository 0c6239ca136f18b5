"""The evidence files a sync writes: ``metrics.json`` and ``junit.xml``.

``docs/metrics.md`` documents every field of ``metrics.json``.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

METRICS_VERSION = 1


def write_json(path: str, document: dict) -> None:
    """Write ``document`` atomically, so a reader never sees half a file."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    partial = f"{path}.partial"
    with open(partial, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, sort_keys=False, default=str)
        handle.write("\n")
    os.replace(partial, path)


def write_junit(
    path: str, checks: list[dict], suite: str, error: str | None = None
) -> None:
    """One test suite per check, one test case per comparison."""
    root = ET.Element("testsuites", name=suite)
    for check in checks:
        if not check["comparisons"]:
            _skipped_suite(root, suite, check)
            continue
        comparisons = check["comparisons"]
        failures = sum(1 for c in comparisons if not c["passed"])
        element = ET.SubElement(
            root,
            "testsuite",
            name=check["check"],
            tests=str(len(comparisons)),
            failures=str(failures),
            errors="0",
            time=f"{check['seconds']:.6f}",
        )
        for comparison in comparisons:
            case = ET.SubElement(
                element,
                "testcase",
                classname=f"{suite}.{check['check']}",
                name=comparison["name"],
                time="0",
            )
            if not comparison["passed"]:
                failure = ET.SubElement(
                    case,
                    "failure",
                    message=f"source and destination differ on {comparison['name']}",
                )
                failure.text = (
                    f"source={_short(comparison['source'])}\n"
                    f"destination={_short(comparison['destination'])}\n"
                    f"{comparison.get('detail') or ''}"
                )
    if error is not None:
        element = ET.SubElement(
            root,
            "testsuite",
            name="sync",
            tests="1",
            failures="0",
            errors="1",
            time="0",
        )
        case = ET.SubElement(
            element, "testcase", classname=f"{suite}.sync", name="sync"
        )
        ET.SubElement(case, "error", message=error)

    ET.indent(root)
    partial = f"{path}.partial"
    ET.ElementTree(root).write(partial, encoding="utf-8", xml_declaration=True)
    os.replace(partial, path)


def _skipped_suite(root: ET.Element, suite: str, check: dict) -> None:
    """A check with nothing to compare: one skipped case saying why."""
    element = ET.SubElement(
        root,
        "testsuite",
        name=check["check"],
        tests="1",
        failures="0",
        errors="0",
        skipped="1",
        time="0",
    )
    case = ET.SubElement(
        element,
        "testcase",
        classname=f"{suite}.{check['check']}",
        name=check["check"],
        time="0",
    )
    ET.SubElement(case, "skipped", message=check.get("detail") or "nothing to compare")


def _short(value) -> str:
    text = json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= 2000 else text[:2000] + "..."
