"""Content planning: a calendar of written posts (``calendar.py``) and rendering a plan
in one go, resumable (``batch.py``)."""
