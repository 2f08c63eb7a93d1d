"""Creates the output directory of the sweep (argv[1]), empty."""
import pathlib
import shutil
import sys

out = pathlib.Path(sys.argv[1])
shutil.rmtree(out, ignore_errors=True)
out.mkdir(parents=True)
print(f"prepared {out}/")
