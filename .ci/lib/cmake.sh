# Sourced by the .ci scripts: the CMake options their builds share, written once.
# A unity build: a dozen of pyhost's sources compiled as one (the tests' 8, tests/CMakeLists.txt),
# which parses and instantiates the libraries' templates (fmt, nlohmann-json, CLI11) a dozen times
# less: a fresh build takes about a third of the CPU time.
UNITY_BUILD=(-DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=12)
# ccache for C and C++: the builds of CI share most objects with one another.
CCACHE_LAUNCHERS=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
