#!/usr/bin/env bash
# Macro benchmark: leakhound on a real source tree, beside references measured in the same run.
#
#   benches/macro.sh [CORPUS_DIR]
#
# Builds leakhound (release), builds the corpus if it is missing (`cargo vendor` of a fixed set of
# popular crates with large Rust and C sources: several hundred MB, registry access only), then
# times, warm cache, median of RUNS runs (default 5):
#   directory: rg -uuu -c -F AKIA (the floor: walk + read), rg -uuu -c -F -i -f keywords.txt (the
#              keyword search with leakhound's own keywords), leakhound scan --binary;
#   stdin:     cat FILE | rg -c -F AKIA, cat FILE | leakhound scan -;
#   peers:     kingfisher, gitleaks (directory mode) when installed; skipped otherwise.
# and prints MB/s and each time's ratio to leakhound's.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
corpus="${1:-$root/bench-data}"
runs="${RUNS:-5}"
mkdir -p "$corpus"
cd "$root"
cargo build --release --quiet
lh="$root/target/release/leakhound"

if [ ! -d "$corpus/vendor" ]; then
  echo "building the corpus in $corpus/vendor (cargo vendor; a few minutes)" >&2
  proj="$corpus/corpus-manifest"
  mkdir -p "$proj/src"
  echo 'fn main() {}' > "$proj/src/main.rs"
  cat > "$proj/Cargo.toml" <<'EOF'
[package]
name = "corpus"
version = "0.1.0"
edition = "2021"
[dependencies]
tokio = { version = "1", features = ["full"] }
windows = { version = "0.58", features = ["Win32_Foundation", "Win32_System_Threading"] }
syn = { version = "2", features = ["full"] }
serde = "1"
rustls = "0.23"
ring = "0.17"
openssl-src = "300"
libgit2-sys = "0.17"
aws-lc-sys = "0.24"
zstd-sys = "2"
bzip2-sys = "0.1"
libz-sys = "1"
hyper = "1"
reqwest = "0.12"
regex = "1"
clap = "4"
git2 = "0.19"
sqlx = { version = "0.8", features = ["postgres", "runtime-tokio"] }
diesel = { version = "2", features = ["postgres"] }
EOF
  (cd "$proj" && cargo vendor --quiet "$corpus/vendor" >/dev/null)
fi
if [ ! -f "$corpus/stream.txt" ]; then
  # One large text file for the stdin mode: the corpus' source files concatenated.
  find "$corpus/vendor" -type f \( -name '*.rs' -o -name '*.c' -o -name '*.h' \) -print0 \
    | sort -z | xargs -0 cat > "$corpus/stream.txt"
fi
"$lh" rules list --json | python3 -c '
import json, sys
ks = sorted({k for r in json.load(sys.stdin) for k in r["keywords"]})
open(sys.argv[1], "w").write("\n".join(ks) + "\n")' "$corpus/keywords.txt"

export LH="$lh" CORPUS="$corpus" RUNS="$runs"
python3 - <<'EOF'
import os, shutil, statistics, subprocess, time
lh, corpus, runs = os.environ["LH"], os.environ["CORPUS"], int(os.environ["RUNS"])
peer_runs = min(runs, int(os.environ.get("PEER_RUNS", "3")))
vendor, stream = f"{corpus}/vendor", f"{corpus}/stream.txt"
def size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs
               if not os.path.islink(os.path.join(d, f)))
def median_time(cmd, runs):
    subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # warm
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)
def table(title, nbytes, rows):
    print(f"\n{title}: {nbytes / 1e6:.0f} MB, median of {runs} runs (peers: {peer_runs}), warm cache, {os.cpu_count()} cores")
    times = {name: median_time(cmd, peer_runs if peer else runs) for name, cmd, peer in rows}
    ref = times["leakhound"]
    print(f"{'command':<34} {'seconds':>8} {'MB/s':>8} {'time / leakhound':>17}")
    for name, t in times.items():
        print(f"{name:<34} {t:8.2f} {nbytes / 1e6 / t:8.0f} {t / ref:16.2f}x")
print(subprocess.run([lh, "--version"], capture_output=True, text=True).stdout.strip(),
      "|", subprocess.run(["rg", "--version"], capture_output=True, text=True).stdout.splitlines()[0])
rows = [
    ("rg floor (-F AKIA)", f"rg -uuu -c -F AKIA {vendor}", False),
    ("rg keywords (-F -i -f keywords)", f"rg -uuu -c -F -i -f {corpus}/keywords.txt {vendor}", False),
    ("leakhound", f"{lh} scan --binary -q -f json -o /dev/null {vendor}", False),
]
if shutil.which("kingfisher"):
    rows.append(("kingfisher (no validation)", f"kingfisher scan -n --no-update-check --format json {vendor}", True))
if shutil.which("gitleaks"):
    # gitleaks replaces its report path with a regular file: never point it at /dev/null.
    rows.append(("gitleaks dir", f"gitleaks dir --no-banner -f json -r {corpus}/gitleaks-report.json {vendor}", True))
table("directory", size(vendor), rows)
table("stdin", size(stream), [
    ("cat | rg -c -F AKIA", f"cat {stream} | rg -c -F AKIA", False),
    ("leakhound", f"cat {stream} | {lh} scan -q -f json -o /dev/null -", False),
])
EOF
