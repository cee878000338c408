#!/bin/sh
# The programs in README.md marked "<!-- compile: NAME.c -->" compile with
# -Werror against the static library, and the server and client run: the
# client's hello comes back and its close (4321, "bye now") is echoed.
set -eu
B=${B:-build}
dir=$(mktemp -d)
trap 'kill "$srv" 2>/dev/null || true; rm -rf "$dir"' EXIT
srv=""
awk -v dir="$dir" '
    /^<!-- compile: [A-Za-z0-9_.]+ -->$/ { name = $3; next }
    name != "" && /^```c$/ { out = dir "/" name; printf "" > out; grab = 1; next }
    grab && /^```$/ { grab = 0; name = ""; close(out); next }
    grab { print >> out }
' README.md
# A WITH_ZLIB=1 library needs zlib at link time.
libs=""
ar t "$B/libws6455.a" | grep -q '^deflate\.o$' && libs=-lz
for f in readme_codec readme_server readme_client; do
    [ -s "$dir/$f.c" ] || { echo "README.md has no $f.c block"; exit 1; }
    ${CC:-cc} -std=c11 -Wall -Wextra -Wpedantic -Werror -Iinclude "$dir/$f.c" "$B/libws6455.a" \
        $libs -o "$dir/$f"
done
"$dir/readme_codec" >"$dir/codec.out"
grep -q '^opcode 1: Hello$' "$dir/codec.out"
grep -q '^s3pPLMBiTxaQ9kYGzzhZRbK+xOo=$' "$dir/codec.out"
"$dir/readme_server" 0 >"$dir/server.out" &
srv=$!
port=""
for _ in $(seq 50); do
    port=$(sed -n 's|^listening on ws://127.0.0.1:\([0-9]*\)/$|\1|p' "$dir/server.out")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "readme_server did not start"; exit 1; }
out=$(timeout 10 "$dir/readme_client" "$port")
want=$(printf 'got: hello\nclosed: 4321 bye now (clean: 1)')
[ "$out" = "$want" ] || { echo "readme_client said:"; echo "$out"; exit 1; }
echo "README programs ok"
