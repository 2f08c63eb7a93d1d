# Sourced by the .ci/setup* scripts: the Debian packages each part needs, listed once.
# What `build/pyhost` needs (the quick path, .ci/setup); g++ and CMake come with most machines.
PYHOST_BUILD_DEPS=(cmake g++ make pkg-config libspdlog-dev libfmt-dev libcli11-dev
                   nlohmann-json3-dev libtomlplusplus-dev)
# What .ci/build-freethreaded-python needs: apt-get source, and the headers CPython's configure
# looks for, so that ssl, ctypes, sqlite3, bz2, lzma, readline, curses, uuid, dbm work.
FREETHREADED_BUILD_DEPS=(dpkg-dev xz-utils libssl-dev zlib1g-dev libffi-dev libbz2-dev liblzma-dev
                         libsqlite3-dev libreadline-dev libncurses-dev uuid-dev libgdbm-dev
                         libgdbm-compat-dev libexpat1-dev)
