"""Renderers: one module per output format (text, markdown, sarif)."""
