/* The C ABI of libpyhost_mpi.so: the only code of pyhost that calls MPI. pyhost dlopens it when
 * a run asks for `--engine mpi` (host/mpi/mpi_transport.cpp), so that the pyhost binary never
 * links libmpi and starts as fast as before on machines with or without MPI. Plain C types only:
 * the library and pyhost may carry different copies of the C++ runtime.
 * Every call comes from one thread at a time (MPI_THREAD_SERIALIZED). */
#pragma once

#define PYHOST_MPI_ABI_VERSION 1

#ifdef __cplusplus
extern "C" {
#endif

int pyhost_mpi_abi_version(void);
/* MPI_Init_thread; 0 on success, else an error message in `error`. */
int pyhost_mpi_init(int* rank, int* size, char* error, int error_len);
/* The MPI library's version string (MPI_Get_library_version) and this node's name. */
void pyhost_mpi_describe(char* library, int library_len, char* host, int host_len);
/* Sends a copy of `data` to `dest` without blocking (MPI_Isend; completed by later calls). */
int pyhost_mpi_send(int dest, int tag, const char* data, long len);
/* One probe for any message: 1 and its source, tag and length when there is one, else 0.
 * Also advances the sends in flight. */
int pyhost_mpi_probe(int* source, int* tag, long* len);
/* Receives the message just probed into `buffer` (len bytes). */
int pyhost_mpi_recv(int source, int tag, char* buffer, long len);
/* Waits for the sends in flight, then MPI_Finalize. */
int pyhost_mpi_finalize(void);
/* MPI_Abort(MPI_COMM_WORLD, code): ends every rank of the job. */
void pyhost_mpi_abort(int code);

#ifdef __cplusplus
}
#endif
