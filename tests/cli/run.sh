#!/bin/sh
# tests/cli/run.sh — golden-output tests of the meshgov and policy-check
# programs. Each case is a directory tests/cli/golden/<case>/ holding
#   cmd       the command line, run by sh from the repository root with the
#             built programs first on PATH
#   stdin     (optional) fed to the command; otherwise stdin is empty
#   stdout, stderr, status   what the command must print and exit with
# Policy set digests (64 hex digits) are replaced by <digest> before
# comparing: they are tested by the engine's own suite, and every compiler
# change would otherwise touch every golden file here.
#
# usage: sh tests/cli/run.sh BUILD_DIR
#        UPDATE=1 sh tests/cli/run.sh BUILD_DIR   rewrites the expectations
#        (read every rewritten file before committing it)
set -u
build=${1:?usage: sh tests/cli/run.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd) || exit 2
cd "$root" || exit 2
bin=$(cd "$build" 2>/dev/null && pwd) || { echo "run.sh: no build directory $build" >&2; exit 2; }
for p in meshgov policy-check; do
    [ -x "$bin/$p" ] || { echo "run.sh: $bin/$p is missing: run make first" >&2; exit 2; }
done
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' INT TERM

normalize() {
    sed 's/[0-9a-f]\{64\}/<digest>/g'
}

pass=0
fail=0
for dir in tests/cli/golden/*/; do
    dir=${dir%/}
    name=${dir##*/}
    input=/dev/null
    [ -f "$dir/stdin" ] && input=$dir/stdin
    PATH="$bin:$PATH" NO_COLOR=1 sh -c "$(cat "$dir/cmd")" <"$input" >"$tmp/out" 2>"$tmp/err"
    echo $? >"$tmp/status"
    normalize <"$tmp/out" >"$tmp/stdout"
    normalize <"$tmp/err" >"$tmp/stderr"
    if [ "${UPDATE:-}" = 1 ]; then
        cp "$tmp/stdout" "$tmp/stderr" "$tmp/status" "$dir/"
    fi
    ok=1
    : >"$tmp/diff"
    for f in status stdout stderr; do
        diff -u "$dir/$f" "$tmp/$f" >>"$tmp/diff" 2>&1 || ok=0
    done
    if [ $ok = 1 ]; then
        echo "ok    $name"
        pass=$((pass + 1))
    else
        echo "FAIL  $name"
        sed 's/^/      /' "$tmp/diff"
        fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed"
[ $fail = 0 ]
