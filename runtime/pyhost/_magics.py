"""The IPython magics of `%load_ext pyhost` (docs/jupyter.md):

    %%pyhost compare [OPTIONS] [-- ARGS...]   the cell is the script, measured in each mode
    %%pyhost run [OPTIONS] [-- ARGS...]       the cell run as tasks, its output shown as it comes
    %pyhost info [--json]                     the embedded Python, the companion, the machine

OPTIONS are those of `pyhost compare` / `pyhost run`, spelled as on the command line (split like
a shell does); ARGS go to the script. The cell magics return the result object, which Jupyter
displays (compare's HTML report, run's table of tasks) and keeps in `_`.
Only this module imports IPython: `import pyhost` never does."""
import shlex

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

from . import _api

USAGE = ("usage: %%pyhost compare [OPTIONS] [-- ARGS...] | %%pyhost run [OPTIONS] [-- ARGS...] "
         "(the cell is the script) | %pyhost info [--json]")


def split_line(line):
    """(command, options, script arguments) of a magic's line."""
    try:
        words = shlex.split(line)
    except ValueError as e:  # an unclosed quote
        raise UsageError(f"{e}: {line!r}\n{USAGE}") from None
    if not words:
        raise UsageError(USAGE)
    command, rest = words[0], words[1:]
    if "--" in rest:
        cut = rest.index("--")
        return command, rest[:cut], rest[cut + 1:]
    return command, rest, []


@magics_class
class PyhostMagics(Magics):
    @line_cell_magic
    def pyhost(self, line, cell=None):
        command, options, args = split_line(line)
        if cell is None:
            if command != "info":
                raise UsageError(f"%pyhost {command}: the line magic has only `info`; "
                                 f"`%%pyhost {command}` runs a cell\n{USAGE}")
            print(_api.info_text(options + args), end="")
            return None
        if command == "compare":
            return _api.compare_words(cell, args, options, stream=True)
        if command == "run":
            return _api.run_words(cell, args, options, stream=True)
        raise UsageError(f"%%pyhost {command}: unknown command\n{USAGE}")


def register(ipython):
    ipython.register_magics(PyhostMagics)
