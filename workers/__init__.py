"""The consumer side: RQ job functions, one module per feature, plus scheduled jobs."""
