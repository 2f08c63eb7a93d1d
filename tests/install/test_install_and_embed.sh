#!/usr/bin/env bash
# Installs the build into a fresh prefix, then builds examples/embed against the installed CMake
# package (not the build tree) and runs it in two modes. Usage: test_install_and_embed.sh BUILD SRC
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/lib/cmake/pyhost/pyhostConfig.cmake"
test -f "$work/prefix/include/pyhost/run.hpp"
# The public headers are host/include/pyhost/, all of them (one includes another), and only they.
for public in "$src"/host/include/pyhost/*.hpp; do
  name=$(basename "$public")
  if ! test -f "$work/prefix/include/pyhost/$name"; then echo "public header not installed: $name"; exit 1; fi
done
for private in protocol.hpp output_mux.hpp compare.hpp byte_channel.hpp kernels.hpp backend.hpp; do
  if test -e "$work/prefix/include/pyhost/$private"; then echo "installed a private header: $private"; exit 1; fi
done
cmake -S "$src/examples/embed" -B "$work/example" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/example" >/dev/null
expected=$(python3 -c 'print(sum(i * i for i in range(1000000)))')
for mode in subinterpreters processes; do
  out=$(cd "$work" && "$work/example/sum_of_squares" "$mode")
  echo "$mode: $out"
  case "$out" in
    "sum of squares below 1000000 = $expected (4 tasks, $mode, 2 workers,"*) ;;
    *) echo "unexpected output in $mode mode"; exit 1 ;;
  esac
done
# A mode the library does not have is an error the application can report.
if out=$("$work/example/sum_of_squares" fibers 2>&1); then echo "an unknown mode ran"; exit 1; fi
case "$out" in *"unknown mode 'fibers'"*) ;; *) echo "unexpected: $out"; exit 1 ;; esac
echo "installed package OK"
