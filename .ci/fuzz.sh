#!/usr/bin/env bash
# Fuzz every cargo-fuzz target in fuzz/ for SECONDS each (default 60), one job at a time.
# Works from a clean clone: installs cargo-fuzz if missing and starts from the committed seeds in
# fuzz/corpus/<target>/ (what the run adds there is git-ignored). Fails if any target crashes,
# printing the crash input's path and the command that replays it.
#
#   .ci/fuzz.sh            # 60 s per target
#   .ci/fuzz.sh 600        # 10 min per target
#   FUZZ_SANITIZER=address .ci/fuzz.sh   # with AddressSanitizer (slower; default: none, the
#                                        # targets only reach safe Rust in leakhound itself)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
secs="${1:-60}"
sanitizer="${FUZZ_SANITIZER:-none}"
export CARGO_TERM_COLOR=never
# cargo-fuzz needs nightly-only flags; this lets the stable toolchain accept them.
export RUSTC_BOOTSTRAP=1

case "$secs" in
'' | *[!0-9]*)
    echo "usage: $0 [SECONDS]" >&2
    exit 2
    ;;
esac

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
cargo fuzz --version

# -a: debug assertions and overflow checks, which several invariants rely on.
flags=(-a -s "$sanitizer")
echo "== build"
cargo fuzz build "${flags[@]}"

logs=$(mktemp -d)
failed=()
for target in engine rules_toml report decode archive; do
    args=(-max_total_time="$secs" -timeout=30 -print_final_stats=1)
    case "$target" in
    engine) args+=(-dict="$root/fuzz/dict/keywords.dict") ;;
    rules_toml) args+=(-dict="$root/fuzz/dict/rules.dict") ;;
    esac
    log="$logs/$target.log"
    echo "== fuzz $target for ${secs}s"
    if cargo fuzz run "${flags[@]}" "$target" -- "${args[@]}" >"$log" 2>&1; then
        grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true
        grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' "$log" || true
    else
        failed+=("$target")
        tail -n 60 "$log"
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        echo "!! $target failed; full log: $log"
        if [ -n "$artifact" ]; then
            echo "!! crash input: $artifact"
            echo "!! replay: RUSTC_BOOTSTRAP=1 cargo fuzz run ${flags[*]} $target $artifact"
        fi
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]}"
    exit 1
fi
echo "fuzz: ok (${secs}s per target)"
