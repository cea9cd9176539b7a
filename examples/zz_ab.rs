// Temporary harness (not committed): the decoder's block loops on L2-resident chunks.
use std::time::Instant;
fn main() {
    let dir = std::env::var("ZZDIR").unwrap();
    let n: usize = std::env::var("ZZN").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let mut data = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(dir)];
    let mut files = Vec::new();
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).unwrap() {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() { stack.push(e.path()) } else if t.is_file() { files.push(e.path()) }
        }
    }
    files.sort();
    for f in files {
        let b = std::fs::read(&f).unwrap();
        if b[..b.len().min(8192)].contains(&0) { continue; }
        data.extend_from_slice(&b);
        if data.len() >= 48 << 20 { break; }
    }
    data.truncate(48 << 20);
    let chunks: Vec<&[u8]> = data.chunks(128 << 10).collect();
    let mode = std::env::args().nth(1).unwrap_or("dec".into());
    if mode == "pf" || mode == "files" {
        // Each text file read into a buffer and passed over once (as the keyword filter
        // does), then searched: the cache state of a scan.
        let mut paths = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(std::env::var("ZZDIR").unwrap())];
        while let Some(p) = stack.pop() {
            for e in std::fs::read_dir(&p).unwrap() {
                let e = e.unwrap();
                let t = e.file_type().unwrap();
                if t.is_dir() { stack.push(e.path()) } else if t.is_file() { paths.push(e.path()) }
            }
        }
        paths.sort();
        let stride: usize = std::env::var("ZZSTRIDE").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
        let bufs: Vec<Vec<u8>> = paths.iter().step_by(stride).map(|p| std::fs::read(p).unwrap()).filter(|b| !b[..b.len().min(8192)].contains(&0)).collect();
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        let only = std::env::var("ZZONLY").ok();
        if mode == "pf" {
            let sc = leakhound::engine::Scanner::new(std::sync::Arc::new(leakhound::rules::RuleSet::builtin().unwrap()));
            let pf = sc.prefilter();
            let mut ts = Vec::new();
            let mut count = 0;
            let mut buf = Vec::new();
            for _ in 0..n {
                let mut t = 0.0;
                count = 0;
                for b in &bufs {
                    buf.clear();
                    buf.extend_from_slice(b);
                    let s = Instant::now();
                    count += pf.count(&buf);
                    t += s.elapsed().as_secs_f64();
                }
                ts.push(t);
            }
            ts.sort_by(|a, b| a.partial_cmp(b).unwrap());
            println!("pf min {:7.2} ms med {:7.2} ms  {} MB  occ {count}", ts[0] * 1e3, ts[ts.len()/2]*1e3, total >> 20);
            return;
        }
        let mut loops = leakhound::decode::block_loops();
        loops.push(("find_runs", |h, o| leakhound::decode::find_runs(h, o)));
        for (name, f) in loops {
            if only.as_deref().is_some_and(|o| o != name) { continue; }
            let mut best = f64::MAX;
            let mut count = 0;
            let mut buf = Vec::new();
            for _ in 0..n {
                let mut t = 0.0;
                count = 0;
                let mut out = Vec::new();
                for b in &bufs {
                    buf.clear();
                    buf.extend_from_slice(b);
                    count += memchr::memchr_iter(b'\n', &buf).count() & 1;
                    out.clear();
                    let s = Instant::now();
                    f(&buf, &mut out);
                    t += s.elapsed().as_secs_f64();
                    count += out.len();
                }
                best = best.min(t);
            }
            println!("{name:10} {:7.2} ms  {} MB  runs {count}", best * 1e3, total >> 20);
        }
        return;
    }
    let mut loops = leakhound::decode::block_loops();
    loops.push(("find_runs", |h, o| leakhound::decode::find_runs(h, o)));
    let only = std::env::var("ZZONLY").ok();
    for (name, f) in loops {
        if only.as_deref().is_some_and(|o| o != name) { continue; }
        let mut best = f64::MAX;
        let mut count = 0;
        for _ in 0..n {
            let mut t = 0.0;
            let mut out = Vec::new();
            count = 0;
            for c in &chunks {
                if mode == "decl2" { out.clear(); f(c, &mut out); }
                out.clear();
                let s = Instant::now();
                f(c, &mut out);
                t += s.elapsed().as_secs_f64();
                count += out.len();
            }
            best = best.min(t);
        }
        println!("{name:10} {:7.2} ms  runs {count}", best * 1e3);
    }
}
