"""Ghostpilot's Qt views (PySide6 only here): overlay, prompt box, tray, settings and review windows."""
