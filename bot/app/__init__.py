"""The application core: updates processed atomically, workers, sender, jobs."""
