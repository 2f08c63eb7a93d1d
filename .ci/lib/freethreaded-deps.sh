# Sourced: what .ci/build-freethreaded-python needs: apt-get source, and the headers CPython's
# configure looks for, so that ssl, ctypes, sqlite3, bz2, lzma, readline, curses, uuid, dbm work.
FREETHREADED_BUILD_DEPS=(dpkg-dev xz-utils libssl-dev zlib1g-dev libffi-dev libbz2-dev liblzma-dev
                         libsqlite3-dev libreadline-dev libncurses-dev uuid-dev libgdbm-dev
                         libgdbm-compat-dev libexpat1-dev)
