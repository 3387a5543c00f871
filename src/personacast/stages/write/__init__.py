"""Script writers: a topic and a character's persona -> a ``WrittenScript`` that fits a
target duration and passes the content rules.

One backend per file (registry stage "writer"): ``template`` (offline, no model),
``openai``, ``anthropic`` and ``openai_compatible`` (language models, ``chat.py``
drives the conversation). Every writer ends with ``finish.finish``: trim to the length
limit, warn when short, then the safety pass (``safety.py``).
"""
