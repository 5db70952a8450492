"""cnnlib.models (being written)."""
