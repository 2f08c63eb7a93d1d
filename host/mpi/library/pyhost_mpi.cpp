// libpyhost_mpi.so: the C ABI of pyhost_mpi_abi.h over MPI (Open MPI or MPICH).
#include <mpi.h>

#include <cstring>
#include <list>
#include <vector>

#include "pyhost_mpi_abi.h"

namespace {

// Isend needs its buffer until the send completes.
struct PendingSend {
  std::vector<char> bytes;
  MPI_Request request = MPI_REQUEST_NULL;
};
std::list<PendingSend> pending_sends;

void complete_finished_sends() {
  for (auto it = pending_sends.begin(); it != pending_sends.end();) {
    int done = 0;
    MPI_Test(&it->request, &done, MPI_STATUS_IGNORE);
    it = done ? pending_sends.erase(it) : std::next(it);
  }
}

void copy_out(const char* text, char* out, int out_len) {
  if (out_len <= 0) return;
  std::strncpy(out, text, static_cast<std::size_t>(out_len) - 1);
  out[out_len - 1] = '\0';
}

}  // namespace

extern "C" {

int pyhost_mpi_abi_version(void) {
  return PYHOST_MPI_ABI_VERSION;
}

int pyhost_mpi_init(int* rank, int* size, char* error, int error_len) {
  int provided = 0;
  // One communication thread per rank makes every call, but not the thread that initialises.
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
    copy_out("MPI_Init_thread failed", error, error_len);
    return 1;
  }
  if (provided < MPI_THREAD_SERIALIZED) {
    copy_out("the MPI library does not support MPI_THREAD_SERIALIZED", error, error_len);
    return 1;
  }
  MPI_Comm_rank(MPI_COMM_WORLD, rank);
  MPI_Comm_size(MPI_COMM_WORLD, size);
  return 0;
}

void pyhost_mpi_describe(char* library, int library_len, char* host, int host_len) {
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(version, &length);
  // First line only: Open MPI's string goes on with its repository and release date.
  version[std::strcspn(version, "\n,")] = '\0';
  copy_out(version, library, library_len);
  char name[MPI_MAX_PROCESSOR_NAME];
  MPI_Get_processor_name(name, &length);
  copy_out(name, host, host_len);
}

int pyhost_mpi_send(int dest, int tag, const char* data, long len) {
  PendingSend& send = pending_sends.emplace_back();
  send.bytes.assign(data, data + len);
  int rc = MPI_Isend(send.bytes.data(), static_cast<int>(len), MPI_BYTE, dest, tag, MPI_COMM_WORLD,
                     &send.request);
  complete_finished_sends();
  return rc == MPI_SUCCESS ? 0 : 1;
}

int pyhost_mpi_probe(int* source, int* tag, long* len) {
  complete_finished_sends();
  int flag = 0;
  MPI_Status status;
  MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &status);
  if (!flag) return 0;
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  *source = status.MPI_SOURCE;
  *tag = status.MPI_TAG;
  *len = count;
  return 1;
}

int pyhost_mpi_recv(int source, int tag, char* buffer, long len) {
  return MPI_Recv(buffer, static_cast<int>(len), MPI_BYTE, source, tag, MPI_COMM_WORLD,
                  MPI_STATUS_IGNORE) == MPI_SUCCESS
             ? 0
             : 1;
}

int pyhost_mpi_finalize(void) {
  for (auto& send : pending_sends) MPI_Wait(&send.request, MPI_STATUS_IGNORE);
  pending_sends.clear();
  return MPI_Finalize() == MPI_SUCCESS ? 0 : 1;
}

void pyhost_mpi_abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
}

}  // extern "C"
