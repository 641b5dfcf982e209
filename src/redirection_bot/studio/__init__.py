"""The authoring studio: a local web page to see, play and check the program while writing it.

``redirection-bot studio`` serves it on 127.0.0.1. It reads the files and never writes
them: it draws each flow as a graph (SVG made here, no outside library), shows each node's
texts in every locale side by side with missing and stale translations marked, plays the
program through the real runtime, and validates again whenever a file changes.
"""
