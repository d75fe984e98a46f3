"""Natural-language goals: local OCR of the screen, local text embeddings, and goal -> on-screen element grounding.

Everything here runs on onnxruntime + numpy (+ Pillow, tokenizers); torch is needed only to export the text
encoder (`minilm_export.py`, the train extra).
"""
