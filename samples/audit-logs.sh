#!/bin/sh
# samples/audit-logs.sh BUILD_DIR OUT_DIR — decision logs of two sample
# products, as `meshgov adoption --audit-dir OUT_DIR` reads them
# (OUT_DIR/<domain>/<name>.db): dp://sales/orders decides
# samples/requests/batch.jsonl, dp://web/clicks decides
# samples/requests/clicks.jsonl (where a dry-run policy would deny two
# crawlers). Signing keys and key stores go to OUT_DIR/keys/, which an
# auditor would never receive. Used by `make check-report` and the demo.
set -u
build=${1:?usage: sh samples/audit-logs.sh BUILD_DIR OUT_DIR}
out=${2:?usage: sh samples/audit-logs.sh BUILD_DIR OUT_DIR}
meshgov=$build/meshgov
rm -rf "$out" && mkdir -p "$out/keys" || exit 2
log() {
    product=$1 requests=$2
    rest=${product#dp://}
    domain=${rest%%/*} name=${rest#*/}
    mkdir -p "$out/$domain" || exit 2
    "$meshgov" audit keygen --name "acme/$domain/$name" --out "$out/keys/$name.key" > /dev/null || exit 2
    "$meshgov" eval --mesh samples/mesh --product "$product" --requests "samples/requests/$requests" \
        --now 2026-06-01T12:00:00Z --audit-log "$out/$domain/$name.db" --audit-key "$out/keys/$name.key" \
        --keystore "$out/keys/$name-keys.db" > /dev/null || exit 2
}
log dp://sales/orders batch.jsonl
log dp://web/clicks clicks.jsonl
