"""cnnlib.grading (being written)."""
