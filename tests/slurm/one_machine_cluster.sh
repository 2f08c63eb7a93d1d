#!/usr/bin/env bash
# A Slurm cluster on one machine, and `pyhost run --engine mpi` on it.
#
# A controller (slurmctld, in this machine's own network) and two slurmd "nodes", each in network,
# mount and UTS namespaces of its own: its own address on a bridge, its own host name, its own /tmp
# and /dev/shm. A private munged (own key and socket) authenticates them. Then:
#   1. srun --mpi=pmix -N2 pyhost run --engine mpi --tasks K ...  (threads and processes modes):
#      every task runs exactly once, ranks 0 and 1 on the two nodes, over TCP;
#   2. srun --mpi=pmix -N2 pyhost batch --engine mpi: a job file over both nodes (a pinned job,
#      a gang of 2 ranks); pyhost.Executor(mode="mpi") served by rank 1 on the second node;
#   3. sbatch --array=0-3 --wait: every element runs its pyhost run, on the nodes.
# Prints each check; exits 0 when all pass, 1 on a failed check, 77 (skip) when it cannot run here
# (not root, Slurm/munge/MPI/iproute2 missing: `--install` apt-installs the Debian packages).
# Idempotent: it first removes what an earlier run left, and removes all it made when it ends
# (PYHOST_SLURM_KEEP=1 keeps the logs in the work directory).
#
#   tests/slurm/one_machine_cluster.sh [--install]
# Environment: PYHOST_BIN (default build/pyhost), PYHOST_SLURM_DIR (default /var/tmp/pyhost-slurm;
# not under /tmp, which each node replaces; a checkout under /tmp is bound into the nodes),
# PYHOST_SLURM_NAME (prefix of namespace, link and node names, default phslm), PYHOST_SLURM_NET
# (a /24 for the bridge, default 10.231.17),
# PYHOST_SLURM_PORT (slurmctld's port; slurmd's is the next, default 16817).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
PYHOST=${PYHOST_BIN:-$REPO/build/pyhost}
WORK=${PYHOST_SLURM_DIR:-/var/tmp/pyhost-slurm}
NAME=${PYHOST_SLURM_NAME:-phslm}
NET=${PYHOST_SLURM_NET:-10.231.17}
PORT=${PYHOST_SLURM_PORT:-16817}
PROBE=$REPO/tests/e2e/mpi/probe.py
NODES=("${NAME}1" "${NAME}2")
BRIDGE=${NAME}br
CONF=$WORK/slurm.conf
SHARED=$WORK/shared
START=$SECONDS

say() { printf '%s\n' "$*"; }
skip() { say "SKIP: $*"; exit 77; }
fail() { say "FAIL: $*"; FAILED=1; }
FAILED=0

if [ "${1:-}" = --install ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurmctld slurmd \
    slurm-client slurm-wlm-basic-plugins munge >/dev/null
fi
[ "$(id -u)" = 0 ] || skip "needs root (network and mount namespaces, Slurm daemons)"
for tool in slurmctld slurmd munged srun sbatch sinfo scontrol ip unshare nsenter python3; do
  command -v "$tool" >/dev/null ||
    skip "$tool not found (Debian: slurmctld slurmd slurm-client munge iproute2; or --install)"
done
[ -x "$PYHOST" ] || skip "no pyhost binary at $PYHOST (set PYHOST_BIN)"
[ -e "$(dirname "$PYHOST")/lib/libpyhost_mpi.so" ] || skip "no lib/libpyhost_mpi.so next to $PYHOST"

# --- teardown: also what an earlier run left -------------------------------------------------
stop_pidfile() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 0
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
  kill -9 "$pid" 2>/dev/null || true
}
teardown() {
  # Job steps first (slurmstepd and their tasks live in the nodes' namespaces), then the daemons.
  for node in "${NODES[@]}"; do
    if ip netns pids "${NAME}-$node" >/dev/null 2>&1; then
      ip netns pids "${NAME}-$node" | xargs -r kill -9 2>/dev/null || true
    fi
  done
  stop_pidfile "$WORK/ctld/slurmctld.pid"
  stop_pidfile "$WORK/munge/munged.pid"
  for node in "${NODES[@]}"; do ip netns del "${NAME}-$node" 2>/dev/null || true; done
  ip link del "$BRIDGE" 2>/dev/null || true
}
# shellcheck disable=SC2317 # run by the EXIT trap
finish() {
  local rc=$?
  teardown
  if [ "${PYHOST_SLURM_KEEP:-0}" = 1 ]; then say "logs kept in $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
teardown
rm -rf "$WORK"
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
mkdir -p "$WORK"/{ctld,munge,shared} && chmod 700 "$WORK/munge"

# --- munge: a key and a socket of this cluster's own ----------------------------------------
dd if=/dev/urandom of="$WORK/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$WORK/munge/munge.key"
munged --force --socket="$WORK/munge/socket" --key-file="$WORK/munge/munge.key" \
  --pid-file="$WORK/munge/munged.pid" --log-file="$WORK/munge/munged.log" \
  --seed-file="$WORK/munge/seed" 2>"$WORK/munge/start.err" ||
  { cat "$WORK/munge/start.err"; fail "munged did not start"; exit 1; }

# --- network: a bridge here, one veth into each node's namespace ------------------------------
ip link add "$BRIDGE" type bridge
ip addr add "$NET.1/24" dev "$BRIDGE"
ip link set "$BRIDGE" up
for i in 1 2; do
  ns="${NAME}-${NODES[i - 1]}"
  ip netns add "$ns"
  ip link add "${NAME}h$i" type veth peer name "${NAME}n$i"
  ip link set "${NAME}n$i" netns "$ns"
  ip link set "${NAME}h$i" master "$BRIDGE" up
  ip -n "$ns" addr add "$NET.1$i/24" dev "${NAME}n$i"
  ip -n "$ns" link set "${NAME}n$i" up
  ip -n "$ns" link set lo up
done

# --- Slurm configuration --------------------------------------------------------------------
CTLD_HOST=$(hostname -s)
cat >"$CONF" <<EOF
ClusterName=pyhost
SlurmctldHost=$CTLD_HOST($NET.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$WORK/munge/socket
CredType=cred/munge
StateSaveLocation=$WORK/ctld
SlurmctldPidFile=$WORK/ctld/slurmctld.pid
SlurmctldLogFile=$WORK/ctld/slurmctld.log
SlurmdSpoolDir=$WORK/%n/spool
SlurmdPidFile=$WORK/%n/slurmd.pid
SlurmdLogFile=$WORK/%n/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=${NODES[0]} NodeAddr=$NET.11 CPUs=2 State=UNKNOWN
NodeName=${NODES[1]} NodeAddr=$NET.12 CPUs=2 State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=10 State=UP
EOF
export SLURM_CONF=$CONF

slurmctld -c -f "$CONF" || { fail "slurmctld did not start"; exit 1; }
# Each node: its namespace (network; nsenter, not `ip netns exec`, which would mount a /sys without
# the cgroup file systems slurmd wants), then its own host name (UTS: slurmd finds its NodeName by
# it, and tasks see it as pyhost.host), its own /tmp and /dev/shm (mount). slurmd daemonizes.
# A checkout or binary under /tmp (a clone made there) stays visible on the nodes at its path, as
# a cluster's shared file system would be: the machine's /tmp is bound aside before the node's
# own is mounted, and those directories are bound back from it.
SHARED_UNDER_TMP=()
for dir in "$REPO" "$(dirname "$PYHOST")"; do
  case $dir in /tmp/*) SHARED_UNDER_TMP+=("$dir") ;; esac
done
for i in 1 2; do
  node=${NODES[i - 1]}
  mkdir -p "$WORK/$node/spool" "$WORK/$node/machine-tmp"
  # shellcheck disable=SC2016 # $1, $2, $3 and $@ are the inner shell's
  nsenter --net="/run/netns/${NAME}-$node" unshare --mount --uts --propagation private sh -c '
    node=$1 conf=$2 aside=$3 && shift 3 &&
    hostname "$node" && mount --bind /tmp "$aside" &&
    mount -t tmpfs -o size=512m tmpfs /tmp && mount -t tmpfs tmpfs /dev/shm &&
    for dir in "$@"; do
      mkdir -p "$dir" && mount --bind "$aside${dir#/tmp}" "$dir" || exit 1
    done &&
    exec slurmd -f "$conf"' sh "$node" "$CONF" "$WORK/$node/machine-tmp" "${SHARED_UNDER_TMP[@]}" ||
    { fail "slurmd on $node did not start"; exit 1; }
done

wait_idle() {
  for _ in $(seq 600); do
    [ "$(sinfo -h -N -o '%N %T' 2>/dev/null | grep -c ' idle$')" = 2 ] && return 0
    sleep 0.1
  done
  return 1
}
if wait_idle; then
  say "ok: cluster up in $((SECONDS - START)) s: $(sinfo -h -N -o '%N(%T)' | tr '\n' ' ')"
else
  sinfo -N || true
  tail -5 "$WORK/ctld/slurmctld.log" "$WORK"/"${NAME}"*/slurmd.log || true
  fail "the two nodes did not come up idle within 60 s"
  exit 1
fi
say "srun --mpi=list: $(srun --mpi=list 2>&1 | tr -s '\n ' ' ')"

# --- each node has its own /tmp -------------------------------------------------------------
got=$(srun -N2 --ntasks-per-node=1 -l sh -c 'hostname >/tmp/pyhost-slurm-whoami; cat /tmp/pyhost-slurm-whoami' | sort)
want=$(printf '0: %s\n1: %s' "${NODES[0]}" "${NODES[1]}")
if [ "$got" = "$want" ] && [ ! -e /tmp/pyhost-slurm-whoami ]; then
  say "ok: each node has its own host name and /tmp"
else
  fail "nodes' /tmp or names: got '$got', want '$want'"
fi

# --- srun --mpi=pmix -N2 pyhost run --engine mpi --------------------------------------------
# Open MPI under srun: PMIx from slurmstepd; TCP between the nodes (no shared memory across).
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_btl_tcp_if_include=$NET.0/24
check_run() { # NAME SCHEDULE TASKS JSON WORKDIR: every task ok, once, rank 0/1 on node 1/2
  python3 - "$@" "${NODES[@]}" <<'EOF'
import json, pathlib, sys
name, schedule, tasks, doc, work, node_a, node_b = sys.argv[1:]
tasks, doc, work = int(tasks), json.loads(pathlib.Path(doc).read_text()), pathlib.Path(work)
problems = []
if doc.get("ranks") != 2:
    problems.append(f"ranks {doc.get('ranks')}")
if sorted(t["id"] for t in doc["tasks"]) != list(range(tasks)):
    problems.append("task ids in --json are not 0..K-1 once each")
if any(t["status"] != "ok" for t in doc["tasks"]):
    problems.append(f"statuses {[t['status'] for t in doc['tasks']]}")
runs = {int(p.name): len(p.read_text().split()) for p in (work / "runs").iterdir()}
if runs != {k: 1 for k in range(tasks)}:
    problems.append(f"runs per task {runs}")
places = {(t["rank"], t["host"]) for t in doc["tasks"]}
if not places <= {(0, node_a), (1, node_b)}:
    problems.append(f"(rank, host) of the tasks {sorted(places)}")
# Static: task k on rank k mod 2, so both nodes run tasks (dynamic may give a late rank none).
if schedule == "static" and any(t["rank"] != t["id"] % 2 for t in doc["tasks"]):
    problems.append("static schedule: a task k not on rank k mod 2")
per_rank = {r: sum(t["rank"] == r for t in doc["tasks"]) for r in (0, 1)}
print(("ok: " if not problems else "FAIL: ") + f"{name}: {tasks} tasks, each once, ok; "
      f"rank 0 on {node_a} ran {per_rank[0]}, rank 1 on {node_b} ran {per_rank[1]}"
      + ("" if not problems else "; " + "; ".join(problems)))
sys.exit(1 if problems else 0)
EOF
}
srun_pyhost() { # MPI MODE SCHEDULE TASKS: srun --mpi=MPI -N2 pyhost run --engine mpi ...
  local mpi=$1 mode=$2 schedule=$3 tasks=$4 dir=$SHARED/srun-$1-$2
  mkdir -p "$dir"
  local t0=$SECONDS
  if srun --mpi="$mpi" -N2 --ntasks-per-node=1 --kill-on-bad-exit=1 "$PYHOST" run --engine mpi \
    --mode "$mode" --schedule "$schedule" -j 2 --tasks "$tasks" --json "$dir/run.json" "$PROBE" "$dir" \
    >"$dir/stdout" 2>"$dir/stderr"; then
    check_run "srun --mpi=$mpi -N2 pyhost run --engine mpi --mode $mode --schedule $schedule -j 2 ($((SECONDS - t0)) s)" \
      "$schedule" "$tasks" "$dir/run.json" "$dir" || FAILED=1
  else
    tail -20 "$dir/stderr"
    fail "srun --mpi=$mpi -N2 pyhost run --engine mpi --mode $mode exited non-zero"
  fi
}
srun_pyhost pmix threads static 40
srun_pyhost pmix processes dynamic 20

# --- srun ... pyhost batch --engine mpi: one allocation, a whole job file -------------------
batch_dir=$SHARED/batch
mkdir -p "$batch_dir"
{
  for k in 0 1 2 3 4 5; do
    printf '[[job]]\nname = "j%s"\ncode = "import pyhost; print(\\"j%s on\\", pyhost.host)"\n\n' "$k" "$k"
  done
  printf '[[job]]\nname = "pinned"\nhost = "%s"\ncode = "import pyhost; print(\\"pinned on\\", pyhost.host)"\n\n' "${NODES[1]}"
  printf '[[job]]\nname = "gang"\nranks = 2\nneeds = ["j0"]\n'
  printf 'code = "import os, pyhost; print(\\"member\\", os.environ[\\"PYHOST_JOB_RANK\\"], \\"of\\", os.environ[\\"PYHOST_JOB_RANKS\\"], \\"on\\", pyhost.host)"\n'
} >"$batch_dir/jobs.toml"
t0=$SECONDS
if srun --mpi=pmix -N2 --ntasks-per-node=1 --kill-on-bad-exit=1 "$PYHOST" batch "$batch_dir/jobs.toml" \
  --engine mpi --jobs 2 --results-dir "$batch_dir/results" --json "$batch_dir/results.json" \
  >"$batch_dir/stdout" 2>"$batch_dir/stderr"; then
  python3 - "$batch_dir" "$((SECONDS - t0))" "${NODES[@]}" <<'EOF' || FAILED=1
import json, pathlib, sys
work, seconds, node_a, node_b = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
doc = json.loads((work / "results.json").read_text())
jobs = {j["name"]: j for j in doc["jobs"]}
problems = []
if doc.get("hosts") != [node_a, node_b]:
    problems.append(f"hosts {doc.get('hosts')}")
if sorted(jobs) != sorted([f"j{k}" for k in range(6)] + ["pinned", "gang"]):
    problems.append(f"jobs {sorted(jobs)}")
if any(j["status"] != "ok" for j in jobs.values()):
    problems.append(f"statuses { {n: j['status'] for n, j in jobs.items()} }")
if jobs.get("pinned", {}).get("host") != node_b:
    problems.append(f"pinned ran on {jobs.get('pinned', {}).get('host')}")
if sorted(jobs.get("gang", {}).get("hosts") or []) != sorted([node_a, node_b]):
    problems.append(f"gang members on {jobs.get('gang', {}).get('hosts')}")
used = {j.get("host") for j in jobs.values()}
if used != {node_a, node_b}:
    problems.append(f"jobs ran on {sorted(map(str, used))} only")
print(("ok: " if not problems else "FAIL: ") + f"srun --mpi=pmix -N2 pyhost batch --engine mpi ({seconds} s): "
      f"{len(jobs)} jobs ok on {', '.join(sorted(map(str, used)))}; a job pinned to {node_b} ran there; "
      "a gang of 2 ran one member per node" + ("" if not problems else "; " + "; ".join(problems)))
sys.exit(1 if problems else 0)
EOF
else
  tail -20 "$batch_dir/stderr"
  fail "srun --mpi=pmix -N2 pyhost batch --engine mpi exited non-zero"
fi

# --- srun ... pyhost run --engine mpi: pyhost.Executor(mode="mpi") served by rank 1 ------------
exec_dir=$SHARED/executor
mkdir -p "$exec_dir"
cat >"$exec_dir/square.py" <<'EOF'
import pyhost

def where(x):
    return x * x, pyhost.host

if __name__ == "__main__":
    with pyhost.Executor(mode="mpi", local="processes", workers=2) as ex:
        results = list(ex.map(where, range(20), chunksize=3))
    print("sum", sum(r for r, _ in results), "hosts", " ".join(sorted({h for _, h in results})))
EOF
t0=$SECONDS
if got=$(cd "$exec_dir" && srun --mpi=pmix -N2 --ntasks-per-node=1 --kill-on-bad-exit=1 "$PYHOST" run \
  --engine mpi square.py 2>"$exec_dir/stderr"); then
  if [ "$got" = "sum 2470 hosts ${NODES[1]}" ]; then
    say "ok: srun --mpi=pmix -N2 pyhost run --engine mpi: Executor(mode=\"mpi\") map on rank 1 (${NODES[1]}): $got ($((SECONDS - t0)) s)"
  else
    fail "Executor(mode=\"mpi\") under srun printed '$got' (want 'sum 2470 hosts ${NODES[1]}')"
  fi
else
  tail -20 "$exec_dir/stderr"
  fail "srun --mpi=pmix -N2 pyhost run --engine mpi square.py exited non-zero"
fi

# --- sbatch --array: each element a pyhost run on a node -----------------------------------
array_dir=$SHARED/array
mkdir -p "$array_dir"
t0=$SECONDS
cat >"$array_dir/job.sh" <<EOF
#!/bin/sh
exec '$PYHOST' run -j 2 --tasks 3 --json "$array_dir/\$SLURM_ARRAY_TASK_ID.json" -c '
import os, pyhost
print("element", os.environ["SLURM_ARRAY_TASK_ID"], "task", pyhost.task_id, "on", pyhost.host)'
EOF
if sbatch --quiet --wait --array=0-3 -N1 -n1 -o "$array_dir/%a.out" -e "$array_dir/%a.err" \
  "$array_dir/job.sh"; then
  python3 - "$array_dir" "${NODES[@]}" <<'EOF' || FAILED=1
import json, pathlib, sys
work, nodes = pathlib.Path(sys.argv[1]), set(sys.argv[2:])
problems, hosts = [], set()
for element in range(4):
    doc = json.loads((work / f"{element}.json").read_text())
    if sorted(t["id"] for t in doc["tasks"]) != [0, 1, 2] or any(t["status"] != "ok" for t in doc["tasks"]):
        problems.append(f"element {element}: tasks {doc['tasks']}")
    lines = sorted((work / f"{element}.out").read_text().splitlines())
    host = lines[0].split()[-1] if lines else "?"
    hosts.add(host)
    want = sorted(f"[task {k}] element {element} task {k} on {host}" for k in range(3))
    if lines != want or host not in nodes:
        problems.append(f"element {element}: output {lines}")
print(("ok: " if not problems else "FAIL: ") + "sbatch --array=0-3: 4 elements, 3 tasks each, ok, "
      f"on {', '.join(sorted(hosts))}" + ("" if not problems else "; " + "; ".join(problems)))
sys.exit(1 if problems else 0)
EOF
  say "   (sbatch --wait returned after $((SECONDS - t0)) s)"
else
  cat "$array_dir"/*.err 2>/dev/null | tail -20
  fail "sbatch --array --wait exited non-zero"
fi

if [ "$FAILED" = 0 ]; then
  say "all checks passed in $((SECONDS - START)) s"
else
  say "some checks failed (PYHOST_SLURM_KEEP=1 keeps the logs in $WORK)"
fi
exit "$FAILED"
