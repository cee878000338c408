#!/bin/sh
# Makes sure Debian packages are installed: sh tools/ensure-debs.sh PKG...
# Missing ones are installed with apt-get when root and NO_AUTO_INSTALL is
# not 1 -- after a simulation (apt-get -s) shows that nothing installed gets
# removed (i386 and cross -dev packages can conflict with native ones); with
# removals, or when not root, it stops and names the packages.
set -eu
missing=""
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "${NO_AUTO_INSTALL:-0}" = 1 ] || [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "missing Debian packages:$missing (apt-get install --no-install-recommends$missing)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
sim=$(apt-get -s install --no-install-recommends $missing 2>&1) ||
    { apt-get update -qq >/dev/null 2>&1; sim=$(apt-get -s install --no-install-recommends $missing 2>&1); } ||
    { echo "$sim" | tail -n 5 >&2; echo "cannot install:$missing" >&2; exit 1; }
if echo "$sim" | grep -q '^Remv '; then
    echo "$sim" | grep '^Remv ' >&2
    echo "not installing$missing: apt-get would remove the packages above" >&2
    exit 1
fi
echo "installing$missing"
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
