"""Content models, loading with line numbers, and validation."""
