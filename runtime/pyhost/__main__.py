"""`python -m pyhost ARGS` and the `pyhost` command of a pip-installed pyhost (a console script,
pyproject.toml): both replace this interpreter with the pyhost program (pyhost/_bin/pyhost in
the installed package; pyhost._binary says where else it looks), given the same arguments.

The program then finds its runtime (this package's directory) and the venv it was installed
into by itself (host/embed/interpreter.cpp), so it behaves the same however it was started.
"""
import os
import sys

# No program to run: as a shell's "command not found" (docs/install.md).
EXIT_NO_PROGRAM = 127


def main(argv=None):
    from . import _binary

    args = sys.argv[1:] if argv is None else list(argv)
    try:
        program = _binary.executable()
    except FileNotFoundError as missing:
        print(f"pyhost: {missing}", file=sys.stderr)
        return EXIT_NO_PROGRAM
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(program, ["pyhost", *args])


if __name__ == "__main__":
    sys.exit(main())
