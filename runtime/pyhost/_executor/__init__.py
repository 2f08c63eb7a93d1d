"""pyhost.Executor and the transport of pyhost.Channel, one module per concern. Nothing is
imported here: a worker imports `worker` (and with it `protocol`) only, for its start-up time.

Layers, each importing only those above it (tests/python/test_import_graph.py checks that no
module of pyhost imports itself through others):

  protocol     the wire format between executor and worker: frames, call and result payloads
  worker       the loop a sub-interpreter or process worker runs
  errors       WorkerCrashed, RemoteError, a worker's exception rebuilt here
  channel_rpc  Channel operations asked of another party: codes, ChannelClosed, ProxyBackend
  ranks        letters between MPI ranks, and Channel operations across them
  pickling     what goes by value, the `-c` PicklingError, the pickled-call codec
  output       process workers' stdout/stderr forwarded to the task that made the executor
  forkserver   process workers forked from a server instead of started afresh
  workers      the local workers: sub-interpreter, process, thread (one face)
  mpi          rank 0's remote workers (that face again) and the serving ranks' loop
  mpi_serve    what serving ranks run (`-m`)
  main_guard   refuses an executor made by the main script's unguarded top level
  executor     the Executor: scheduling, batching, map, futures, crash handling

pyhost.executor and pyhost.channel are the public modules built on them.
"""
