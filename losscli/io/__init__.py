"""Readers: files, globs, directories and stdin -> Arrow batches -> NumPy chunks."""
