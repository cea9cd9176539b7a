#!/usr/bin/env bash
# Latency of the pre-receive hook with real `git push`es to a bare repository on this machine.
#
#   benches/hook.sh              # 15 pushes per case
#   RUNS=31 benches/hook.sh
#   CORPUS=/path/to/sources benches/hook.sh   # where the 100 MB push takes its files from
#   CASES=typical benches/hook.sh             # only some cases (default: typical 100mb)
#
# For each case, every run pushes the same commits from a clone to a fresh copy of a server
# repository that holds the base history: once with no hook (the reference), once with
# leakhound's pre-receive hook. It prints the medians of the whole push without and with the hook,
# the difference (what the hook adds), and the hook's own wall time (process start, rule loading,
# walking the pushed commits and scanning their new blobs), timed by a wrapper around it.
#
# Cases: "typical": 10 commits adding ~0.5 MB of source files (every 97th file of the corpus);
# "100mb": 10 commits adding 100 MB of source files. The files come from CORPUS (default: the
# macro benchmark's `cargo vendor` tree, real Rust and C sources); without it, from generated
# source-like text.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs="${RUNS:-15}"
cases="${CASES:-typical 100mb}"
corpus="${CORPUS:-${LEAKHOUND_BENCH_DATA:-/work/bench-data}/vendor}"

echo "== build"
cargo build --release --quiet
bin="$root/target/release/leakhound"

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
export HOME="$work" GIT_CONFIG_NOSYSTEM=1
git config --global user.name "leakhound bench"
git config --global user.email "bench@leakhound.invalid"
git config --global init.defaultBranch main
git config --global advice.detachedHead false

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else print int((a[NR/2]+a[NR/2+1])/2)}'; }
ms() { awk -v n="$1" 'BEGIN {printf "%.1f", n/1e6}'; }

# The hook script: leakhound, timed from the moment git starts the hook.
cat >"$work/timed-hook" <<EOF
#!/bin/sh
t0=\$(date +%s%N)
"$bin" hook pre-receive --timeout 120s
rc=\$?
echo \$((\$(date +%s%N) - t0)) >>"$work/hook-times"
exit \$rc
EOF
chmod +x "$work/timed-hook"

# setup NAME FILL_FN: a template server with the base history and a client holding the new commits.
setup() {
    local name=$1 fill=$2
    local dir="$work/$name"
    mkdir -p "$dir"
    git init -q --bare "$dir/template.git"
    git clone -q "$dir/template.git" "$dir/client" 2>/dev/null
    (
        cd "$dir/client"
        cp "$root/README.md" README.md
        git add -A && git commit -q -m base
        git push -q origin HEAD:main
        "$fill" "$dir/client"
    )
    echo "$name: $(git -C "$dir/client" rev-list --count origin/main..HEAD) commits, $(git -C "$dir/client" diff --shortstat origin/main HEAD | sed 's/^ //')"
}

# fill_corpus DIR BYTES STEP: 10 commits adding about BYTES of source files in all, every STEP-th
# file of the corpus (sorted, so every run pushes the same files).
fill_corpus() {
    local c=$1 budget=$2 step=$3 total=0 part=0 n=0 k=0 s
    local per=$((budget / 10))
    mapfile -t files < <(cd "$corpus" && find . -type f \( -name '*.rs' -o -name '*.c' -o -name '*.h' -o -name '*.toml' -o -name '*.md' \) -size -512k | sort)
    for f in "${files[@]}"; do
        k=$((k + 1))
        [ $((k % step)) -eq 0 ] || continue
        [ "$total" -ge "$budget" ] && break
        mkdir -p "$c/$(dirname "$f")"
        cp "$corpus/$f" "$c/$f"
        s=$(stat -c %s "$corpus/$f")
        total=$((total + s))
        part=$((part + s))
        if [ "$part" -ge "$per" ]; then
            (cd "$c" && git add -A && git commit -q -m "part $n")
            n=$((n + 1))
            part=0
        fi
    done
    (cd "$c" && git add -A && { git diff --cached --quiet || git commit -q -m "part $n"; })
}

# fill_generated DIR BYTES: 10 commits of generated source-like text (no corpus).
fill_generated() {
    python3 - "$1" "$2" <<'PY'
import os, random, subprocess, sys
c, budget = sys.argv[1], int(sys.argv[2])
r = random.Random(7)
words = "let mut value config buffer index result error return match self fn pub struct impl for while if else".split()
per_file = min(100_000, budget // 50)
for n in range(10):
    d = os.path.join(c, f"gen{n}")
    os.makedirs(d, exist_ok=True)
    for f in range(max(1, budget // 10 // per_file)):
        lines, size = [], 0
        while size < per_file:
            line = "    " + " ".join(r.choice(words) for _ in range(10)) + f"; // {r.getrandbits(48):x}\n"
            lines.append(line)
            size += len(line)
        open(os.path.join(d, f"f{f}.rs"), "w").write("".join(lines))
    subprocess.run(["git", "add", "-A"], cwd=c, check=True)
    subprocess.run(["git", "commit", "-q", "-m", f"part {n}"], cwd=c, check=True)
PY
}

fill() {
    if [ -d "$corpus" ]; then
        fill_corpus "$@"
    else
        fill_generated "$1" "$2"
    fi
}
fill_typical() { fill "$1" 500000 97; }
fill_100mb() { fill "$1" 100000000 1; }

# run NAME: RUNS pushes without and with the hook, interleaved; prints the medians.
run() {
    local name=$1 dir="$work/$1"
    : >"$work/hook-times"
    : >"$dir/plain" && : >"$dir/hooked"
    verdict=""
    for r in $(seq "$runs"); do
        for mode in plain hooked; do
            rm -rf "$dir/server.git"
            cp -r "$dir/template.git" "$dir/server.git"
            if [ "$mode" = hooked ]; then
                cp "$work/timed-hook" "$dir/server.git/hooks/pre-receive"
            fi
            local t0 t1
            t0=$(now_ns)
            # A corpus of real sources holds test keys: a rejected push did the same work.
            git -C "$dir/client" push -q "$dir/server.git" HEAD:main 2>"$dir/push.err" ||
                grep -q "pre-receive hook declined" "$dir/push.err" || {
                echo "push failed ($mode):" >&2
                cat "$dir/push.err" >&2
                exit 1
            }
            t1=$(now_ns)
            if [ "$mode" = hooked ]; then
                verdict=$(grep -o "push rejected: [0-9]* secrets\{0,1\}" "$dir/push.err" || echo accepted)
            fi
            echo $((t1 - t0)) >>"$dir/$mode"
        done
    done
    local plain hooked own
    plain=$(median <"$dir/plain")
    hooked=$(median <"$dir/hooked")
    own=$(median <"$work/hook-times")
    printf '%-10s %8s ms %12s ms %10s ms %12s ms   %s\n' "$name" "$(ms "$plain")" "$(ms "$hooked")" "$(ms $((hooked - plain)))" "$(ms "$own")" "$verdict"
}

echo "== setup"
for c in $cases; do
    setup "$c" "fill_$c"
done
echo "== pushes ($runs runs each, medians; $(nproc) cores; $(git --version); leakhound $("$bin" --version | cut -d' ' -f2))"
printf '%-10s %11s %15s %13s %15s\n' case "no hook" "leakhound hook" "added" "hook itself"
for c in $cases; do
    run "$c"
done
