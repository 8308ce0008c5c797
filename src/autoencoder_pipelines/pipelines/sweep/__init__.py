"""``<task>_sweep``: a search over a task's parameters, trials on Ray Tune (``pipeline.py``)."""
