/* Raw MPI ping-pong, the floor under any per-task dispatch over MPI: rank 0 sends a small
 * message to rank 1, which answers; prints the median round trip in microseconds.
 * Built and run by bench/bench_mpi.py: mpicc -O2 mpi_pingpong.c; mpirun -n 2 a.out [ROUNDS]
 * (ROUNDS 0: MPI_Init and MPI_Finalize only, an MPI program's start-up). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int by_value(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const int rounds = argc > 1 ? atoi(argv[1]) : 10000;
  char message[64] = "{\"asked\": 1, \"ids\": [12345]}"; /* the size of a kTasks reply */
  double* trips = malloc(sizeof(double) * (size_t)(rounds > 0 ? rounds : 1));
  for (int warm = 0; warm < 2; ++warm) {
    for (int i = 0; i < rounds; ++i) {
      const double start = MPI_Wtime();
      if (rank == 0) {
        MPI_Send(message, sizeof message, MPI_CHAR, 1, 0, MPI_COMM_WORLD);
        MPI_Recv(message, sizeof message, MPI_CHAR, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      } else if (rank == 1) {
        MPI_Recv(message, sizeof message, MPI_CHAR, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(message, sizeof message, MPI_CHAR, 0, 0, MPI_COMM_WORLD);
      }
      trips[i] = (MPI_Wtime() - start) * 1e6;
    }
  }
  if (rank == 0 && rounds > 0) {
    qsort(trips, (size_t)rounds, sizeof(double), by_value);
    printf("%.2f %.2f\n", trips[rounds / 2], trips[rounds * 9 / 10]);
  }
  free(trips);
  MPI_Finalize();
  return 0;
}
