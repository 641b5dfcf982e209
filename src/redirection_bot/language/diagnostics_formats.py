"""Diagnostics for machines: JSON for scripts, SARIF 2.1.0 for CI and code-review pages
(GitHub code scanning, GitLab, Azure DevOps show SARIF results on the lines they concern)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path, PurePath, PurePosixPath
from typing import Any

from redirection_bot import __version__
from redirection_bot.diagnostics import Diagnostic

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def diagnostics_json(diagnostics: Sequence[Diagnostic]) -> str:
    """``{"diagnostics": [{file, line, column, severity, message}], "errors", "warnings"}``."""
    items = [
        {
            "file": d.span.path,
            "line": d.span.line,
            "column": d.span.column,
            "severity": d.severity.value,
            "message": d.message,
        }
        for d in diagnostics
    ]
    errors = sum(1 for d in diagnostics if d.is_error)
    document = {"diagnostics": items, "errors": errors, "warnings": len(items) - errors}
    return json.dumps(document, indent=2, ensure_ascii=False)


def _artifact(path: str) -> dict[str, str]:
    """A relative path is relative to the checkout (``%SRCROOT%``); an absolute one a file URI."""
    if PurePath(path).is_absolute():
        return {"uri": Path(path).as_uri()}
    return {"uri": PurePosixPath(PurePath(path)).as_posix(), "uriBaseId": "%SRCROOT%"}


def diagnostics_sarif(diagnostics: Sequence[Diagnostic]) -> str:
    """One SARIF 2.1.0 run of the tool ``redirection-bot validate``."""
    results: list[dict[str, Any]] = [
        {
            "ruleId": "redirection-bot/validate",
            "level": "error" if d.is_error else "warning",
            "message": {"text": d.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": _artifact(d.span.path),
                        "region": {"startLine": d.span.line, "startColumn": d.span.column},
                    }
                }
            ],
        }
        for d in diagnostics
    ]
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "redirection-bot",
                        "version": __version__,
                        "rules": [
                            {
                                "id": "redirection-bot/validate",
                                "shortDescription": {
                                    "text": "A problem in the program's dialogues or locales"
                                },
                            }
                        ],
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)
