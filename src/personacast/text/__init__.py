"""Text handling for speech: turning written scripts into what the voice should say."""
