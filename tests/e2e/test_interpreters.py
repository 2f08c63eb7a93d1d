"""`pyhost info --json` lists the CPythons this pyhost can run a script with, side by side: its
own and, when usable, the free-threaded companion's."""
import json
import pathlib

from pyhost_testing import pyhost_bin, run_pyhost


def minor(version, free_threaded):
    return ".".join(version.split(".")[:2]) + ("t" if free_threaded else "")


def test_info_lists_its_own_cpython_and_the_companion():
    info = json.loads(run_pyhost(["info", "--json"], check=True).stdout)
    own, *others = info["interpreters"]
    assert own == {"name": minor(info["python"], info["free_threaded"]), "version": info["python"],
                   "free_threaded": info["free_threaded"], "pyhost": own["pyhost"]}
    assert pathlib.Path(own["pyhost"]).resolve() == pathlib.Path(pyhost_bin()).resolve()
    companion = info["freethreaded_companion"]
    if companion and "problem" not in companion and companion["python"]:
        assert others == [{"name": minor(companion["python"], True), "version": companion["python"],
                           "free_threaded": True, "pyhost": companion["binary"]}]
    else:
        assert others == []
