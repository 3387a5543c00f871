"""Neural lip sync (GPU) on still or moving video: face tracking, crop, model, paste-back.
See base.py for the protocol; one backend per file."""
