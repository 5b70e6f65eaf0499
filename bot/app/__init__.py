"""The application core: one transaction per update, workers, sender, jobs."""
