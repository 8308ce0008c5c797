"""The champion/challenger stage every ``<task>_retrain`` pipeline reuses."""
