"""The only SQL written by hand: the sync's bulk write path, locks, statements Piccolo's builder
cannot express, and hot reads measured faster raw; each function says which."""
