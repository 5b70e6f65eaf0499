"""The pipeline: updates processed atomically, workers, dispatch, sender, jobs."""
