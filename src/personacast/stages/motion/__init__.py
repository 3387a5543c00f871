"""Image-to-video (GPU): a portrait becomes a few seconds of natural motion, chained to
cover the speech. See base.py for the protocol; one backend per file."""
