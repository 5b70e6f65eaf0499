"""Crisis and clinical-boundary screening."""
