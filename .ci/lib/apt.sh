# Sourced by the .ci/setup* scripts: install the Debian packages of a list that are missing, in
# one apt-get call (root, or sudo otherwise). Prints what it installs and how long it took.
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  local sudo="" t0=$SECONDS
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  # A fresh machine's package lists may be missing or stale: refresh them once, only when needed.
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
  echo "setup: apt-get install: $((SECONDS - t0)) s"
}
