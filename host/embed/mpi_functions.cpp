// _pyhost.mpi_*: the Python face of ExecutorMailbox, what pyhost.Executor(mode="mpi") and
// pyhost.Channel use to reach other ranks (runtime/pyhost/_executor/ranks.py).
#include <algorithm>
#include <chrono>
#include <cmath>

#include "embed/executor_functions.hpp"
#include "embed/fastcall.hpp"
#include "embed/signal_slice.hpp"
#include "mpi/executor_mailbox.hpp"
#include "pyhost/py_ref.hpp"

namespace pyhost {
namespace {

using mpi::ExecutorMailbox;
using Clock = ExecutorMailbox::Clock;

// mpi_post(dest_rank, data) -> None; RuntimeError when this process serves no MPI run.
PyObject* mpi_post(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "mpi_post(dest, data) takes 2 arguments");
    return nullptr;
  }
  const int dest = static_cast<int>(PyLong_AsLong(args[0]));
  if (PyErr_Occurred()) return nullptr;
  std::string bytes;
  {
    Py_buffer view;
    if (PyObject_GetBuffer(args[1], &view, PyBUF_C_CONTIGUOUS) != 0) return nullptr;
    bytes.assign(static_cast<const char*>(view.buf), static_cast<std::size_t>(view.len));
    PyBuffer_Release(&view);
  }
  std::string why;
  bool posted = false;
  Py_BEGIN_ALLOW_THREADS posted = ExecutorMailbox::instance().post(dest, std::move(bytes), &why);
  Py_END_ALLOW_THREADS if (!posted) {
    PyErr_SetString(PyExc_RuntimeError, why.c_str());
    return nullptr;
  }
  Py_RETURN_NONE;
}

// mpi_receive(timeout) -> (source_rank, bytes) | None (timed out) | (-1, b"") (the run ended)
PyObject* mpi_receive(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 1) {
    PyErr_SetString(PyExc_TypeError, "mpi_receive(timeout) takes 1 argument");
    return nullptr;
  }
  std::optional<Clock::time_point> deadline;
  if (args[0] != Py_None) {
    const double seconds = PyFloat_AsDouble(args[0]);
    if (PyErr_Occurred()) return nullptr;
    if (std::isnan(seconds) || seconds < 0) {
      PyErr_SetString(PyExc_ValueError, "timeout must be a non-negative number or None");
      return nullptr;
    }
    deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(std::min(seconds, 1e9)));
  }
  mpi::Letter letter;
  for (;;) {
    const auto slice_end = Clock::now() + kSignalSlice;
    const bool last_slice = deadline && *deadline <= slice_end;
    ExecutorMailbox::Received got;
    Py_BEGIN_ALLOW_THREADS got =
        ExecutorMailbox::instance().receive(letter, last_slice ? *deadline : slice_end);
    Py_END_ALLOW_THREADS if (got == ExecutorMailbox::Received::Letter) {
      return Py_BuildValue("(iy#)", letter.peer, letter.bytes.data(),
                           static_cast<Py_ssize_t>(letter.bytes.size()));
    }
    if (got == ExecutorMailbox::Received::Closed) return Py_BuildValue("(iy)", -1, "");
    if (last_slice) Py_RETURN_NONE;
    if (PyErr_CheckSignals() != 0) return nullptr;
  }
}

}  // namespace

PyMethodDef mpi_methods[] = {
    {"mpi_post", fastcall(&mpi_post), METH_FASTCALL,
     "mpi_post(dest, data): bytes for pyhost.Executor(mode='mpi') on another rank."},
    {"mpi_receive", fastcall(&mpi_receive), METH_FASTCALL,
     "mpi_receive(timeout) -> (source, bytes), None on timeout, (-1, b'') once the run ended."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace pyhost
