"""Synthetic GUI episodes: procedural desktop screens and a scripted, human-like user."""
