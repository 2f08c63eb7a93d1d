#!/bin/sh
# Open MPI's rsh agent (plm_rsh_agent) for "nodes" that are network namespaces of this machine
# (made by tests/e2e/test_mpi_netns.py): called as AGENT [OPTIONS] HOST COMMAND..., it runs
# COMMAND as a remote shell would, inside HOST's namespace and under the namespace's name as its
# host name. $PYHOST_NETNS_HOSTS maps each HOST (an address) to its namespace, one "HOST NS" a line.
while [ "${1#-}" != "$1" ]; do shift; done
host=$1
shift
ns=$(sed -n "s/^$host //p" "${PYHOST_NETNS_HOSTS:?}")
[ -n "$ns" ] || { echo "netns_agent: unknown host $host" >&2; exit 255; }
exec ip netns exec "$ns" unshare --uts sh -c "hostname $ns; $*"
