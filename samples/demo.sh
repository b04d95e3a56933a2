#!/bin/sh
# samples/demo.sh BUILD_DIR — the tour `make demo` gives of the sample mesh
# (samples/mesh). `make demo` has already built everything in BUILD_DIR;
# this script builds nothing of the library itself. Each section shows the
# commands it runs, so they can be copied.
#
# Sections: access decisions, one decision explained, a batch of requests,
# CI checks, policy tests and CI reports, embedding (the sidecar), audit
# log, adoption. Later sections are marked below.
set -u
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd) || exit 2
cd "$root" || exit 2
meshgov=$build/meshgov
policy_check=$build/policy-check
mesh=samples/mesh
requests=samples/requests
failed=0

for p in "$meshgov" "$policy_check"; do
    [ -x "$p" ] || { echo "demo: $p is missing: run \`make demo\` (it builds first)" >&2; exit 2; }
done

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
    bold=$(printf '\033[1m') dim=$(printf '\033[2m') reset=$(printf '\033[0m')
else
    bold='' dim='' reset=''
fi

section() {
    printf '\n%s== %s ==%s\n' "$bold" "$1" "$reset"
}

note() {
    printf '%s%s%s\n' "$dim" "$1" "$reset"
}

# Shows a command, runs it, and remembers a failure; `expect` is the exit
# status the command should have.
run() {
    expect=$1
    shift
    printf '\n%s$ %s%s\n' "$bold" "$*" "$reset"
    "$@"
    status=$?
    if [ "$status" != "$expect" ]; then
        echo "demo: exit status $status, expected $expect" >&2
        failed=1
    fi
}

# meshgov eval for one sample request, in the text form.
decide() {
    product=$1 request=$2
    shift 2
    run 0 "$meshgov" eval --mesh "$mesh" --product "$product" --request "$requests/$request" --format text "$@"
}

# ==========================================================================
section "Access decisions: meshgov eval"
# ==========================================================================
note "Every data product embeds the engine; each request is decided against the
global policies the product adopts and its local ones. Default deny; a forbid
always beats a permit; masks apply to allowed columns."

note "
An analyst who is a pii-reader reads orders for an approved purpose (fraud):
everything allowed, the email masked with a keyed hash."
decide dp://sales/orders analyst-orders-fraud.json

note "
The same analyst without a purpose: evaluating the purpose fails (missing
attribute), so the PII forbid fails closed and the error is reported."
decide dp://sales/orders analyst-orders-no-purpose.json

note "
A pii-reader of another domain reads customer profiles for fraud: allowed,
with masks by tag (hash for email, redact for phone, year for birth date)."
decide dp://crm/customers pii-reader-customers-fraud.json

note "
An external partner id (ext-NNNN@partner.com) is refused financial columns."
decide dp://sales/orders partner-orders.json

note "
A request from a region the product does not allow: data_locality forbids
every action on the product."
decide dp://sales/orders orders-from-us-east.json

note "
A dry-run policy under trial (clicks_bot_guard) would deny a crawler: the
decision is unchanged, the difference is reported (and logged)."
decide dp://web/clicks bot-clicks-dry-run.json

# ==========================================================================
section "One decision explained: meshgov eval --explain"
# ==========================================================================
note "The JSON decision with the rule-by-rule trace, each rule with its
file:line:col."
run 0 "$meshgov" eval --mesh "$mesh" --product dp://sales/orders \
    --request "$requests/partner-orders.json" --explain

# ==========================================================================
section "A batch of requests: meshgov eval --requests (JSON Lines)"
# ==========================================================================
note "One request per line in, one decision per line out."
run 0 "$meshgov" eval --mesh "$mesh" --product dp://sales/orders --requests "$requests/batch.jsonl"

# ==========================================================================
section "CI: policy-check"
# ==========================================================================
note "Every product's manifest and policy set, as a CI job checks them."
run 0 "$policy_check" --mesh "$mesh"

# ==========================================================================
section "CI: policy tests, SARIF and JUnit (samples/ci, samples/broken)"
# ==========================================================================
note "Each product's policy tests (tests/*.yaml beside its manifest) decide
requests at a pinned clock and state the decision they expect; coverage is
the share of access rules the tests evaluate."
run 0 "$policy_check" --mesh "$mesh" --product dp://web/clicks --min-coverage 90
note "
samples/broken is the same mesh with the mistakes CI is there to catch: an
undeclared encryption, a global policy past its grace date, a failing policy
test, a typo in a policy. policy-check exits 1."
run 1 "$policy_check" --mesh samples/broken --now 2026-11-01T00:00:00Z
ci=$root/$build/demo-ci
mkdir -p "$ci"
note "
The reports samples/ci/policy-check.yml uploads: SARIF for code scanning,
JUnit XML for the test view."
for f in sarif junit; do
    out=$ci/policy-check.$f
    [ $f = junit ] && out=$ci/policy-check.xml
    printf '\n%s$ %s%s\n' "$bold" "$policy_check --mesh samples/broken --now 2026-11-01T00:00:00Z --format $f > $out" "$reset"
    "$policy_check" --mesh samples/broken --now 2026-11-01T00:00:00Z --format $f > "$out"
    [ $? = 1 ] || { echo "demo: policy-check --format $f: expected exit status 1" >&2; failed=1; }
done
note "$(grep -c '"ruleId"' "$ci/policy-check.sarif") SARIF results; $(grep -o '<testsuites[^>]*>' "$ci/policy-check.xml")"

# ==========================================================================
section "Embedding: the sample sidecar (samples/sidecar)"
# ==========================================================================
stage=$root/$build/stage
note "Installed into a staging prefix, then built with pkg-config as a data
product team would: one policy set, four threads deciding from handles."
run 0 ${MAKE:-make} -s install PREFIX="$stage" BUILD="$build"
run 0 ${MAKE:-make} -s -C samples/sidecar PKG_CONFIG_PATH="$stage/lib/pkgconfig" \
    MESHGOV_PREFIX="$stage" OUT="$root/$build/sidecar"
run 0 "$build/sidecar" "$mesh" dp://sales/orders 250000

# ==========================================================================
section "Audit log: meshgov eval --audit-log, meshgov audit ..."
# ==========================================================================
audit=$root/$build/demo-audit
rm -rf "$audit"
mkdir -p "$audit"
note "The product signs checkpoints of its log with its own key (mode 0600);
auditors pin the verifier key."
run 0 "$meshgov" audit keygen --name acme/sales/orders --out "$audit/orders.key"
note "
Deciding the batch again, every decision is recorded: subjects only as
pseudonyms (the key store is a separate file auditors never receive)."
run 0 "$meshgov" eval --mesh "$mesh" --product dp://sales/orders --requests "$requests/batch.jsonl" \
    --audit-log "$audit/orders.db" --audit-key "$audit/orders.key" --keystore "$audit/keys.db" --format text
run 0 "$meshgov" audit verify --log "$audit/orders.db" --key "$audit/orders.key.pub"
note "
What one subject did, looked up through the key store (the log itself holds
only the pseudonym)."
run 0 "$meshgov" audit query --log "$audit/orders.db" --keystore "$audit/keys.db" --subject fred@corp.example
note "
An inclusion proof of entry 1 against the signed checkpoint, checked
without the database."
printf '\n%s$ %s%s\n' "$bold" "$meshgov audit prove --log $audit/orders.db --seq 1 > $audit/proof.json" "$reset"
"$meshgov" audit prove --log "$audit/orders.db" --seq 1 > "$audit/proof.json" || failed=1
run 0 "$meshgov" audit check-proof --key "$audit/orders.key.pub" "$audit/proof.json"
note "
The same proof as a C2SP tlog-proof, the text format transparency-log tools
read: the entry, its index, the path, then the signed checkpoint."
run 0 "$meshgov" audit prove --log "$audit/orders.db" --seq 1 --format tlog-proof
"$meshgov" audit prove --log "$audit/orders.db" --seq 1 --format tlog-proof > "$audit/entry1.tlog-proof" || failed=1
run 0 "$meshgov" audit check-proof --key "$audit/orders.key.pub" "$audit/entry1.tlog-proof"
note "
The product rotates its signing key: both keys sign the rotation's
checkpoint, and auditors pin the two lines printed."
run 0 "$meshgov" audit keygen --name acme/sales/orders --out "$audit/orders-2.key"
run 0 "$meshgov" audit rotate --log "$audit/orders.db" --key "$audit/orders.key" --new-key "$audit/orders-2.key" --keystore "$audit/keys.db"
note "
Someone edits a copy of the log (one decision turned into a deny): the
verifier names the entry and exits 3."
if command -v sqlite3 > /dev/null; then
    printf '\n%s$ %s%s\n' "$bold" "cp $audit/orders.db $audit/tampered.db" "$reset"
    cp "$audit/orders.db" "$audit/tampered.db"
    printf '\n%s$ %s%s\n' "$bold" "sqlite3 $audit/tampered.db \"UPDATE entries SET effect='deny' WHERE seq=2\"" "$reset"
    sqlite3 "$audit/tampered.db" "UPDATE entries SET effect='deny' WHERE seq=2"
    printf '\n%s$ %s%s\n' "$bold" "$meshgov audit verify --log $audit/tampered.db --key $audit/orders.key.pub" "$reset"
    "$meshgov" audit verify --log "$audit/tampered.db" --key "$audit/orders.key.pub"
    status=$?
    if [ "$status" = 3 ]; then
        note "verify exited 3: the edited entry was caught, as expected."
    else
        echo "demo: verify of the tampered copy exited $status, expected 3" >&2
        failed=1
    fi
else
    note "(sqlite3 is not installed: the tampering step is skipped)"
fi

# ==========================================================================
# Section: retention sweeps (meshgov retention sweep) — to be added here.
# ==========================================================================

# ==========================================================================
# Section: right to be forgotten (meshgov forget) — to be added here.
# ==========================================================================

# ==========================================================================
section "Adoption: meshgov adoption"
# ==========================================================================
adoption=$root/$build/report
note "Which product adopts which global policy, at which version and mode, with
its static checks; decision counts come from two products' audit logs."
run 0 sh samples/audit-logs.sh "$build" "$adoption/audit"
run 0 "$meshgov" adoption --mesh "$mesh" --audit-dir "$adoption/audit"
note "
The same as one self-contained HTML page an auditor can open offline."
run 0 "$meshgov" adoption --mesh "$mesh" --audit-dir "$adoption/audit" --format html \
    --out "$adoption/adoption.html"
note "Open $adoption/adoption.html in a browser."

echo
if [ $failed != 0 ]; then
    echo "demo: some steps did not go as expected (see above)" >&2
    exit 1
fi
echo "demo: done"
