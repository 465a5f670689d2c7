"""One module per dashboard view; each exposes `show(subject, run)`."""
