"""Ghostpilot's application layer: CLI, session, capture, input, executor, store, settings. No Qt widgets."""
