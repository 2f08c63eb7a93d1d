import sys

print("hello from", sys.argv[1:])
print("to stderr", file=sys.stderr)
