"""Synthetic GUI episodes: procedural desktop screens and a scripted, human-like user.

Modules: `screens`/`layout`/`vocab` (screens and rendering), `params`/`motion`/`user` (the scripted user),
`tasks` (goals and screen reactions), `generate` (episode writer and CLI), `fit`/`calibrate` (motor parameters
from real pointer logs). Nothing is imported or computed at package import. See docs/synthetic.md.
"""
