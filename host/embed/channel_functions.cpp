// _pyhost.chan_*: the Python face of ChannelRegistry / ByteChannel.
#include <algorithm>
#include <chrono>
#include <cmath>

#include "channel/byte_channel.hpp"
#include "embed/executor_functions.hpp"
#include "embed/fastcall.hpp"
#include "embed/signal_slice.hpp"
#include "pyhost/py_ref.hpp"

namespace pyhost {
namespace {

using Clock = ByteChannel::Clock;
enum StatusCode { kOk = 0, kTimeout = 1, kClosed = 2 };

bool check_nargs(Py_ssize_t nargs, Py_ssize_t expected, const char* signature) {
  if (nargs == expected) return true;
  PyErr_Format(PyExc_TypeError, "%s takes %zd arguments", signature, expected);
  return false;
}

// The channel with this id, or nullptr with ValueError set.
std::shared_ptr<ByteChannel> channel_arg(PyObject* arg) {
  const unsigned long long id = PyLong_AsUnsignedLongLong(arg);
  if (PyErr_Occurred()) return nullptr;
  auto channel = ChannelRegistry::instance().find(id);
  if (!channel) PyErr_Format(PyExc_ValueError, "channel %llu no longer exists", id);
  return channel;
}

// None or a negative number: no deadline.
bool deadline_arg(PyObject* arg, ByteChannel::Deadline& deadline) {
  if (arg == Py_None) return true;
  const double seconds = PyFloat_AsDouble(arg);
  if (PyErr_Occurred()) return false;
  if (std::isnan(seconds)) {
    PyErr_SetString(PyExc_ValueError, "timeout must be a number");
    return false;
  }
  if (seconds >= 0)
    deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(std::min(seconds, 1e9)));
  return true;
}

// Runs `wait(slice_deadline)` without the GIL, slice by slice, until it is no longer a timeout
// of the slice. Returns -1 with an exception set when a signal handler raised.
template <typename Wait>
int wait_in_slices(const ByteChannel::Deadline& deadline, Wait wait) {
  for (;;) {
    const auto slice_end = Clock::now() + kSignalSlice;
    const bool last_slice = deadline && *deadline <= slice_end;
    ChannelStatus status;
    Py_BEGIN_ALLOW_THREADS status = wait(last_slice ? *deadline : slice_end);
    Py_END_ALLOW_THREADS if (status == ChannelStatus::Ok) return kOk;
    if (status == ChannelStatus::Closed) return kClosed;
    if (last_slice) return kTimeout;
    if (PyErr_CheckSignals() != 0) return -1;
  }
}

// chan_new(maxsize) -> id
PyObject* chan_new(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (!check_nargs(nargs, 1, "chan_new(maxsize)")) return nullptr;
  const Py_ssize_t maxsize = PyLong_AsSsize_t(args[0]);
  if (PyErr_Occurred()) return nullptr;
  const auto id = ChannelRegistry::instance().create(maxsize > 0 ? std::size_t(maxsize) : 0);
  return PyLong_FromUnsignedLongLong(id);
}

// chan_retain(id): one more reference (a Channel object rebuilt from a pickle).
PyObject* chan_retain(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (!check_nargs(nargs, 1, "chan_retain(id)")) return nullptr;
  const unsigned long long id = PyLong_AsUnsignedLongLong(args[0]);
  if (PyErr_Occurred()) return nullptr;
  if (!ChannelRegistry::instance().retain(id))
    return PyErr_Format(PyExc_ValueError,
                        "channel %llu no longer exists (every Channel object for it was "
                        "dropped before this one arrived)",
                        id);
  Py_RETURN_NONE;
}

// chan_release(id)
PyObject* chan_release(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (!check_nargs(nargs, 1, "chan_release(id)")) return nullptr;
  const unsigned long long id = PyLong_AsUnsignedLongLong(args[0]);
  if (PyErr_Occurred()) return nullptr;
  ChannelRegistry::instance().release(id);
  Py_RETURN_NONE;
}

// chan_put(id, tag, data, timeout) -> 0 ok | 1 timeout | 2 closed
PyObject* chan_put(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (!check_nargs(nargs, 4, "chan_put(id, tag, data, timeout)")) return nullptr;
  auto channel = channel_arg(args[0]);
  if (!channel) return nullptr;
  const int tag = static_cast<int>(PyLong_AsLong(args[1]));
  ByteChannel::Deadline deadline;
  if (PyErr_Occurred() || !deadline_arg(args[3], deadline)) return nullptr;
  ChannelMessage message{tag, {}};
  {
    Py_buffer view;
    if (PyObject_GetBuffer(args[2], &view, PyBUF_C_CONTIGUOUS) != 0) return nullptr;
    message.data.assign(static_cast<const char*>(view.buf), static_cast<std::size_t>(view.len));
    PyBuffer_Release(&view);
  }
  const int status = wait_in_slices(
      deadline, [&](Clock::time_point until) { return channel->put(message, until); });
  if (status < 0) return nullptr;
  return PyLong_FromLong(status);
}

// chan_get(id, timeout) -> (status, tag, bytes | None)
PyObject* chan_get(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (!check_nargs(nargs, 2, "chan_get(id, timeout)")) return nullptr;
  auto channel = channel_arg(args[0]);
  ByteChannel::Deadline deadline;
  if (!channel || !deadline_arg(args[1], deadline)) return nullptr;
  ChannelMessage message;
  const int status = wait_in_slices(
      deadline, [&](Clock::time_point until) { return channel->get(message, until); });
  if (status < 0) return nullptr;
  if (status != kOk) return Py_BuildValue("(iiO)", status, 0, Py_None);
  PyRef data = PyRef::steal(
      PyBytes_FromStringAndSize(message.data.data(), static_cast<Py_ssize_t>(message.data.size())));
  if (!data) return nullptr;
  return Py_BuildValue("(iiO)", kOk, message.tag, data.get());
}

// chan_close(id)
PyObject* chan_close(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (!check_nargs(nargs, 1, "chan_close(id)")) return nullptr;
  auto channel = channel_arg(args[0]);
  if (!channel) return nullptr;
  channel->close();
  Py_RETURN_NONE;
}

// chan_state(id) -> (size, closed, maxsize)
PyObject* chan_state(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (!check_nargs(nargs, 1, "chan_state(id)")) return nullptr;
  auto channel = channel_arg(args[0]);
  if (!channel) return nullptr;
  return Py_BuildValue("(nOn)", static_cast<Py_ssize_t>(channel->size()),
                       channel->closed() ? Py_True : Py_False,
                       static_cast<Py_ssize_t>(channel->max_messages()));
}

}  // namespace

PyMethodDef channel_methods[] = {
    {"chan_new", fastcall(&chan_new), METH_FASTCALL, "chan_new(maxsize) -> id"},
    {"chan_retain", fastcall(&chan_retain), METH_FASTCALL, "chan_retain(id): one more reference"},
    {"chan_release", fastcall(&chan_release), METH_FASTCALL, "chan_release(id): one fewer"},
    {"chan_put", fastcall(&chan_put), METH_FASTCALL,
     "chan_put(id, tag, data, timeout) -> 0 ok, 1 timeout, 2 closed"},
    {"chan_get", fastcall(&chan_get), METH_FASTCALL,
     "chan_get(id, timeout) -> (status, tag, data)"},
    {"chan_close", fastcall(&chan_close), METH_FASTCALL, "chan_close(id)"},
    {"chan_state", fastcall(&chan_state), METH_FASTCALL,
     "chan_state(id) -> (size, closed, maxsize)"},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace pyhost
