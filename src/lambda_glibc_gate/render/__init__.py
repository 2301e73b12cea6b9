"""Renderers: one module per output format, behind one entry point (`render`)."""

from __future__ import annotations

from typing import Any

FORMATS = ("text", "json", "sarif", "markdown", "github", "gitlab", "junit")


def render(report: Any, output_format: str, **options: Any) -> str:
    """The report as `output_format`. Options each format may use: colour, notes (text), pretty
    (json), workflow_location (markdown, sarif, github, gitlab). Modules load only when used."""
    location = options.get("workflow_location")
    if output_format == "json":
        return report.dumps(pretty=bool(options.get("pretty"))) + "\n"
    if output_format == "sarif":
        from lambda_glibc_gate.render import sarif

        return sarif.render(report, workflow_location=location) + "\n"
    if output_format == "markdown":
        from lambda_glibc_gate.render import markdown

        return markdown.render_summary(report, workflow_location=location)
    if output_format == "github":
        from lambda_glibc_gate.render import github

        return github.render(report, workflow_location=location)
    if output_format == "gitlab":
        from lambda_glibc_gate.render import gitlab

        return gitlab.render(report, workflow_location=location)
    if output_format == "junit":
        from lambda_glibc_gate.render import junit

        return junit.render(report)
    if output_format == "text":
        from lambda_glibc_gate.render import text

        return text.render(report, colour=bool(options.get("colour")), show_notes=bool(options.get("notes")))
    raise ValueError(f"unknown format {output_format!r}; one of {', '.join(FORMATS)}")
