"""Fails on its first attempt and succeeds on the next: counts attempts in argv[1]."""
import pathlib
import sys

counter = pathlib.Path(sys.argv[1])
attempt = int(counter.read_text()) + 1 if counter.exists() else 1
counter.write_text(str(attempt))
print("attempt", attempt)
sys.exit(0 if attempt >= 2 else 1)
