"""Creates the file named by argv[1] (in the job's cwd): proof that the job ran."""
import pathlib
import sys

pathlib.Path(sys.argv[1]).write_text("ran\n")
