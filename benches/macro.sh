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
#   git:       a history generated from the corpus once and cached next to it (history.git: one
#              commit per vendored crate, oldest name first, then 64 commits that each edit 20
#              files; fixed identities and dates, written by git fast-import), scanned by
#              git cat-file --batch-all-objects --batch --unordered (the floor: every object
#              inflated once) and leakhound git;
#   peers:     kingfisher, gitleaks (directory and git modes) when installed; skipped otherwise.
# and prints MB/s and each time's ratio to leakhound's. MODES="dir stdin git" (the default) picks
# the tables; PEER_RUNS (default 3) the peers' runs.
#   decode:    (only when MODES names it) what decoding costs: leakhound scan with the defaults
#              against --max-decode-depth 0, with the default threads and with -j1, DECODE_RUNS
#              (default 21) runs of each in ABBA order; prints the medians, their ratio, and the
#              median of the paired ratios with a 90% bootstrap interval (neighbours' noise moves
#              whole rounds, so pairs run back to back are the steadier measure).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
corpus="${1:-$root/bench-data}"
runs="${RUNS:-5}"
mkdir -p "$corpus"
cd "$root"
cargo build --release --quiet --bin leakhound
target=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
lh="$target/release/leakhound"

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
if [ ! -d "$corpus/history.git" ]; then
  echo "building the git history in $corpus/history.git (git fast-import; a few minutes)" >&2
  rm -rf "$corpus/history.git.tmp"
  git init --quiet --bare -b main "$corpus/history.git.tmp"
  python3 - "$corpus/vendor" <<'PY' | git -C "$corpus/history.git.tmp" fast-import --quiet
import os, sys
vendor = sys.argv[1]
out = sys.stdout.buffer
crates = sorted(d for d in os.listdir(vendor) if os.path.isdir(os.path.join(vendor, d)))
files, t = [], 1_700_000_000
def commit(msg, changes):
    global t
    t += 3600
    msg = msg.encode()
    out.write(b"commit refs/heads/main\nauthor Bench <bench@example.invalid> %d +0000\n"
              b"committer Bench <bench@example.invalid> %d +0000\ndata %d\n%s\n"
              % (t, t, len(msg), msg))
    for path, data in changes:
        out.write(b"M 100644 inline %s\ndata %d\n" % (os.fsencode(path), len(data)) + data + b"\n")
    out.write(b"\n")
for crate in crates:
    changes = []
    for d, dirs, names in os.walk(os.path.join(vendor, crate)):
        dirs.sort()
        for n in sorted(names):
            p = os.path.join(d, n)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            rel = os.path.relpath(p, vendor)
            changes.append((rel, open(p, "rb").read()))
            if rel.endswith((".rs", ".c", ".h")):
                files.append(rel)
    commit(f"add {crate}", changes)
content = {}
for i in range(64):
    changes = []
    for j in range(20):
        rel = files[(i * 7919 + j * 104729) % len(files)]
        if rel not in content:
            content[rel] = open(os.path.join(vendor, rel), "rb").read()
        content[rel] += b"// edited in change %d\n" % i
        changes.append((rel, content[rel]))
    commit(f"edit {i}", changes)
PY
  mv "$corpus/history.git.tmp" "$corpus/history.git"
fi
"$lh" rules list --json | python3 -c '
import json, sys
ks = sorted({k for r in json.load(sys.stdin) for k in r["keywords"]})
open(sys.argv[1], "w").write("\n".join(ks) + "\n")' "$corpus/keywords.txt"

export LH="$lh" CORPUS="$corpus" RUNS="$runs" MODES="${MODES:-dir stdin git}"
python3 - <<'EOF'
import os, random, shutil, statistics, subprocess, time
lh, corpus, runs = os.environ["LH"], os.environ["CORPUS"], int(os.environ["RUNS"])
modes = os.environ["MODES"].split()
peer_runs = min(runs, int(os.environ.get("PEER_RUNS", "3")))
vendor, stream, history = f"{corpus}/vendor", f"{corpus}/stream.txt", f"{corpus}/history.git"
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
def version(cmd):
    # The first line of `cmd --version`, or that it is missing (the decode mode needs no rg).
    if not shutil.which(cmd[0]):
        return f"{cmd[0]}: not installed"
    return subprocess.run(cmd + ["--version"], capture_output=True, text=True).stdout.splitlines()[0]
print(version([lh]), "|", version(["rg"]), "|", version(["git"]))
def blob_bytes(repo):
    # The content a history scan reads: every blob once.
    out = subprocess.run(["git", "-C", repo, "cat-file", "--batch-all-objects", "--unordered",
                          "--batch-check=%(objecttype) %(objectsize)"],
                         capture_output=True, text=True, check=True).stdout
    return sum(int(s) for t, s in (l.split() for l in out.splitlines()) if t == "blob")
def peers(mode, target, report):
    # Installed peers, in the mode that matches (gitleaks "dir" or "git"; kingfisher tells a
    # repository from a directory itself). gitleaks replaces its report path with a regular file:
    # never point it at /dev/null.
    rows = []
    if shutil.which("kingfisher"):
        rows.append(("kingfisher (no validation)", f"kingfisher scan -n --no-update-check --format json {target}", True))
    if shutil.which("gitleaks"):
        rows.append((f"gitleaks {mode}", f"gitleaks {mode} --no-banner -f json -r {corpus}/{report} {target}", True))
    return rows
rows = [
    ("rg floor (-F AKIA)", f"rg -uuu -c -F AKIA {vendor}", False),
    ("rg keywords (-F -i -f keywords)", f"rg -uuu -c -F -i -f {corpus}/keywords.txt {vendor}", False),
    ("leakhound", f"{lh} scan --binary -q -f json -o /dev/null {vendor}", False),
] + peers("dir", vendor, "gitleaks-report.json")
if "dir" in modes:
    table("directory", size(vendor), rows)
if "stdin" in modes:
    table("stdin", size(stream), [
        ("cat | rg -c -F AKIA", f"cat {stream} | rg -c -F AKIA", False),
        ("leakhound", f"cat {stream} | {lh} scan -q -f json -o /dev/null -", False),
    ])
def decode_cost(title, args, rounds):
    # Both commands in ABBA order (A B, B A, ...) after one warm run each, so that drift in
    # the machine's speed falls on both alike.
    base = [lh, "scan", "-q", "-f", "json", "-o", "/dev/null"] + args
    cmds = [base + ["--max-decode-depth", "0", vendor], base + [vendor]]
    times = ([], [])
    for c in cmds:
        subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for i in range(rounds):
        for j in ((0, 1) if i % 2 == 0 else (1, 0)):
            t = time.perf_counter()
            rc = subprocess.run(cmds[j], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
            times[j].append(time.perf_counter() - t)
            if rc not in (0, 1):  # 1: findings
                raise SystemExit(f"{' '.join(cmds[j])}: exit status {rc}")
    off, on = (statistics.median(t) for t in times)
    pairs = [b / a for a, b in zip(*times)]
    rng = random.Random(1)
    boot = sorted(statistics.median(rng.choices(pairs, k=len(pairs))) for _ in range(2000))
    print(f"{title:<34} {off:8.3f} {on:8.3f} {on / off:7.3f}x {statistics.median(pairs):7.3f}x"
          f" [{boot[100]:.3f}, {boot[1900]:.3f}]")
if "decode" in modes:
    rounds = int(os.environ.get("DECODE_RUNS", "21"))
    print(f"\ndecoding's cost, directory: {size(vendor) / 1e6:.0f} MB, {rounds} runs of each in ABBA order, warm cache, {os.cpu_count()} cores")
    print(f"{'command':<34} {'depth 0':>8} {'default':>8} {'medians':>8} {'paired':>8} 90% interval")
    for title, extra in (("leakhound scan", []), ("leakhound scan -j1", ["-j1"])):
        decode_cost(title, extra, rounds)
if "git" in modes:
    commits = subprocess.run(["git", "-C", history, "rev-list", "--count", "--all"],
                             capture_output=True, text=True, check=True).stdout.strip()
    rows = [
        ("git cat-file --batch-all-objects", f"git -C {history} cat-file --batch-all-objects --batch --unordered", False),
        ("leakhound", f"{lh} git -q -f json -o /dev/null {history}", False),
    ] + peers("git", history, "gitleaks-git-report.json")
    table(f"git history ({commits} commits, blob content)", blob_bytes(history), rows)
EOF
