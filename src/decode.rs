//! Decoding: finding base64 (standard and URL-safe, padded or not), hex and percent-encoded runs
//! cheaply, and decoding them into bytes worth scanning.
//!
//! The finder never runs a regex over every byte. For base64 and hex it turns each 64-byte block
//! into a bit mask of alphabet bytes (an AVX-512 table lookup, AVX2 nibble lookups or SSE2
//! compares on x86_64) and finds runs of at least [`MIN_RUN`] set bits with a few shifts and ANDs
//! (with AVX-512, for eight blocks at once; with AVX2, a test of four blocks at once picks the
//! blocks to look at); only the rare long runs are looked at byte by byte.
//! Percent-encoding is found from the same blocks' `%` bytes followed by two hex digits, and kept
//! where an escape can begin text (not `%eax` in assembly nor `%16` in arithmetic). A block
//! wrapped over lines of one width (`base64`, MIME, PEM, `xxd -p`) is joined into one run.
//!
//! A decoding is kept only if it is worth scanning: mostly printable UTF-8 text, or the magic
//! bytes of a compressed stream or archive (see [`crate::archive::sniff`]). Random base64 (image
//! bytes, certificates, hashes) decodes to binary and is dropped, as are data URIs whose media
//! type is not text. Where a base64 or hex run is the value of a key (`password: <run>`,
//! `"token": "<run>"`, `key=<run>`), the decoded text is presented as `key: "<decoded>"`, so that
//! rules which need a name before a value (generic passwords, Kubernetes `data:` entries) see one.
//!
//! Flow position: `content -> decode -> engine` (the caller, [`crate::content`], scans what this
//! module decodes, recursively up to `--max-decode-depth`).

/// Default of `--max-decode-depth`: decoded content is searched for encoded runs again this many
/// times (so `base64>base64` is found); 0 turns decoding off.
pub const DEFAULT_MAX_DEPTH: u32 = 2;

/// Shortest base64 or hex run considered (20 base64 characters are 15 bytes).
pub const MIN_RUN: usize = 20;
/// Shortest hex run considered (32 digits are 16 bytes).
const MIN_HEX: usize = 32;
/// Shortest percent-encoded run considered.
const MIN_PERCENT: usize = 12;
/// Longest run decoded; longer ones are cut here (a credential is far shorter, and a huge run is
/// an embedded blob).
pub const MAX_RUN: usize = 16 * 1024 * 1024;

/// An encoding of text in text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// RFC 4648 base64 (`+/`).
    Base64,
    /// RFC 4648 base64url (`-_`).
    Base64Url,
    /// Hexadecimal digits, two per byte.
    Hex,
    /// `%XX` escapes (and `+` for space, as in form posts).
    Percent,
}

impl Encoding {
    /// The name used in decoding chains.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Base64 | Encoding::Base64Url => "base64",
            Encoding::Hex => "hex",
            Encoding::Percent => "percent",
        }
    }
}

/// A candidate run: `hay[start..end]` in `encoding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// First byte of the run.
    pub start: usize,
    /// One past its last byte (padding included). A wrapped block's run spans its line breaks
    /// and indentation, which [`decode`] skips.
    pub end: usize,
    /// How it is encoded.
    pub encoding: Encoding,
}

const STD: u8 = 1;
const URL: u8 = 2;
const HEX: u8 = 4;
const FORM: u8 = 8;

/// Byte classes: which alphabets each byte belongs to.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let mut v = 0;
        if c.is_ascii_alphanumeric() {
            v |= STD | URL | FORM;
        }
        if c.is_ascii_hexdigit() {
            v |= HEX;
        }
        if c == b'+' || c == b'/' {
            v |= STD;
        }
        if c == b'-' || c == b'_' {
            v |= URL;
        }
        if matches!(
            c,
            b'%' | b'+'
                | b'-'
                | b'_'
                | b'.'
                | b'~'
                | b'&'
                | b'='
                | b'!'
                | b'*'
                | b'('
                | b')'
                | b';'
                | b':'
                | b'@'
                | b'/'
                | b','
                | b'?'
                | b'$'
                | b'\''
        ) {
            v |= FORM;
        }
        t[b] = v;
        b += 1;
    }
    t
};

/// Append the candidate runs of `hay` to `out`, in order and disjoint: runs long enough to hold
/// a credential whose first bytes decode to text or to the start of a compressed stream or
/// archive ([`plausible`]).
pub fn find_runs(hay: &[u8], out: &mut Vec<Run>) {
    let first = out.len();
    find_line_runs(hay, out);
    join_wrapped(hay, out, first);
}

/// [`find_runs`] but for joining wrapped blocks: runs within lines, in order and disjoint.
fn find_line_runs(hay: &[u8], out: &mut Vec<Run>) {
    let first = out.len();
    find_block_runs(hay, out);
    merge(out, first);
}

/// [`find_runs`] on up to `threads` threads, for a large input: it is cut after line breaks near
/// equal parts, and since a run within a line holds no line break (nor looks past one), the runs
/// are those of one call, in the same order, once wrapped blocks are joined over the whole input.
/// An input without line breaks is one part.
pub fn find_runs_split(hay: &[u8], threads: usize, out: &mut Vec<Run>) {
    let mut cuts = vec![0];
    for i in 1..threads {
        let at = (hay.len() / threads * i).max(*cuts.last().expect("starts with 0"));
        if let Some(j) = memchr::memchr(b'\n', &hay[at..]) {
            if at + j + 1 < hay.len() {
                cuts.push(at + j + 1);
            }
        }
    }
    cuts.push(hay.len());
    cuts.dedup();
    if cuts.len() <= 2 {
        return find_runs(hay, out);
    }
    let parts: Vec<Vec<Run>> = std::thread::scope(|scope| {
        let handles: Vec<_> = cuts
            .windows(2)
            .map(|c| {
                let (a, b) = (c[0], c[1]);
                scope.spawn(move || {
                    let mut runs = Vec::new();
                    find_line_runs(&hay[a..b], &mut runs);
                    for r in &mut runs {
                        r.start += a;
                        r.end += a;
                    }
                    runs
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("the run finder does not panic"))
            .collect()
    });
    let first = out.len();
    out.extend(parts.into_iter().flatten());
    join_wrapped(hay, out, first);
}

/// Shortest line of a wrapped block that [`join_wrapped`] joins: tools wrap base64 at 64
/// (PEM, `openssl base64`) or 76 characters (`base64`, MIME) and hex at 60 (`xxd -p`).
const MIN_WRAP: usize = 40;

/// Join each wrapped block of `out[first..]` (sorted and disjoint) into one run: a base64 or hex
/// run that fills its line to the end, at least [`MIN_WRAP`] characters and a whole number of
/// groups (4 characters, 2 for hex), not padded, goes on over the lines that follow in its
/// alphabet, each after the same indentation: lines of the same length, then one shorter or
/// padded line that ends the block. So `base64 .env > env.b64` is decoded whole, and a secret cut
/// by a line break is found. The runs inside a joined block are dropped.
fn join_wrapped(hay: &[u8], out: &mut Vec<Run>, first: usize) {
    let mut keep = first;
    for i in first..out.len() {
        let mut run = out[i];
        if keep > first && run.start < out[keep - 1].end {
            continue;
        }
        run.end = wrapped_end(hay, &run);
        out[keep] = run;
        keep += 1;
    }
    out.truncate(keep);
}

/// Where the wrapped block that `text` (complete lines) may end inside begins: the start of the
/// line before its trailing lines of one width in the base64 or hex alphabet (at least 40
/// characters, an even number, not padded, after one indentation), which may be the
/// block's first line; `text.len()` if its last line is not such a line. A stream holds those
/// lines back until the block ends, so that [`find_runs`] sees it whole. `text[..known]` is what
/// an earlier call (on a shorter text from the same start) found held back whole, so that only
/// the lines after it are looked at again.
pub fn wrapped_tail(text: &[u8], known: usize) -> usize {
    // The line ending at `end` (exclusive, before its line break): its start, indentation and
    // characters if it is a full line of a block.
    let line = |end: usize| {
        let start = memchr::memrchr(b'\n', &text[..end]).map_or(0, |i| i + 1);
        let chars = text[start..end]
            .strip_suffix(b"\r")
            .unwrap_or(&text[start..end]);
        let margin = chars
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        let body = &chars[margin..];
        let full = body.len() >= MIN_WRAP
            && body.len().is_multiple_of(2)
            && body.iter().all(|&b| in_alphabet(b));
        (start, margin, full.then_some(body.len()))
    };
    let Some(last) = text.len().checked_sub(1).filter(|&i| text[i] == b'\n') else {
        return text.len();
    };
    let (mut start, margin, Some(width)) = line(last) else {
        return text.len();
    };
    while start > 0 {
        let (before, m, w) = line(start - 1);
        if m != margin || w != Some(width) {
            return before;
        }
        if before < known {
            // Lines of this width back to the part held whole before: one block from the start.
            return 0;
        }
        start = before;
    }
    0
}

/// The span of the lines of `run`, a wrapped block of `hay` (joined by [`find_runs`]), that hold the
/// bytes `from..to` of what it decodes to: from the first character of the line that holds the
/// first to the last of the line that holds the last. The whole run for a run of one line.
pub fn lines_holding(hay: &[u8], run: &Run, from: usize, to: usize) -> (usize, usize) {
    let src = &hay[run.start..run.end];
    let Some(first_break) = memchr::memchr(b'\n', src) else {
        return (run.start, run.end);
    };
    // Every line but the last holds `width` characters (its first: the run's own).
    let width = src[..first_break]
        .iter()
        .take_while(|b| !b.is_ascii_whitespace())
        .count()
        .max(1);
    let (c0, c1) = match run.encoding {
        Encoding::Hex => (2 * from, 2 * to),
        _ => (from / 3 * 4, to.div_ceil(3) * 4),
    };
    let (k0, k1) = (c0 / width, c1.saturating_sub(1).max(c0) / width);
    // The first character of each line (after its indentation) and where its characters end.
    let (mut start, mut end) = (0, src.len());
    let mut line_start = 0;
    for (k, brk) in memchr::memchr_iter(b'\n', src)
        .map(Some)
        .chain(std::iter::once(None))
        .enumerate()
    {
        let line_end = brk.map_or(src.len(), |b| {
            if b > 0 && src[b - 1] == b'\r' {
                b - 1
            } else {
                b
            }
        });
        if k <= k0 {
            start = line_start;
        }
        end = line_end;
        if k >= k1 {
            break;
        }
        let Some(b) = brk else { break };
        line_start = b + 1;
        while src
            .get(line_start)
            .is_some_and(|&c| c == b' ' || c == b'\t')
        {
            line_start += 1;
        }
    }
    (run.start + start, run.start + end.max(start + 1))
}

/// Where the wrapped block that `run` ends the first line of (or, once joined, the last full
/// line of) ends: `run.end` if it is not one (see [`join_wrapped`]). At most [`MAX_RUN`] bytes.
fn wrapped_end(hay: &[u8], run: &Run) -> usize {
    let alphabet: fn(u8) -> bool = match run.encoding {
        Encoding::Base64 => |b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/',
        Encoding::Base64Url => |b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_',
        Encoding::Hex => |b| b.is_ascii_hexdigit(),
        Encoding::Percent => return run.end,
    };
    let group = if run.encoding == Encoding::Hex { 2 } else { 4 };
    let indent = |mut p: usize| {
        while hay.get(p).is_some_and(|&b| b == b' ' || b == b'\t') {
            p += 1;
        }
        p
    };
    // The run's last line gives the block's width.
    let line = memchr::memrchr(b'\n', &hay[run.start..run.end])
        .map_or(run.start, |i| indent(run.start + i + 1));
    let width = run.end - line;
    if width < MIN_WRAP || !width.is_multiple_of(group) || hay[run.end - 1] == b'=' {
        return run.end;
    }
    // The start of the next line, if `at` ends one.
    let next_line = |at: usize| match (hay.get(at), hay.get(at + 1)) {
        (Some(b'\n'), _) => Some(at + 1),
        (Some(b'\r'), Some(b'\n')) => Some(at + 2),
        _ => None,
    };
    let (mut end, mut margin) = (run.end, None);
    while let Some(start) = next_line(end) {
        let p = indent(start);
        if *margin.get_or_insert(p - start) != p - start || end - run.start > MAX_RUN {
            break;
        }
        let mut q = p;
        while q < hay.len() && q - p < width && alphabet(hay[q]) {
            q += 1;
        }
        let mut e = q;
        while group == 4 && e < q + 2 && hay.get(e) == Some(&b'=') {
            e += 1;
        }
        // (A hex line of an odd length would leave the block undecodable.)
        let odd = group == 2 && (q - p) % 2 == 1;
        if q == p || odd || e - p > width || (e < hay.len() && next_line(e).is_none()) {
            break;
        }
        end = e;
        if e - p < width || e > q {
            break;
        }
    }
    end
}

/// Sort the runs of `out[first..]` and drop those that overlap an earlier one.
fn merge(out: &mut Vec<Run>, first: usize) {
    // Of two runs from the same byte, the longer first.
    out[first..].sort_unstable_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    // A percent run may contain an alphabet run; keep the earlier (longer-reaching) one.
    let mut keep = first;
    for i in first..out.len() {
        if keep > first && out[i].start < out[keep - 1].end {
            continue;
        }
        out[keep] = out[i];
        keep += 1;
    }
    out.truncate(keep);
}

const B64ANY: u8 = STD | URL;

/// Both finders in one pass over the blocks: the base64 and hex runs, and the percent-encoded
/// runs around each `%` (not sorted against each other).
fn find_block_runs(hay: &[u8], out: &mut Vec<Run>) {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        // SAFETY: the CPU supports these (checked just above; the answers are cached).
        return unsafe { find_block_runs_avx512(hay, out) };
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: as above.
        return unsafe { find_block_runs_avx2(hay, out) };
    }
    Looker::new(hay, |_| None).blocks(0, 0, 0, masks64, out);
}

/// A block loop: [`find_block_runs`]'s work with one instruction set.
#[doc(hidden)]
pub type BlockLoop = fn(&[u8], &mut Vec<Run>);

/// Every block loop this CPU can run, by name (`portable`, `avx2`, `avx512`), for the tests and
/// the `decode` fuzz target, which hold them to the same runs (after [`merge_runs`]).
#[doc(hidden)]
pub fn block_loops() -> Vec<(&'static str, BlockLoop)> {
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
    let mut loops: Vec<(&str, BlockLoop)> = vec![("portable", |h, o| {
        Looker::new(h, |_| None).blocks(0, 0, 0, masks64, o)
    })];
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx2() {
            // SAFETY: the CPU has what the loop needs (checked just now).
            loops.push(("avx2", |h, o| unsafe { find_block_runs_avx2(h, o) }));
        }
        if has_avx512() {
            // SAFETY: as above.
            loops.push(("avx512", |h, o| unsafe { find_block_runs_avx512(h, o) }));
        }
    }
    loops
}

/// Sort the runs of `hay` a block loop returned, drop those that overlap an earlier one and
/// join wrapped blocks, as [`find_runs`] does.
#[doc(hidden)]
pub fn merge_runs(hay: &[u8], runs: &mut Vec<Run>) {
    merge(runs, 0);
    join_wrapped(hay, runs, 0);
}

/// Most blocks in a group of the AVX2 and AVX-512 loops: the masks and tests of all, then a
/// look at the marked ones.
#[cfg(target_arch = "x86_64")]
const GROUP: usize = 64;

/// Whether the CPU has what [`find_block_runs_avx2`] needs.
#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    std::is_x86_feature_detected!("avx2")
        && std::is_x86_feature_detected!("bmi1")
        && std::is_x86_feature_detected!("lzcnt")
        && std::is_x86_feature_detected!("popcnt")
}

/// [`find_block_runs`] with AVX2 (and the bit-counting instructions, without which
/// `count_ones` is a dozen instructions): the block masks of [`masks64_avx2`], then a test of
/// four blocks at once, one in each 64-bit lane, for what may start or end in them, and the
/// single-block work ([`Looker::look`]) only on the blocks that test marks.
///
/// The test is the AVX-512 loop's, with the bit counts and leading ones that AVX2 lacks built
/// from table lookups and shifts (see [`needs_look_avx2`]). A group of four blocks with one
/// all alphabet (a long run, rare in source code) goes block by block, as in the AVX-512 loop.
///
/// # Safety
/// The CPU must support what [`has_avx2`] checks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,lzcnt,popcnt")]
unsafe fn find_block_runs_avx2(hay: &[u8], out: &mut Vec<Run>) {
    use std::arch::x86_64::*;
    // SAFETY: the caller guarantees the features, for every intrinsic below; the loads read
    // four `u64` from index `g` or `g + 1` of arrays of `GROUP + 1` or `GROUP`, where `g` is
    // a multiple of 4 below GROUP, itself a multiple of 4.
    unsafe {
        let mut looker = Looker::new(hay, |w| Some(run_masks_avx2(w)));
        // `ms[k + 1]` and `syms[k + 1]` are the alphabet and `+/-_` masks of block `k` of the
        // group; `ms[0]` and `syms[0]` those of the block before the group (none before the
        // first: no alphabet).
        let (mut ms, mut syms) = ([0u64; GROUP + 1], [0u64; GROUP + 1]);
        let mut pcts = [0u64; GROUP];
        // The run carried into each block of a group that goes block by block.
        let (mut carries, mut carries_syms) = ([0usize; GROUP], [0usize; GROUP]);
        // The run carried into the group's first block.
        let (mut carry, mut carry_syms) = (0usize, 0usize);
        // The run carried out of block `k` of the group (whose own carry matters only when
        // it is all alphabet, and then is in `carries`).
        let carry_out = |k: usize, ms: &[u64], syms: &[u64], cs: &[usize], css: &[usize]| {
            let b = Block {
                m: ms[k + 1],
                pct: 0,
                sym: syms[k + 1],
                carry: cs[k],
                carry_syms: css[k],
            };
            b.carry_out()
        };
        // Lane 0: the bits below the top run of the block before the next four (none before
        // the first: all).
        let mut carried = _mm256_set1_epi64x(-1);
        let padded = Padded::new(hay);
        for (first, blocks) in padded.groups(GROUP) {
            let i = 64 * first;
            group_masks_avx2(&padded, first, blocks, &mut ms, &mut pcts, &mut syms);
            // Lanes past the last block: no alphabet, nothing to look at.
            for k in blocks..blocks.next_multiple_of(4) {
                (ms[k + 1], pcts[k], syms[k + 1]) = (0, 0, 0);
            }
            let mut marked = 0u64;
            for g in (0..blocks).step_by(4) {
                let valid = u64::MAX >> (64 - (blocks - g).min(4));
                let lanes = |v: &[u64]| _mm256_loadu_si256(v.as_ptr().cast());
                let m = lanes(&ms[g + 1..]);
                let all = _mm256_cmpeq_epi64(m, _mm256_set1_epi64x(-1));
                if _mm256_movemask_pd(_mm256_castsi256_pd(all)) != 0 {
                    // A block all alphabet carries the sum of the runs before it: block by
                    // block, each looked at.
                    let (mut c, mut cs) = if g == 0 {
                        (carry, carry_syms)
                    } else {
                        carry_out(g - 1, &ms, &syms, &carries, &carries_syms)
                    };
                    for k in g..g + 4 {
                        (carries[k], carries_syms[k]) = (c, cs);
                        (c, cs) = carry_out(k, &ms, &syms, &carries, &carries_syms);
                    }
                    marked |= valid << g;
                    let below_top = u64::MAX.checked_shr(ms[g + 4].leading_ones()).unwrap_or(0);
                    carried = _mm256_set1_epi64x(below_top as i64);
                    continue;
                }
                let look;
                (look, carried) = needs_look_avx2(
                    lanes(&ms[g..]),
                    m,
                    lanes(&syms[g..]),
                    lanes(&syms[g + 1..]),
                    lanes(&pcts[g..]),
                    carried,
                );
                marked |= (look & valid) << g;
            }
            while marked != 0 {
                let k = marked.trailing_zeros() as usize;
                let (c, cs) = match k {
                    0 => (carry, carry_syms),
                    _ => carry_out(k - 1, &ms, &syms, &carries, &carries_syms),
                };
                let b = Block {
                    m: ms[k + 1],
                    pct: pcts[k],
                    sym: syms[k + 1],
                    carry: c,
                    carry_syms: cs,
                };
                looker.look(i + 64 * k, 64, b, out);
                marked &= marked - 1;
            }
            (carry, carry_syms) = carry_out(blocks - 1, &ms, &syms, &carries, &carries_syms);
            (ms[0], syms[0]) = (ms[blocks], syms[blocks]);
        }
    }
}

/// The masks of blocks `first..first + blocks` of `padded` ([`masks64_avx2`]) into `ms[1..]`,
/// `pcts` and `syms[1..]`. Not inlined: in a function of its own the loop keeps its constants
/// and pointers in registers (inlined, reloading them took 6% of the finder's instructions on
/// a sample of the corpus).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline(never)]
fn group_masks_avx2(
    padded: &Padded<'_>,
    first: usize,
    blocks: usize,
    ms: &mut [u64; GROUP + 1],
    pcts: &mut [u64; GROUP],
    syms: &mut [u64; GROUP + 1],
) {
    padded.each(first, blocks, |k, block| {
        // SAFETY: this function's features are the caller's.
        (ms[k + 1], pcts[k], syms[k + 1]) = unsafe { masks64_avx2(block) };
    });
}

/// Which of four blocks (one per 64-bit lane: alphabet masks `m`, those of the blocks before
/// them `prev`, `+/-_` masks `sym` and `prev_sym`, escape masks `pct`) [`Looker::look`] may
/// find something in, as a 4-bit mask, and the masks of the bytes below each block's top run
/// (`below_top`, the alphabet bytes that reach its end) shifted up one lane, for the next call
/// (`carried`: lane 0 is that of the block before the first, from the last call).
///
/// The test is `look`'s, lane by lane, with no branch: an escape; the run that ends in the
/// block, begun in the block before (of its top run and this block's first bytes), if it has
/// 20 bytes and at most one `+/-_` in 16; the first run of 20 inside the block, by the same
/// rule; any later run of 20 inside. It marks a block whose block before is all alphabet
/// (whose carry is longer than that block), and otherwise exactly the blocks where `look` finds
/// a run or an escape, but for later runs that `look` rejects.
///
/// AVX2 counts no bits per lane: the counts come from a nibble table (`vpshufb`) summed per
/// lane (`vpsadbw`). No lane may be all alphabet (the caller goes block by block then).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn needs_look_avx2(
    prev: std::arch::x86_64::__m256i,
    m: std::arch::x86_64::__m256i,
    prev_sym: std::arch::x86_64::__m256i,
    sym: std::arch::x86_64::__m256i,
    pct: std::arch::x86_64::__m256i,
    carried: std::arch::x86_64::__m256i,
) -> (u64, std::arch::x86_64::__m256i) {
    use std::arch::x86_64::*;
    let zero = _mm256_setzero_si256();
    let ones = _mm256_set1_epi64x(-1);
    let low4 = _mm256_set1_epi8(0x0f);
    let nibble_counts = _mm256_setr_epi8(
        0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3,
        3, 4,
    );
    // The set bits of each byte.
    let counts = |v: __m256i| {
        let lo = _mm256_shuffle_epi8(nibble_counts, _mm256_and_si256(v, low4));
        let hi = _mm256_srli_epi16(v, 4);
        _mm256_add_epi8(
            lo,
            _mm256_shuffle_epi8(nibble_counts, _mm256_and_si256(hi, low4)),
        )
    };
    // Byte counts summed per lane.
    let lane_sum = |c: __m256i| _mm256_sad_epu8(c, zero);
    // Whether `syms` bytes are more than one in 16 of `len`.
    let too_many =
        |syms: __m256i, len: __m256i| _mm256_cmpgt_epi64(_mm256_slli_epi64(syms, 4), len);
    // The bits below each block's top run: the lowest clear bit and all below it.
    let mut below_top = _mm256_xor_si256(m, ones);
    below_top = _mm256_or_si256(below_top, _mm256_srli_epi64(below_top, 1));
    below_top = _mm256_or_si256(below_top, _mm256_srli_epi64(below_top, 2));
    below_top = _mm256_or_si256(below_top, _mm256_srli_epi64(below_top, 4));
    below_top = _mm256_or_si256(below_top, _mm256_srli_epi64(below_top, 8));
    below_top = _mm256_or_si256(below_top, _mm256_srli_epi64(below_top, 16));
    below_top = _mm256_or_si256(below_top, _mm256_srli_epi64(below_top, 32));
    // The same for the blocks before: the lanes shifted up one, the first from `carried`.
    let shifted = _mm256_permute4x64_epi64(below_top, 0b10_01_00_11);
    let prev_below_top = _mm256_blend_epi32(shifted, carried, 0b0000_0011);
    // The run that ends here: the top run of the block before, the head run of this one.
    let head = _mm256_srli_epi64(
        _mm256_xor_si256(m, _mm256_add_epi64(m, _mm256_set1_epi64x(1))),
        1,
    );
    let prev_top = _mm256_andnot_si256(prev_below_top, ones);
    let run = lane_sum(_mm256_add_epi8(counts(prev_top), counts(head)));
    let run_syms = lane_sum(_mm256_add_epi8(
        counts(_mm256_and_si256(prev_top, prev_sym)),
        counts(_mm256_and_si256(head, sym)),
    ));
    let ends = _mm256_andnot_si256(
        too_many(run_syms, run),
        _mm256_cmpgt_epi64(run, _mm256_set1_epi64x(MIN_RUN as i64 - 1)),
    );
    // A block before all alphabet: the run may have begun blocks earlier.
    let ends = _mm256_or_si256(ends, _mm256_cmpeq_epi64(prev, ones));
    // Runs inside: `x` keeps a bit where MIN_RUN (20) alphabet bytes start.
    let rest = _mm256_andnot_si256(head, _mm256_and_si256(m, below_top));
    let mut x = rest;
    for k in [1, 2, 4, 8, 4] {
        let shifted = match k {
            1 => _mm256_srli_epi64(x, 1),
            2 => _mm256_srli_epi64(x, 2),
            4 => _mm256_srli_epi64(x, 4),
            _ => _mm256_srli_epi64(x, 8),
        };
        x = _mm256_and_si256(x, shifted);
    }
    // The first run inside: adding its lowest bit carries through it.
    let lowest = _mm256_and_si256(x, _mm256_sub_epi64(zero, x));
    let first = _mm256_andnot_si256(_mm256_add_epi64(rest, lowest), rest);
    let first_ok = _mm256_xor_si256(
        too_many(
            lane_sum(counts(_mm256_and_si256(first, sym))),
            lane_sum(counts(first)),
        ),
        ones,
    );
    let later = _mm256_andnot_si256(first, x);
    let is_zero = |v: __m256i| _mm256_cmpeq_epi64(v, zero);
    let inside = _mm256_andnot_si256(
        is_zero(x),
        _mm256_or_si256(first_ok, _mm256_xor_si256(is_zero(later), ones)),
    );
    let look = _mm256_or_si256(
        _mm256_or_si256(ends, inside),
        _mm256_xor_si256(is_zero(pct), ones),
    );
    (
        u64::from(_mm256_movemask_pd(_mm256_castsi256_pd(look)) as u8 & 0xf),
        shifted,
    )
}

/// Whether the CPU has what [`find_block_runs_avx512`] needs.
#[cfg(target_arch = "x86_64")]
fn has_avx512() -> bool {
    has_avx2()
        && std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512vbmi")
        && std::is_x86_feature_detected!("avx512cd")
        && std::is_x86_feature_detected!("avx512vpopcntdq")
}

/// [`find_block_runs`] with AVX-512: the block masks of [`masks64_avx512`], and the work
/// between them done for eight blocks at once, one block in each 64-bit lane of a register.
///
/// The single-block loop ([`Looker::blocks`]) spends more on that work than on the masks: the
/// counts of leading and trailing alphabet bytes, the run carried from block to block, the
/// shifts that find 20 alphabet bytes in a row, and a branch at the end of all that. Here the
/// lanes give, without a branch, the blocks where something may start or end: an escape, a run
/// of [`MIN_RUN`] bytes inside, or the end of a long run with few `+/-_`. Only those are looked
/// at (9.7% of the blocks of the 671 MB corpus). Eight blocks in which one is all alphabet (a long
/// run, rare in source code) go block by block: their carry is a sum along the blocks.
///
/// # Safety
/// The CPU must support what [`has_avx512`] checks.
#[cfg(target_arch = "x86_64")]
#[target_feature(
    enable = "avx2,bmi1,lzcnt,popcnt,avx512f,avx512bw,avx512vbmi,avx512cd,avx512vpopcntdq"
)]
unsafe fn find_block_runs_avx512(hay: &[u8], out: &mut Vec<Run>) {
    use std::arch::x86_64::*;
    // SAFETY: the caller guarantees the features, for every intrinsic below; the loads and
    // stores are of eight `u64` from index `g` of arrays of GROUP, and `g` is a multiple of 8
    // below GROUP, itself a multiple of 8.
    unsafe {
        let mut looker = Looker::new(hay, |w| Some(run_masks_avx2(w)));
        let ones = _mm512_set1_epi64(-1);
        let scalar = |v: __m512i| _mm_cvtsi128_si64(_mm512_castsi512_si128(v)) as usize;
        // The last block's carry in every lane.
        let (mut carry, mut carry_syms) = (_mm512_setzero_si512(), _mm512_setzero_si512());
        let (mut ms, mut pcts, mut syms) = ([0u64; GROUP], [0u64; GROUP], [0u64; GROUP]);
        let (mut carries, mut carries_syms) = ([0u64; GROUP], [0u64; GROUP]);
        let mut hexes = [0u64; GROUP];
        let padded = Padded::new(hay);
        for (first, blocks) in padded.groups(GROUP) {
            let i = 64 * first;
            // The masks of all blocks first: a load of eight masks just stored would wait for
            // the stores.
            padded.each(first, blocks, |k, block| {
                (ms[k], pcts[k], syms[k], hexes[k]) = masks64_avx512(block);
            });
            // Lanes past the last block: no alphabet, nothing carried out.
            for k in blocks..blocks.next_multiple_of(8) {
                (ms[k], pcts[k], syms[k], hexes[k]) = (0, 0, 0, 0);
            }
            let mut marked = 0u64;
            for g in (0..blocks).step_by(8) {
                let valid = u64::MAX >> (64 - (blocks - g).min(8));
                let lanes = |v: &[u64]| _mm512_loadu_si512(v.as_ptr().cast());
                let (m, sym, hex) = (lanes(&ms[g..]), lanes(&syms[g..]), lanes(&hexes[g..]));
                // `escapes`, lane by lane.
                let pct = _mm512_and_si512(
                    lanes(&pcts[g..]),
                    _mm512_or_si512(
                        _mm512_and_si512(_mm512_srli_epi64(hex, 1), _mm512_srli_epi64(hex, 2)),
                        _mm512_set1_epi64(3 << 62),
                    ),
                );
                _mm512_storeu_si512(pcts[g..].as_mut_ptr().cast(), pct);
                if _mm512_cmpeq_epi64_mask(m, ones) != 0 {
                    // A block all alphabet carries the sum of the runs before it: block by
                    // block, each looked at.
                    let (mut c, mut cs) = (scalar(carry), scalar(carry_syms));
                    for k in g..g + 8 {
                        (carries[k], carries_syms[k]) = (c as u64, cs as u64);
                        let b = Block {
                            m: ms[k],
                            pct: pcts[k],
                            sym: syms[k],
                            carry: c,
                            carry_syms: cs,
                        };
                        (c, cs) = b.carry_out();
                    }
                    marked |= valid << g;
                    carry = _mm512_set1_epi64(c as i64);
                    carry_syms = _mm512_set1_epi64(cs as i64);
                    continue;
                }
                // Lane by lane, as `Looker::look` and `Block::carry_out` do with one block
                // (none is all alphabet: `head` and `top` are below 64).
                let not_m = _mm512_xor_si512(m, ones);
                // Trailing ones of `m`: the bits below its lowest clear bit.
                let head = _mm512_popcnt_epi64(_mm512_and_si512(
                    m,
                    _mm512_sub_epi64(not_m, _mm512_set1_epi64(1)),
                ));
                let top = _mm512_lzcnt_epi64(not_m);
                let above_head = _mm512_sllv_epi64(ones, head);
                let below_top = _mm512_srlv_epi64(ones, top);
                let rest = _mm512_and_si512(_mm512_and_si512(m, above_head), below_top);
                let mut x = rest;
                x = _mm512_and_si512(x, _mm512_srli_epi64(x, 1));
                x = _mm512_and_si512(x, _mm512_srli_epi64(x, 2));
                x = _mm512_and_si512(x, _mm512_srli_epi64(x, 4));
                x = _mm512_and_si512(x, _mm512_srli_epi64(x, 8));
                x = _mm512_and_si512(x, _mm512_srli_epi64(x, 4));
                // The first run inside, from `s` (the lowest bit of `x`), `len` bytes long, is
                // dropped as `Looker::look` drops it if it has too many `+/-_`; a block with
                // such a run and no other is not looked at.
                let one = _mm512_set1_epi64(1);
                let s = _mm512_popcnt_epi64(_mm512_andnot_si512(x, _mm512_sub_epi64(x, one)));
                let from_s = _mm512_srlv_epi64(rest, s);
                let len =
                    _mm512_popcnt_epi64(_mm512_andnot_si512(_mm512_add_epi64(from_s, one), from_s));
                let first_syms = _mm512_popcnt_epi64(_mm512_andnot_si512(
                    _mm512_sllv_epi64(ones, len),
                    _mm512_srlv_epi64(sym, s),
                ));
                let first_ok = _mm512_cmple_epu64_mask(_mm512_slli_epi64(first_syms, 4), len);
                let later = _mm512_and_si512(x, _mm512_sllv_epi64(ones, _mm512_add_epi64(s, len)));
                let inside = _mm512_test_epi64_mask(x, x)
                    & (first_ok | _mm512_test_epi64_mask(later, later));
                let top_syms = _mm512_popcnt_epi64(_mm512_andnot_si512(below_top, sym));
                // What each block carries in: the last block's carry, then the lanes' own.
                let carry_in = _mm512_alignr_epi64(top, carry, 7);
                let carry_syms_in = _mm512_alignr_epi64(top_syms, carry_syms, 7);
                let run = _mm512_add_epi64(carry_in, head);
                let head_syms = _mm512_popcnt_epi64(_mm512_andnot_si512(above_head, sym));
                let run_syms = _mm512_slli_epi64(_mm512_add_epi64(carry_syms_in, head_syms), 4);
                let ends = _mm512_cmpge_epu64_mask(run, _mm512_set1_epi64(MIN_RUN as i64))
                    & _mm512_cmple_epu64_mask(run_syms, run);
                let look = _mm512_test_epi64_mask(pct, pct) | ends | inside;
                marked |= (u64::from(look) & valid) << g;
                _mm512_storeu_si512(carries[g..].as_mut_ptr().cast(), carry_in);
                _mm512_storeu_si512(carries_syms[g..].as_mut_ptr().cast(), carry_syms_in);
                let last = _mm512_set1_epi64(7);
                carry = _mm512_permutexvar_epi64(last, top);
                carry_syms = _mm512_permutexvar_epi64(last, top_syms);
            }
            while marked != 0 {
                let k = marked.trailing_zeros() as usize;
                let b = Block {
                    m: ms[k],
                    pct: pcts[k],
                    sym: syms[k],
                    carry: carries[k] as usize,
                    carry_syms: carries_syms[k] as usize,
                };
                looker.look(i + 64 * k, 64, b, out);
                marked &= marked - 1;
            }
        }
    }
}

/// The 64-byte blocks of a haystack for the grouped loops: the whole blocks, then the rest
/// (maybe nothing) padded with zeros, which are not in the alphabet, so every run ends in a
/// block.
struct Padded<'h> {
    hay: &'h [u8],
    last: [u8; 64],
    blocks: usize,
}

impl<'h> Padded<'h> {
    fn new(hay: &'h [u8]) -> Self {
        let n = hay.len();
        let mut last = [0u8; 64];
        last[..n % 64].copy_from_slice(&hay[n - n % 64..]);
        Padded {
            hay,
            last,
            blocks: n / 64 + 1,
        }
    }

    /// `f` on each of blocks `first..first + count` (all below the count), with its index from
    /// `first`: the whole blocks of the haystack in a loop with no test for the padded last one,
    /// then that one if it is among them.
    #[inline(always)]
    fn each(&self, first: usize, count: usize, mut f: impl FnMut(usize, &[u8; 64])) {
        let whole = (self.blocks - 1 - first).min(count);
        for (k, block) in self.hay[64 * first..64 * (first + whole)]
            .chunks_exact(64)
            .enumerate()
        {
            f(k, block.try_into().expect("64 bytes"));
        }
        if whole < count {
            f(whole, &self.last);
        }
    }

    /// The groups of at most `size` blocks, as (first block, blocks).
    fn groups(&self, size: usize) -> impl Iterator<Item = (usize, usize)> {
        let total = self.blocks;
        (0..total)
            .step_by(size)
            .map(move |first| (first, (total - first).min(size)))
    }
}

/// What the block loops know of a block: its alphabet, escape and `+/-_` bits (see
/// [`masks64`]), and the alphabet bytes just before it (a run that may go on in it) with how
/// many of them are `+/-_`.
#[derive(Clone, Copy)]
struct Block {
    m: u64,
    pct: u64,
    sym: u64,
    carry: usize,
    carry_syms: usize,
}

impl Block {
    /// What the block carries into the next: a run that reaches its end. Bits past a short
    /// last block are clear, so it carries nothing.
    #[inline(always)]
    fn carry_out(&self) -> (usize, usize) {
        if self.m == u64::MAX {
            (
                self.carry + 64,
                self.carry_syms + self.sym.count_ones() as usize,
            )
        } else {
            let top = self.m.leading_ones() as usize;
            let syms = (self.sym & !(u64::MAX >> top)).count_ones() as usize;
            (top, syms)
        }
    }
}

/// The work of the block loops on one block, with `run_masks` turning the 64 bytes from a
/// run's start into what [`classify`] needs (or `None`: classify byte by byte).
struct Looker<'h, R> {
    hay: &'h [u8],
    run_masks: R,
    /// Where the last percent run ended (a `%` before it was part of it).
    pct_floor: usize,
}

impl<'h, R: Fn(&[u8; 64]) -> Option<RunMasks>> Looker<'h, R> {
    #[inline(always)]
    fn new(hay: &'h [u8], run_masks: R) -> Self {
        Looker {
            hay,
            run_masks,
            pct_floor: 0,
        }
    }

    /// The blocks from `i` (a multiple of 64) to the end, `carry` alphabet bytes before `i`,
    /// `carry_syms` of them `+/-_`, with `masks` turning 64 bytes into their bits (see
    /// [`masks64`]).
    #[inline(always)]
    fn blocks(
        &mut self,
        mut i: usize,
        mut carry: usize,
        mut carry_syms: usize,
        masks: impl Fn(&[u8; 64]) -> (u64, u64, u64),
        out: &mut Vec<Run>,
    ) {
        let hay = self.hay;
        let n = hay.len();
        while i + 64 <= n {
            let (m, pct, sym) = masks(hay[i..i + 64].try_into().expect("64 bytes"));
            let b = Block {
                m,
                pct,
                sym,
                carry,
                carry_syms,
            };
            self.look(i, 64, b, out);
            (carry, carry_syms) = b.carry_out();
            i += 64;
        }
        if i < n {
            let tail = &hay[i..];
            let bits = |f: fn(u8) -> bool| {
                tail.iter()
                    .enumerate()
                    .fold(0u64, |m, (j, &b)| m | (u64::from(f(b)) << j))
            };
            let hex = bits(|b| CLASS[b as usize] & HEX != 0);
            let b = Block {
                // Bits past the tail are clear: a run that reaches the end is inside.
                m: bits(in_alphabet),
                pct: escapes(bits(|b| b == b'%'), hex),
                sym: bits(|b| matches!(b, b'+' | b'/' | b'-' | b'_')),
                carry,
                carry_syms,
            };
            self.look(i, n - i, b, out);
        } else if carry >= MIN_RUN {
            self.push_run(n - carry, n, out);
        }
    }

    /// The runs that start or end in block `b` at `i`, of `len` bytes (64 but for the last;
    /// the AVX-512 loop passes its zero-padded last block as 64), but not one that reaches its
    /// end; and the percent runs around its escapes.
    #[inline(always)]
    fn look(&mut self, i: usize, len: usize, b: Block, out: &mut Vec<Run>) {
        let mut p = b.pct;
        while p != 0 {
            let at = i + p.trailing_zeros() as usize;
            percent_run_at(self.hay, at, &mut self.pct_floor, out);
            p &= p - 1;
        }
        if b.m == u64::MAX && len == 64 {
            return;
        }
        // A run with more than one `+/-_` in 16 bytes is not base64 (see `classify`): the
        // symbol bits are enough to drop most identifiers without a call.
        let syms = |bits: u64| (b.sym & bits).count_ones() as usize;
        // The run that starts in an earlier block ends here, after `head` (< 64) bytes.
        let head = b.m.trailing_ones() as usize;
        let run = b.carry + head;
        if (run >= MIN_RUN) & ((b.carry_syms + syms((1u64 << head) - 1)) * 16 <= run) {
            self.push_run(i - b.carry, i + head, out);
        }
        // Runs inside the block: `x` keeps a bit where MIN_RUN (20) alphabet bytes start.
        let top = b.m.leading_ones() as usize;
        let rest = b.m & !((1u64 << head) - 1) & (u64::MAX >> top);
        let mut x = rest;
        x &= x >> 1;
        x &= x >> 2;
        x &= x >> 4;
        x &= x >> 8;
        x &= x >> 4;
        while x != 0 {
            let s = x.trailing_zeros() as usize;
            let e = s + (!(rest >> s)).trailing_zeros() as usize;
            let below_e = if e >= 64 { u64::MAX } else { (1u64 << e) - 1 };
            if syms(below_e & !((1u64 << s) - 1)) * 16 <= e - s {
                self.push_run(i + s, i + e, out);
            }
            x &= !below_e;
        }
    }

    /// The facts of the alphabet run `s..e`, 64 bytes at a time (runs in base64 blobs and hex
    /// dumps go on for thousands), until the symbols are too many (see [`Facts::of`]).
    #[inline(always)]
    fn facts(&self, s: usize, e: usize) -> Facts {
        let hay = self.hay;
        let max_syms = (e - s) / 16;
        let (mut facts, mut j) = (Facts::EMPTY, s);
        while j < e && facts.syms <= max_syms {
            let len = (e - j).min(64);
            let part = hay
                .get(j..j + 64)
                .and_then(|w| (self.run_masks)(w.try_into().expect("64 bytes")))
                .map(|m| m.facts(len))
                .unwrap_or_else(|| Facts::of(&hay[j..j + len], max_syms - facts.syms));
            facts = if j == s { part } else { facts.then(part) };
            j += len;
        }
        facts
    }

    /// Classify the alphabet run `s..e` and keep it if it is a plausible encoding.
    #[inline(always)]
    fn push_run(&self, s: usize, e: usize, out: &mut Vec<Run>) {
        let hay = self.hay;
        // Most runs are identifiers and hashes that `plausible` rejects on the first bytes
        // they decode to, which `rejected_early` judges before the run's facts are taken. Most
        // identifiers (`WinHttpProxySettingsTypeUnknown`) fail on three bytes already, and
        // cannot be hex (a letter past `f` in their first four, but for `0x`): base64 or
        // nothing. This cheaper test drops those first.
        let hex = |k: usize| hex_val(hay[s + k]) != 0xff;
        if !(hex(0) & (hex(1) | zero_x(hay, s)) & hex(2) & hex(3))
            && base64_head::<3>(hay, s).is_some_and(head_rejects)
        {
            return;
        }
        if rejected_early(hay, s) {
            return;
        }
        self.judge(s, e, out);
    }

    /// The rest of [`Looker::push_run`], for the few runs (16,000 of the corpus's 764,000) that
    /// the early rejections let through. Not inlined: the block loops stay small, and so does
    /// the code a scan runs between files.
    #[inline(never)]
    fn judge(&self, s: usize, e: usize, out: &mut Vec<Run>) {
        let hay = self.hay;
        let facts = self.facts(s, e);
        // Judged here, while the run's bytes are still in the cache.
        if let Some(run) = classify(hay, s, e, facts).filter(|run| plausible(hay, run)) {
            out.push(run);
        }
    }
}

/// Whether the alphabet run from `s` (of [`MIN_RUN`] bytes or more) is one that [`plausible`]
/// rejects whatever [`classify`] makes of it, judged on the first six bytes it decodes to as
/// base64 and, where it may be hex (from `s`, or after `0x`), as hex.
///
/// Six bytes reject most of what three let through: identifiers whose first four characters
/// happen to decode to text but whose next four do not (`WinHttpP` decodes to `Z)`, a two-byte
/// character, and a lead byte followed by `O`), and hashes in hex, whose bytes are random.
#[inline(always)]
fn rejected_early(hay: &[u8], s: usize) -> bool {
    const HEAD: usize = 6;
    // As hex from `at`: rejected too where a byte of the head is not a hex digit.
    let hex_rejects = |at: usize| hex_head::<HEAD>(hay, at).is_none_or(head_rejects);
    base64_head::<HEAD>(hay, s).is_some_and(head_rejects)
        && hex_rejects(s)
        && (!zero_x(hay, s) || hex_rejects(s + 2))
}

/// Whether the run from `s` (two bytes or more) begins with `0x` or `0X`.
#[inline(always)]
fn zero_x(hay: &[u8], s: usize) -> bool {
    (hay[s] == b'0') & ((hay[s + 1] | 0x20) == b'x')
}

/// The bits of `pct` (the `%` bytes of a block) that may start an escape: those followed by two
/// `hex` digits, and the last two, whose digits are in the next block.
#[inline(always)]
fn escapes(pct: u64, hex: u64) -> u64 {
    pct & ((hex >> 1) & (hex >> 2) | (3 << 62))
}

/// Whether `b` is in the base64 or base64url alphabet.
fn in_alphabet(b: u8) -> bool {
    CLASS[b as usize] & B64ANY != 0
}

/// Bits `j` set where `block[j]` is in the base64 or base64url alphabet, where it is a `%` that
/// may start an escape ([`escapes`]), and where it is one of `+/-_`.
#[cfg(target_arch = "x86_64")]
fn masks64(block: &[u8; 64]) -> (u64, u64, u64) {
    masks64_sse2(block)
}

/// [`masks64`] with SSE2, part of the x86_64 baseline.
#[cfg(target_arch = "x86_64")]
fn masks64_sse2(block: &[u8; 64]) -> (u64, u64, u64) {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics are always available;
    // the four unaligned 16-byte loads read exactly the 64 bytes of `block`.
    unsafe {
        let range = |x: __m128i, lo: u8, hi: u8| {
            let t = _mm_add_epi8(x, _mm_set1_epi8(0x80u8.wrapping_sub(lo) as i8));
            _mm_cmplt_epi8(t, _mm_set1_epi8(0x80u8.wrapping_add(hi - lo + 1) as i8))
        };
        let eq = |x: __m128i, c: u8| _mm_cmpeq_epi8(x, _mm_set1_epi8(c as i8));
        let (mut m, mut pct, mut syms, mut hex) = (0u64, 0u64, 0u64, 0u64);
        for k in 0..4 {
            let x = _mm_loadu_si128(block.as_ptr().add(16 * k) as *const __m128i);
            let alpha = range(_mm_or_si128(x, _mm_set1_epi8(0x20)), b'a', b'z');
            let digit = range(x, b'0', b'9');
            let sym = _mm_or_si128(
                _mm_or_si128(eq(x, b'+'), eq(x, b'/')),
                _mm_or_si128(eq(x, b'-'), eq(x, b'_')),
            );
            let all = _mm_or_si128(_mm_or_si128(alpha, digit), sym);
            let hex_letter = range(_mm_or_si128(x, _mm_set1_epi8(0x20)), b'a', b'f');
            m |= u64::from(_mm_movemask_epi8(all) as u16) << (16 * k);
            pct |= u64::from(_mm_movemask_epi8(eq(x, b'%')) as u16) << (16 * k);
            syms |= u64::from(_mm_movemask_epi8(sym) as u16) << (16 * k);
            hex |= u64::from(_mm_movemask_epi8(_mm_or_si128(digit, hex_letter)) as u16) << (16 * k);
        }
        (m, escapes(pct, hex), syms)
    }
}

/// Nibble tables for [`masks64_avx2`]: a byte is in the alphabet when the entry of its low
/// nibble and the entry of its high nibble share one of the bits 1 to 16. Each bit is one
/// rectangle of the byte table: 1 `0`-`9`; 2 `A`-`O` and `a`-`o`; 4 `P`-`Z` and `p`-`z`; 8 `+`,
/// `-`, `/`; 16 `_`; 32 `A`-`F` and `a`-`f` (all in the alphabet; with bit 1, the hex digits);
/// 64 `%`. Bit 128 is read on its own, by the sign: `+`, `-`, `/`, `_`, and `[` and `]` (which
/// no other bit has). Bytes from 128 up are in no rectangle: their low lookup gives 0.
const LO_NIBBLE: [u8; 16] = {
    let mut t = [0u8; 16];
    let mut l = 0;
    while l < 16 {
        let mut v = 0;
        if l <= 9 {
            v |= 1;
        }
        if l >= 1 {
            v |= 2;
        }
        if l <= 10 {
            v |= 4;
        }
        if l == 0xb || l == 0xd || l == 0xf {
            v |= 8;
        }
        if l == 0xf {
            v |= 16;
        }
        if l == 0xb || l == 0xd || l == 0xf {
            v |= 128;
        }
        if l >= 1 && l <= 6 {
            v |= 32;
        }
        if l == 5 {
            v |= 64;
        }
        t[l] = v;
        l += 1;
    }
    t
};
const HI_NIBBLE: [u8; 16] = {
    let mut t = [0u8; 16];
    t[2] = 8 | 64 | 128; // `+`, `-`, `/` (and `%` for bit 64)
    t[3] = 1; // digits
    t[4] = 2 | 32; // `A`-`O`, of which `A`-`F` are hex
    t[5] = 4 | 16 | 128; // `P`-`Z`, `_` (and `[`, `]` for bit 128)
    t[6] = 2 | 32; // `a`-`o`, of which `a`-`f` are hex
    t[7] = 4; // `p`-`z`
    t
};

/// [`masks64`] with AVX2: two 32-byte halves, the alphabet by nibble lookups. Its symbol bits
/// also mark `[` and `]`, which are not in the alphabet: the block loops only read the symbol
/// bits of alphabet bytes, and a single bit of the table gives them.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn masks64_avx2(block: &[u8; 64]) -> (u64, u64, u64) {
    use std::arch::x86_64::*;
    // SAFETY: the table loads read 16 bytes each from 16-byte arrays.
    let (lo_t, hi_t) = unsafe {
        (
            _mm256_broadcastsi128_si256(_mm_loadu_si128(LO_NIBBLE.as_ptr() as *const __m128i)),
            _mm256_broadcastsi128_si256(_mm_loadu_si128(HI_NIBBLE.as_ptr() as *const __m128i)),
        )
    };
    let low4 = _mm256_set1_epi8(0x0f);
    let (alphabet_bits, pct_bit) = (_mm256_set1_epi8(31), _mm256_set1_epi8(64));
    // The top bits of the bytes of both halves, as 64 bits.
    let bits = |v: [__m256i; 2]| {
        u64::from(_mm256_movemask_epi8(v[0]) as u32)
            | u64::from(_mm256_movemask_epi8(v[1]) as u32) << 32
    };
    let mut x = [_mm256_setzero_si256(); 2];
    let mut both = [_mm256_setzero_si256(); 2];
    let mut outside = [_mm256_setzero_si256(); 2];
    for k in 0..2 {
        // SAFETY: the two unaligned 32-byte loads read exactly the 64 bytes of `block`.
        x[k] = unsafe { _mm256_loadu_si256(block.as_ptr().add(32 * k) as *const __m256i) };
        // The low nibble needs no mask: the lookup reads bits 0-3, and gives 0 for a byte with
        // bit 7 set (none is in the alphabet).
        let lo = _mm256_shuffle_epi8(lo_t, x[k]);
        let hi = _mm256_shuffle_epi8(hi_t, _mm256_and_si256(_mm256_srli_epi16(x[k], 4), low4));
        both[k] = _mm256_and_si256(lo, hi);
        outside[k] = _mm256_cmpeq_epi8(
            _mm256_and_si256(both[k], alphabet_bits),
            _mm256_setzero_si256(),
        );
    }
    let (m, sym) = (!bits(outside), bits(both));
    // The hex digits only matter after a `%`, which most blocks lack.
    if _mm256_testz_si256(_mm256_or_si256(both[0], both[1]), pct_bit) != 0 {
        return (m, 0, sym);
    }
    let is_pct = x.map(|x| _mm256_cmpeq_epi8(x, _mm256_set1_epi8(b'%' as i8)));
    let no_hex = both.map(|both| {
        let digit = _mm256_and_si256(both, _mm256_set1_epi8(1 | 32));
        _mm256_cmpeq_epi8(digit, _mm256_setzero_si256())
    });
    (m, escapes(bits(is_pct), !bits(no_hex)), sym)
}

/// Classes of the ASCII bytes for [`masks64_avx512`]: 1 base64 or base64url alphabet, 2 one of
/// `+/-_`, 4 hex digit.
#[cfg(target_arch = "x86_64")]
static ASCII_CLASS: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let c = CLASS[b];
        let sym = matches!(b as u8, b'+' | b'/' | b'-' | b'_');
        t[b] = (c & B64ANY != 0) as u8 | (2 * sym as u8) | (4 * (c & HEX != 0) as u8);
        b += 1;
    }
    t
};

/// [`masks64`] with AVX-512, before [`escapes`]: the alphabet, `%`, `+/-_` and hex digit bits
/// of one 64-byte register, its bytes classed by a lookup in a table of 128 bytes (VBMI), the
/// masks read straight into 64-bit mask registers.
///
/// # Safety
/// The CPU must support AVX-512 F, BW and VBMI.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
#[inline]
unsafe fn masks64_avx512(block: &[u8; 64]) -> (u64, u64, u64, u64) {
    use std::arch::x86_64::*;
    // SAFETY: the loads read the 64 bytes of `block` and the two halves of `ASCII_CLASS`.
    let (x, lo, hi) = unsafe {
        (
            _mm512_loadu_si512(block.as_ptr().cast()),
            _mm512_loadu_si512(ASCII_CLASS.as_ptr().cast()),
            _mm512_loadu_si512(ASCII_CLASS.as_ptr().add(64).cast()),
        )
    };
    // The lookup ignores bit 7 of the index: bytes above 127 read the class of another byte.
    let class = _mm512_permutex2var_epi8(lo, x, hi);
    let ascii = !_mm512_movepi8_mask(x);
    let m = _mm512_test_epi8_mask(class, _mm512_set1_epi8(1)) & ascii;
    let sym = _mm512_test_epi8_mask(class, _mm512_set1_epi8(2)) & ascii;
    let hex = _mm512_test_epi8_mask(class, _mm512_set1_epi8(4)) & ascii;
    let pct = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(b'%' as i8));
    (m, pct, sym, hex)
}

/// Bits `j` set where `block[j]` is in the base64 or base64url alphabet, where it is a `%` that
/// may start an escape ([`escapes`]), and where it is one of `+/-_`.
#[cfg(not(target_arch = "x86_64"))]
fn masks64(block: &[u8; 64]) -> (u64, u64, u64) {
    let (m, pct, sym, hex) =
        block
            .iter()
            .enumerate()
            .fold((0, 0, 0, 0), |(m, pct, sym, hex), (j, &b)| {
                (
                    m | (u64::from(in_alphabet(b)) << j),
                    pct | (u64::from(b == b'%') << j),
                    sym | (u64::from(matches!(b, b'+' | b'/' | b'-' | b'_')) << j),
                    hex | (u64::from(CLASS[b as usize] & HEX != 0) << j),
                )
            });
    (m, escapes(pct, hex), sym)
}

/// What [`classify`] needs to know of an alphabet run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Facts {
    /// All bytes are hex digits.
    all_hex: bool,
    /// All bytes after the first two are hex digits.
    hex_after_two: bool,
    /// Some byte is an upper-case letter.
    upper: bool,
    /// Some byte is a lower-case letter.
    lower: bool,
    /// How many bytes are `+/-_`.
    syms: usize,
    /// Some byte is `+` or `/`.
    std_sym: bool,
    /// Some byte is `-` or `_`.
    url_sym: bool,
}

impl Facts {
    /// The facts of no bytes.
    const EMPTY: Facts = Facts {
        all_hex: true,
        hex_after_two: true,
        upper: false,
        lower: false,
        syms: 0,
        std_sym: false,
        url_sym: false,
    };

    /// The facts of `run`, byte by byte. It stops early (with `syms` over `max_syms`) once the
    /// symbols are too many for base64 (see [`classify`]).
    fn of(run: &[u8], max_syms: usize) -> Facts {
        let mut f = Facts::EMPTY;
        for (j, &b) in run.iter().enumerate() {
            let hex = b.is_ascii_hexdigit();
            f.all_hex &= hex;
            f.hex_after_two &= hex || j < 2;
            f.upper |= b.is_ascii_uppercase();
            f.lower |= b.is_ascii_lowercase();
            let std = matches!(b, b'+' | b'/');
            let url = matches!(b, b'-' | b'_');
            f.std_sym |= std;
            f.url_sym |= url;
            f.syms += usize::from(std | url);
            if f.syms > max_syms {
                break;
            }
        }
        f
    }

    /// The facts of a run of two bytes or more followed by a run with facts `next`.
    fn then(self, next: Facts) -> Facts {
        Facts {
            all_hex: self.all_hex && next.all_hex,
            hex_after_two: self.hex_after_two && next.all_hex,
            upper: self.upper || next.upper,
            lower: self.lower || next.lower,
            syms: self.syms + next.syms,
            std_sym: self.std_sym || next.std_sym,
            url_sym: self.url_sym || next.url_sym,
        }
    }
}

/// Bit masks of 64 bytes from a run's start, one bit per byte (bits past the run are ignored).
#[derive(Clone, Copy)]
struct RunMasks {
    upper: u64,
    lower: u64,
    hex: u64,
    std_sym: u64,
    url_sym: u64,
}

impl RunMasks {
    /// The facts of the run of `len` bytes (at most 64) these masks start at.
    fn facts(self, len: usize) -> Facts {
        let rb = if len >= 64 {
            u64::MAX
        } else {
            (1u64 << len) - 1
        };
        Facts {
            all_hex: self.hex & rb == rb,
            hex_after_two: (self.hex | 3) & rb == rb,
            upper: self.upper & rb != 0,
            lower: self.lower & rb != 0,
            syms: ((self.std_sym | self.url_sym) & rb).count_ones() as usize,
            std_sym: self.std_sym & rb != 0,
            url_sym: self.url_sym & rb != 0,
        }
    }
}

/// [`RunMasks`] of 64 bytes with AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn run_masks_avx2(w: &[u8; 64]) -> RunMasks {
    use std::arch::x86_64::*;
    let range = |x: __m256i, lo: u8, hi: u8| {
        let t = _mm256_add_epi8(x, _mm256_set1_epi8(0x80u8.wrapping_sub(lo) as i8));
        _mm256_cmpgt_epi8(_mm256_set1_epi8(0x80u8.wrapping_add(hi - lo + 1) as i8), t)
    };
    let eq = |x: __m256i, c: u8| _mm256_cmpeq_epi8(x, _mm256_set1_epi8(c as i8));
    let bits = |v: __m256i, k: usize| u64::from(_mm256_movemask_epi8(v) as u32) << (32 * k);
    let mut m = RunMasks {
        upper: 0,
        lower: 0,
        hex: 0,
        std_sym: 0,
        url_sym: 0,
    };
    for k in 0..2 {
        // SAFETY: the two unaligned 32-byte loads read exactly the 64 bytes of `w`.
        let x = unsafe { _mm256_loadu_si256(w.as_ptr().add(32 * k) as *const __m256i) };
        let hex = _mm256_or_si256(
            range(x, b'0', b'9'),
            range(_mm256_or_si256(x, _mm256_set1_epi8(0x20)), b'a', b'f'),
        );
        m.upper |= bits(range(x, b'A', b'Z'), k);
        m.lower |= bits(range(x, b'a', b'z'), k);
        m.hex |= bits(hex, k);
        m.std_sym |= bits(_mm256_or_si256(eq(x, b'+'), eq(x, b'/')), k);
        m.url_sym |= bits(_mm256_or_si256(eq(x, b'-'), eq(x, b'_')), k);
    }
    m
}

/// Decide what the alphabet run `hay[s..e]`, with `facts`, is.
fn classify(hay: &[u8], mut s: usize, e: usize, facts: Facts) -> Option<Run> {
    // The symbols encode 6-bit values 62 and 63, which base64 of ASCII text only produces from
    // `>`, `?`, `~` and DEL in every third byte, and of binary data about once in 32 characters.
    // Identifiers (`Win32_System_Com`, `some_long_name`) have far more (symbols make neither
    // hex nor `0x` hex either).
    if facts.syms * 16 > e - s {
        return None;
    }
    let hex = |s: usize| {
        ((e - s) >= MIN_HEX && (e - s).is_multiple_of(2)).then_some(Run {
            start: s,
            end: e,
            encoding: Encoding::Hex,
        })
    };
    if facts.all_hex {
        return hex(s);
    }
    // `0x` before hex digits.
    if e - s > 2 && zero_x(hay, s) && facts.hex_after_two {
        s += 2;
        return hex(s);
    }
    // Base64 of anything has both upper- and lower-case letters; a run without is a word or a
    // constant, not an encoding.
    if !(facts.upper && facts.lower) {
        return None;
    }
    let encoding = match (facts.std_sym, facts.url_sym) {
        (_, false) => Encoding::Base64,
        (false, true) => Encoding::Base64Url,
        (true, true) => return None,
    };
    let mut end = e;
    while end < hay.len() && end - e < 2 && hay[end] == b'=' {
        end += 1;
    }
    Some(Run {
        start: s,
        end,
        encoding,
    })
}

/// The percent-encoded run around the `%` at `p`, if it starts an escape that can begin text and
/// is not part of the run that ended at `floor`; `floor` moves to the end of the run found.
///
/// An escape can begin text if its byte is printable ASCII, a tab or a line break, or is the
/// first byte of a UTF-8 sequence and another escape follows. That leaves out `%eax`, `%ecx`
/// and the like in assembly, `%def` in format strings and `%16` in arithmetic, which would
/// otherwise be looked at byte by byte around (and often judged by a head of 16 bytes that
/// holds no escape); a run whose escapes are all left out decodes to no text anyway.
fn percent_run_at(hay: &[u8], p: usize, floor: &mut usize, out: &mut Vec<Run>) {
    if p < *floor || p + 2 >= hay.len() {
        return;
    }
    if CLASS[hay[p + 1] as usize] & HEX == 0 || CLASS[hay[p + 2] as usize] & HEX == 0 {
        return;
    }
    let byte = hex_val(hay[p + 1]) << 4 | hex_val(hay[p + 2]);
    let text = match byte {
        b'\t' | b'\n' | b'\r' | 0x20..=0x7e => true,
        0xc2..=0xf4 => hay.get(p + 3) == Some(&b'%'),
        _ => false,
    };
    if text {
        percent_run_around(hay, p, floor, out);
    }
}

/// The percent-encoded run around the escape at `p` (see [`percent_run_at`]).
#[inline(never)]
fn percent_run_around(hay: &[u8], p: usize, floor: &mut usize, out: &mut Vec<Run>) {
    let mut s = p;
    while s > *floor && CLASS[hay[s - 1] as usize] & FORM != 0 {
        s -= 1;
    }
    let mut e = p + 3;
    while e < hay.len() && CLASS[hay[e] as usize] & FORM != 0 {
        e += 1;
    }
    *floor = e;
    let run = Run {
        start: s,
        end: e,
        encoding: Encoding::Percent,
    };
    if e - s >= MIN_PERCENT && plausible(hay, &run) {
        out.push(run);
    }
}

/// The value of one base64 character, or 0xff.
static B64: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'+' as usize] = 62;
    t[b'/' as usize] = 63;
    t[b'-' as usize] = 62;
    t[b'_' as usize] = 63;
    t
};

/// The value of a hex digit, or 0xff: a lookup, with no branch to mispredict on the random
/// digits of hashes.
#[inline(always)]
fn hex_val(b: u8) -> u8 {
    static VALUE: [u8; 256] = {
        let mut t = [0xffu8; 256];
        let mut d = 0;
        while d < 16 {
            t[b"0123456789abcdef"[d] as usize] = d as u8;
            t[b"0123456789ABCDEF"[d] as usize] = d as u8;
            d += 1;
        }
        t
    };
    VALUE[b as usize]
}

/// Whether `c` is a control byte in text: below space but for tab and line breaks, or DEL. A
/// lookup, for the same reason as [`hex_val`].
#[inline(always)]
fn control(c: u8) -> bool {
    static CONTROL: [bool; 256] = {
        let mut t = [false; 256];
        let mut c = 0;
        while c < 0x20 {
            t[c] = !matches!(c as u8, b'\t' | b'\n' | b'\r');
            c += 1;
        }
        t[0x7f] = true;
        t
    };
    CONTROL[c as usize]
}

/// Decode `run` of `hay` into `out` (cleared first). False if it is not valid in its encoding.
pub fn decode(hay: &[u8], run: &Run, out: &mut Vec<u8>) -> bool {
    out.clear();
    let end = run.end.min(run.start.saturating_add(MAX_RUN));
    let mut src = &hay[run.start..end];
    // A wrapped block: its characters without the line breaks and indentation.
    let joined: Vec<u8>;
    if run.encoding != Encoding::Percent && memchr::memchr(b'\n', src).is_some() {
        joined = src
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        src = &joined;
    }
    match run.encoding {
        Encoding::Base64 | Encoding::Base64Url => {
            let body = match src.iter().position(|&b| b == b'=') {
                Some(i) => &src[..i],
                None => src,
            };
            // A trailing single character holds no whole byte.
            let body = if body.len() % 4 == 1 {
                &body[..body.len() - 1]
            } else {
                body
            };
            out.reserve(body.len() / 4 * 3 + 3);
            let mut acc: u32 = 0;
            let mut bits = 0;
            for &b in body {
                let v = B64[b as usize];
                if v == 0xff {
                    return false;
                }
                acc = (acc << 6) | u32::from(v);
                bits += 6;
                if bits >= 8 {
                    bits -= 8;
                    out.push((acc >> bits) as u8);
                }
            }
            true
        }
        Encoding::Hex => {
            if !src.len().is_multiple_of(2) {
                return false;
            }
            out.reserve(src.len() / 2);
            for pair in src.chunks_exact(2) {
                let (h, l) = (hex_val(pair[0]), hex_val(pair[1]));
                if h == 0xff || l == 0xff {
                    return false;
                }
                out.push(h << 4 | l);
            }
            true
        }
        Encoding::Percent => {
            let mut escapes = 0;
            let mut i = 0;
            out.reserve(src.len());
            while i < src.len() {
                let b = src[i];
                if b == b'%' && i + 2 < src.len() {
                    let (h, l) = (
                        src.get(i + 1).map_or(0xff, |&c| hex_val(c)),
                        src.get(i + 2).map_or(0xff, |&c| hex_val(c)),
                    );
                    if h != 0xff && l != 0xff {
                        out.push(h << 4 | l);
                        escapes += 1;
                        i += 3;
                        continue;
                    }
                }
                out.push(if b == b'+' { b' ' } else { b });
                i += 1;
            }
            escapes > 0
        }
    }
}

/// The first bytes of the compressed streams and archives a decoded run may start with (gzip,
/// bzip2, xz, zstd, zip): such a run is worth decoding although it is not text.
pub const MAGIC: [&[u8]; 6] = [
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ",
    b"\x28\xb5\x2f\xfd",
    b"PK\x03",
    b"PK\x05",
];

/// A cheap look at the first bytes a run decodes to: false when they are neither text nor the
/// start of a compressed stream or archive, so the run need not be decoded whole (most base64-
/// looking runs in source code are identifiers and paths that decode to binary).
pub fn plausible(hay: &[u8], run: &Run) -> bool {
    // Most candidates are identifiers (base64-looking) or hashes and test vectors (hex) whose
    // first three bytes already hold a control byte: look at those before decoding more.
    let first3 = match run.encoding {
        _ if run.end - run.start < 6 => None,
        Encoding::Base64 | Encoding::Base64Url => match base64_head::<3>(hay, run.start) {
            Some(head) => Some(head),
            None => return false,
        },
        Encoding::Hex => match hex_head::<3>(hay, run.start) {
            Some(head) => Some(head),
            None => return false,
        },
        Encoding::Percent => None,
    };
    if first3.is_some_and(head_rejects) {
        return false;
    }
    const HEAD: usize = 16;
    let end = match run.encoding {
        // Up to three bytes an escape. An escape cut at the end reads as a literal `%` (after a
        // UTF-8 sequence's first byte, an error), but past the 16 bytes judged: before it,
        // `e` escapes and `46 - 3e` other bytes, at least 16 bytes.
        Encoding::Percent => run.end.min(run.start + 3 * HEAD),
        _ => run.end.min(run.start + HEAD),
    };
    let head = Run {
        start: run.start,
        end,
        encoding: run.encoding,
    };
    let mut buf = [0u8; HEAD];
    let Some(out) = decode_head(hay, &head, &mut buf) else {
        return run.encoding == Encoding::Percent;
    };
    if MAGIC.iter().any(|m| out.starts_with(m)) {
        return true;
    }
    // The head may end inside a multi-byte character.
    let valid = match std::str::from_utf8(out) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    valid && !out.iter().any(|&c| control(c))
}

/// The `N` bytes (a multiple of 3) the base64 characters at `hay[s..]` decode to, or `None`
/// if one is not in the alphabet.
#[inline(always)]
fn base64_head<const N: usize>(hay: &[u8], s: usize) -> Option<[u8; N]> {
    let mut head = [0u8; N];
    let mut bad = 0;
    for (k, out) in head.chunks_exact_mut(3).enumerate() {
        let v = |j: usize| B64[hay[s + 4 * k + j] as usize];
        let (v0, v1, v2, v3) = (v(0), v(1), v(2), v(3));
        bad |= v0 | v1 | v2 | v3;
        out.copy_from_slice(&[
            v0 << 2 | v1 >> 4,
            (v1 & 15) << 4 | v2 >> 2,
            (v2 & 3) << 6 | v3,
        ]);
    }
    (bad != 0xff).then_some(head)
}

/// The `N` bytes the first `2 * N` hex digits at `hay[s..]` decode to, or `None` if one is not
/// a hex digit.
#[inline(always)]
fn hex_head<const N: usize>(hay: &[u8], s: usize) -> Option<[u8; N]> {
    let mut head = [0u8; N];
    // Digits are below 16: the OR of all is 0xff only if one is not a digit.
    let mut bad = 0;
    for (k, b) in head.iter_mut().enumerate() {
        let (h, l) = (hex_val(hay[s + 2 * k]), hex_val(hay[s + 2 * k + 1]));
        bad |= h | l;
        *b = h << 4 | l;
    }
    (bad != 0xff).then_some(head)
}

/// Whether the first bytes a run decodes to reject it as [`plausible`] would reject the whole
/// head: a control byte or a definite UTF-8 error (base64-looking identifiers mostly decode to
/// a byte that cannot follow their first), unless they begin a magic number.
#[inline(always)]
fn head_rejects<const N: usize>(head: [u8; N]) -> bool {
    // The first bytes of the magic numbers, so that most heads skip the comparisons.
    const FIRST: [bool; 256] = {
        let mut t = [false; 256];
        let mut k = 0;
        while k < MAGIC.len() {
            t[MAGIC[k][0] as usize] = true;
            k += 1;
        }
        t
    };
    (head.iter().fold(false, |any, &c| any | control(c)) | utf8_broken(&head))
        && !(FIRST[head[0] as usize]
            && MAGIC.iter().any(|m| head.starts_with(&m[..m.len().min(N)])))
}

/// Whether `b` holds a definite UTF-8 error: `std::str::from_utf8` fails with an error length
/// (not only a sequence cut at the end). Without the call, for the short heads of
/// [`head_rejects`], which most candidate runs fail: an automaton over classes of bytes, with
/// a lookup per byte and no branch (the bytes of encoded identifiers and hashes are random, and
/// the branches of a decoder on them were mispredicted).
#[inline(always)]
fn utf8_broken(b: &[u8]) -> bool {
    // Classes: ASCII; continuation bytes 80-8F, 90-9F, A0-BF; never valid (C0, C1, F5-FF);
    // the first bytes of two-byte sequences; E0; the other first bytes of three-byte
    // sequences; ED; F0; F1-F3; F4. (E0, ED, F0 and F4 narrow the second byte.)
    const ASCII: u8 = 0;
    const C80: u8 = 1;
    const C90: u8 = 2;
    const CA0: u8 = 3;
    const NEVER: u8 = 4;
    const LEAD2: u8 = 5;
    const E0: u8 = 6;
    const LEAD3: u8 = 7;
    const ED: u8 = 8;
    const F0: u8 = 9;
    const LEAD4: u8 = 10;
    const F4: u8 = 11;
    static CLASS: [u8; 256] = {
        let mut t = [ASCII; 256];
        let mut c = 0x80;
        while c < 0x100 {
            t[c] = match c {
                0x80..=0x8f => C80,
                0x90..=0x9f => C90,
                0xa0..=0xbf => CA0,
                0xc2..=0xdf => LEAD2,
                0xe0 => E0,
                0xed => ED,
                0xe1..=0xef => LEAD3,
                0xf0 => F0,
                0xf1..=0xf3 => LEAD4,
                0xf4 => F4,
                _ => NEVER,
            };
            c += 1;
        }
        t
    };
    // States: between characters; broken (for good); waiting for 1, 2 or 3 continuation bytes;
    // after E0, ED, F0 or F4, waiting for the narrowed second byte.
    const OK: u8 = 0;
    const BROKEN: u8 = 1;
    const WANT1: u8 = 2;
    const WANT2: u8 = 3;
    const WANT3: u8 = 4;
    const AFTER_E0: u8 = 5;
    const AFTER_ED: u8 = 6;
    const AFTER_F0: u8 = 7;
    const AFTER_F4: u8 = 8;
    static NEXT: [[u8; 12]; 9] = {
        let mut t = [[BROKEN; 12]; 9];
        t[OK as usize] = [
            OK, BROKEN, BROKEN, BROKEN, BROKEN, WANT1, AFTER_E0, WANT2, AFTER_ED, AFTER_F0, WANT3,
            AFTER_F4,
        ];
        let mut c = C80;
        while c <= CA0 {
            t[WANT1 as usize][c as usize] = OK;
            t[WANT2 as usize][c as usize] = WANT1;
            t[WANT3 as usize][c as usize] = WANT2;
            c += 1;
        }
        t[AFTER_E0 as usize][CA0 as usize] = WANT1;
        t[AFTER_ED as usize][C80 as usize] = WANT1;
        t[AFTER_ED as usize][C90 as usize] = WANT1;
        t[AFTER_F0 as usize][C90 as usize] = WANT2;
        t[AFTER_F0 as usize][CA0 as usize] = WANT2;
        t[AFTER_F4 as usize][C80 as usize] = WANT2;
        t
    };
    b.iter().fold(OK, |state, &c| {
        NEXT[state as usize][CLASS[c as usize] as usize]
    }) == BROKEN
}

/// Decode the short `run` into `buf` without allocating: the decoded bytes, or `None` if the
/// run is not valid in its encoding.
fn decode_head<'b>(hay: &[u8], run: &Run, buf: &'b mut [u8; 16]) -> Option<&'b [u8]> {
    let src = &hay[run.start..run.end];
    let mut n = 0;
    match run.encoding {
        Encoding::Base64 | Encoding::Base64Url => {
            let body = memchr::memchr(b'=', src).map_or(src, |p| &src[..p]);
            // Whole groups of four characters make three bytes; the rest go bit by bit.
            let mut groups = body.chunks_exact(4);
            for g in &mut groups {
                let v = |k: usize| u32::from(B64[g[k] as usize]);
                let (v0, v1, v2, v3) = (v(0), v(1), v(2), v(3));
                if (v0 | v1 | v2 | v3) > 63 {
                    return None;
                }
                if n + 3 > buf.len() {
                    return Some(&buf[..n]);
                }
                let w = v0 << 18 | v1 << 12 | v2 << 6 | v3;
                buf[n..n + 3].copy_from_slice(&w.to_be_bytes()[1..]);
                n += 3;
            }
            let (mut acc, mut bits) = (0u32, 0);
            for &b in groups.remainder() {
                let v = B64[b as usize];
                if v == 0xff {
                    return None;
                }
                acc = (acc << 6) | u32::from(v);
                bits += 6;
                if bits >= 8 {
                    bits -= 8;
                    if n < buf.len() {
                        buf[n] = (acc >> bits) as u8;
                        n += 1;
                    }
                }
            }
        }
        Encoding::Hex => {
            for pair in src.chunks_exact(2).take(buf.len()) {
                let (h, l) = (hex_val(pair[0]), hex_val(pair[1]));
                if h == 0xff || l == 0xff {
                    return None;
                }
                buf[n] = h << 4 | l;
                n += 1;
            }
        }
        Encoding::Percent => {
            let mut v = Vec::new();
            if !decode(hay, run, &mut v) {
                return None;
            }
            n = v.len().min(buf.len());
            buf[..n].copy_from_slice(&v[..n]);
        }
    }
    Some(&buf[..n])
}

/// Whether decoded bytes look like text worth scanning: valid UTF-8 with almost no control
/// characters (tab, line breaks allowed; at most one in 32 bytes otherwise).
pub fn is_text(b: &[u8]) -> bool {
    if b.is_empty() || std::str::from_utf8(b).is_err() {
        return false;
    }
    let controls = b.iter().filter(|&&c| control(c)).count();
    controls == 0 || (b.len() >= 64 && controls * 32 <= b.len())
}

/// For a base64 run that ends a data URI (`data:<type>;base64,<run>`): whether the media type is
/// text. `None` when the run is not in a data URI.
pub fn data_uri_is_text(hay: &[u8], run: &Run) -> Option<bool> {
    let before = &hay[run.start.saturating_sub(128)..run.start];
    let head = before.strip_suffix(b";base64,")?;
    let at = memchr::memmem::rfind(head, b"data:")?;
    let media = &head[at + 5..];
    let media = media.split(|&b| b == b';').next().unwrap_or(media);
    let m = String::from_utf8_lossy(media).to_ascii_lowercase();
    Some(
        m.is_empty()
            || m.starts_with("text/")
            || m.ends_with("json")
            || m.ends_with("xml")
            || m.ends_with("yaml")
            || m.ends_with("javascript")
            || m == "application/x-sh"
            || m == "application/x-www-form-urlencoded",
    )
}

/// The key a base64 or hex run is the value of, if any: `key: run`, `key = run`, `"key": "run"`,
/// `key="run"` on the same line (a YAML, JSON, TOML, .env or INI entry).
pub fn key_of<'h>(hay: &'h [u8], run: &Run) -> Option<&'h [u8]> {
    let line_start = memchr::memrchr(b'\n', &hay[run.start.saturating_sub(256)..run.start])
        .map_or(run.start.saturating_sub(256), |i| {
            run.start.saturating_sub(256) + i + 1
        });
    let before = &hay[line_start..run.start];
    let mut i = before.len();
    let skip = |i: &mut usize, set: &[u8]| {
        while *i > 0 && set.contains(&before[*i - 1]) {
            *i -= 1;
        }
    };
    skip(&mut i, b" \t\"'");
    if i == 0 || !matches!(before[i - 1], b':' | b'=') {
        return None;
    }
    i -= 1;
    skip(&mut i, b" \t\"'");
    let end = i;
    while i > 0 && (before[i - 1].is_ascii_alphanumeric() || b"_.-".contains(&before[i - 1])) {
        i -= 1;
    }
    (end > i).then(|| &before[i..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A xorshift64 generator from `seed` (non-zero): the same numbers on every machine.
    fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    fn b64(s: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut o = String::new();
        for c in s.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for k in 0..4 {
                if k <= c.len() {
                    o.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
                } else {
                    o.push('=');
                }
            }
        }
        o
    }

    fn runs(hay: &[u8]) -> Vec<Run> {
        let mut v = Vec::new();
        find_runs(hay, &mut v);
        v
    }

    #[test]
    fn finds_each_encoding_at_its_span() {
        let text = b"some plain text that decodes to itself";
        let enc = b64(text);
        let hay = format!("value: {enc}\nnext line");
        let r = runs(hay.as_bytes());
        assert_eq!(
            r,
            vec![Run {
                start: 7,
                end: 7 + enc.len(),
                encoding: Encoding::Base64
            }]
        );
        let mut out = Vec::new();
        assert!(decode(hay.as_bytes(), &r[0], &mut out));
        assert_eq!(out, text);

        let hex: String = text.iter().map(|b| format!("{b:02x}")).collect();
        let hay = format!("x = 0x{hex};");
        let r = runs(hay.as_bytes());
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].start, r[0].encoding), (6, Encoding::Hex));
        assert!(decode(hay.as_bytes(), &r[0], &mut out));
        assert_eq!(out, text);

        let hay = b"GET /login?user=bob&pass=a%21b%40c+d HTTP/1.1";
        let r = runs(hay);
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].start, r[0].encoding), (4, Encoding::Percent));
        assert!(decode(hay, &r[0], &mut out));
        assert_eq!(out, b"/login?user=bob&pass=a!b@c d");
    }

    #[test]
    fn unpadded_and_url_safe() {
        // 0xfb 0xff in the middle gives `-` and `_` in base64url.
        let mut out = Vec::new();
        let hay = b"tok=eyJzdWIiOiJhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODkiLCJ4Ijoi-_8ifQ";
        let r = runs(hay);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].encoding, Encoding::Base64Url);
        assert!(decode(hay, &r[0], &mut out));
        assert!(out.starts_with(b"{\"sub\":\"abcdefghijklmnopqrstuvwxyz0123456789\",\"x\":\""));
        // Symbols as dense as in an identifier: not base64.
        assert!(runs(b"x = Win32_System_Com_StructuredStorage;").is_empty());
    }

    /// The runs of `hay` found byte by byte (and `memchr` for the `%` bytes).
    fn naive(hay: &[u8]) -> Vec<Run> {
        let mut out = Vec::new();
        let mut floor = 0;
        for p in memchr::memchr_iter(b'%', hay) {
            percent_run_at(hay, p, &mut floor, &mut out);
        }
        let mut i = 0;
        while i < hay.len() {
            if !in_alphabet(hay[i]) {
                i += 1;
                continue;
            }
            let s = i;
            while i < hay.len() && in_alphabet(hay[i]) {
                i += 1;
            }
            if i - s >= MIN_RUN {
                let run = classify(hay, s, i, Facts::of(&hay[s..i], (i - s) / 16));
                out.extend(run.filter(|run| plausible(hay, run)));
            }
        }
        merge(&mut out, 0);
        out
    }

    /// The block-mask finder agrees with the obvious byte-by-byte one (and `memchr` for the
    /// `%` bytes) on runs of every length at every offset around block boundaries.
    #[test]
    fn block_finder_matches_naive() {
        let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_%%.=";
        for round in 0..5000 {
            let len = (next() % 300) as usize;
            let mut hay = vec![b' '; len];
            // Runs of random lengths at random places, some touching the ends.
            // Every fifth round, hex runs (some after `0x`) and runs of one case only.
            const HEX: &[u8] = b"0123456789abcdef0x";
            let (alphabet, k) = match round % 5 {
                0 => (HEX, HEX.len()),
                1 => (&A[26..62], 36),
                _ => (A, A.len()),
            };
            for _ in 0..(next() % 6) {
                let at = (next() % (len as u64 + 1)) as usize;
                let n = (next() % 140) as usize;
                for b in hay.iter_mut().skip(at).take(n) {
                    *b = alphabet[(next() % k as u64) as usize];
                }
                // Every fifth round, runs that pass the trial decode (base64 of text first),
                // with `/` near the most base64 may have (one in 16), across block edges.
                if round % 5 == 2 {
                    let rate = 8 + next() % 24;
                    for (j, b) in hay.iter_mut().skip(at).take(n).enumerate() {
                        *b = match b"aGVsbG8gd29ybGQs".get(j) {
                            Some(&c) => c,
                            None if next().is_multiple_of(rate) => b'/',
                            None => A[(next() % 62) as usize],
                        };
                    }
                }
            }
            if round % 7 == 0 {
                hay.iter_mut().for_each(|b| *b = A[(next() % 62) as usize]);
            }
            let mut got = Vec::new();
            find_runs(&hay, &mut got);
            assert_eq!(
                got,
                naive(&hay),
                "round {round}: {:?}",
                String::from_utf8_lossy(&hay)
            );
        }
    }

    /// Base64 runs at every offset from two blocks' starts, among them the edge cases of the
    /// AVX2 loop's test: a run of 20 that ends where a block does, or starts where one does;
    /// one of 20 whose `/` leaves 9 and 10 bytes around it (its longest stretch without a
    /// symbol is 10, the fewest a kept run can have); a long one with its symbols together.
    #[test]
    fn block_loops_find_runs_at_every_offset() {
        let texts: [&[u8]; 5] = [
            "abcdefg\u{1F600}abcd".as_bytes(),
            b"Hello, world!!!",
            "abcdefg\u{1F600}abcdHello, world. More".as_bytes(),
            b"The quick brown fox jumps over the lazy dog, twice.",
            b"0123456789abcdefghijklmnopqrstuvwxyz, and then some more text to go past 64",
        ];
        let mut runs: Vec<String> = texts.iter().map(|t| b64(t)).collect();
        // A long run whose last 70 bytes have a `+` in every 9 (fewer than one in 16 of all):
        // no 10 bytes in a row without one around the block start it crosses.
        let mut dense = b64(texts[3]);
        dense.extend((0..70).map(|j| {
            if j % 9 == 8 {
                '+'
            } else {
                "AbCdEfGh9".as_bytes()[j % 9] as char
            }
        }));
        runs.push(dense);
        // The same at its start: `ab>` encodes to `YWI+`, and a long tail.
        let mut start = b64(&b"ab>".repeat(12));
        start.extend((0..150).map(|j| "AbCdEfGh9".as_bytes()[j % 9] as char));
        runs.push(start);
        // 80 bytes with a `/` in every 10 of the first 56 (five in all, the most there may be).
        let mut five = runs[0][..16].to_string();
        five.extend((16..80).map(|j| match j {
            19 | 29 | 39 | 49 => '/',
            _ => "AbCdEfGh9".as_bytes()[j % 9] as char,
        }));
        runs.push(five);
        assert_eq!(runs[0].find('/'), Some(9), "{}", runs[0]);
        assert_eq!(runs[0].len(), 20);
        for run in &runs {
            for at in 1..200 {
                let mut hay: Vec<u8> = b"f(x, y);\n".iter().cycle().take(at).copied().collect();
                hay[at - 1] = b' ';
                hay.extend_from_slice(run.as_bytes());
                hay.extend(b" (x, y);\n".iter().cycle().take(100));
                let want = naive(&hay);
                assert!(
                    want.iter()
                        .any(|r| (r.start, r.end) == (at, at + run.len())),
                    "{run} at {at}: {want:?}"
                );
                for (name, find) in block_loops() {
                    let mut got = Vec::new();
                    find(&hay, &mut got);
                    merge(&mut got, 0);
                    assert_eq!(got, want, "{run} at {at}, {name} loop");
                }
            }
        }
    }

    /// Each block loop (portable, AVX2 and AVX-512, the CPU allowing) agrees with the
    /// byte-by-byte finder on inputs of many blocks: the AVX-512 and AVX2 loops take 64 blocks
    /// at a time, and eight or four in one register. Runs of every kind cross block and group
    /// edges, some span whole blocks, some are dense with `+/-_`, and escapes sit on the last
    /// bytes of blocks.
    #[test]
    fn every_block_loop_matches_naive_on_long_inputs() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_";
        let text = b"aGVsbG8gd29ybGQsIHRoaXMgaXMgdGV4dA";
        let loops = block_loops();
        let mut found = 0;
        for round in 0..300 {
            let len = (next() % 20_000) as usize;
            let mut hay: Vec<u8> = (0..len)
                .map(|_| b"int x = foo(bar);\n"[(next() % 18) as usize])
                .collect();
            for _ in 0..(next() % 40) {
                let at = (next() % (len as u64 + 1)) as usize;
                let n = match next() % 4 {
                    0 => (next() % 400) as usize,
                    _ => (next() % 80) as usize,
                };
                let kind = next() % 5;
                // `+` and `/` near the most base64 may have (one in 16).
                let rate = 12 + next() % 30;
                for (j, b) in hay.iter_mut().skip(at).take(n).enumerate() {
                    *b = match kind {
                        // Base64 of text, then random base64.
                        0 => match text.get(j).filter(|_| j < 16) {
                            Some(&c) => c,
                            None if next().is_multiple_of(rate) => b"+/"[(next() % 2) as usize],
                            None => A[(next() % 62) as usize],
                        },
                        1 => b"0123456789abcdef"[(next() % 16) as usize],
                        2 => A[(next() % A.len() as u64) as usize],
                        // Percent escapes of text among form characters.
                        3 if j % 3 == 0 => b'%',
                        3 if j % 3 == 1 => b"2345"[(next() % 4) as usize],
                        3 => b"0123456789ABCDEF"[(next() % 16) as usize],
                        _ => b"snake_case_name/"[(next() % 16) as usize],
                    };
                }
                // Runs stand apart from the words around them.
                for edge in [at.wrapping_sub(1), at + n] {
                    if let Some(b) = hay.get_mut(edge) {
                        *b = b' ';
                    }
                }
            }
            // Escapes on the last bytes of some blocks.
            for b in (62..hay.len()).step_by(64 * (1 + round % 5)) {
                hay[b] = b'%';
            }
            let want = naive(&hay);
            found += want.len();
            for (name, find) in &loops {
                let mut got = Vec::new();
                find(&hay, &mut got);
                merge(&mut got, 0);
                assert_eq!(got, want, "round {round}, {name} loop");
            }
        }
        assert!(found > 1000, "the inputs must hold runs: {found}");
    }

    /// The facts of a long run, taken 64 bytes at a time (with the AVX2 masks where the CPU has
    /// them, and byte by byte near the end of the haystack), are those of the whole run: the
    /// case, the hex digits and the symbols that decide its encoding may come after its first
    /// 64 bytes.
    #[test]
    fn long_run_facts_equal_byte_by_byte() {
        let mut next = xorshift(0x94d0_49bb_1331_11eb);
        #[cfg(target_arch = "x86_64")]
        let avx2 = has_avx2();
        #[cfg(not(target_arch = "x86_64"))]
        let avx2 = false;
        for round in 0..3000 {
            // Most bytes of one kind, a few of others anywhere in the run.
            let (base, rare): (&[u8], &[u8]) = match round % 4 {
                0 => (b"0123456789abcdef", b"ABCDEFxyzXYZ"),
                1 => (b"abcdefghijklmnopqrstuvwxyz0123456789", b"ABCXYZ+/-_"),
                2 => (b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", b"abcxyz+/-_"),
                _ => (b"0123456789ABCDEF", b"abcdefxX"),
            };
            let len = 20 + (next() % 300) as usize;
            let mut run: Vec<u8> = (0..len)
                .map(|_| base[(next() % base.len() as u64) as usize])
                .collect();
            for _ in 0..(next() % 4) {
                let at = (next() % len as u64) as usize;
                run[at] = rare[(next() % rare.len() as u64) as usize];
            }
            // Sometimes `0x` first, sometimes symbols up to the limit and one past it.
            if round % 7 == 0 {
                run[..2].copy_from_slice(b"0x");
            }
            if round % 5 == 0 {
                for _ in 0..(len / 16 + (next() % 2) as usize) {
                    let at = (next() % len as u64) as usize;
                    run[at] = b"+/-_"[(next() % 4) as usize];
                }
            }
            let pad = (next() % 80) as usize;
            let mut hay = b" ".to_vec();
            hay.extend_from_slice(&run);
            hay.extend(std::iter::repeat_n(b' ', pad));
            let (s, e) = (1, 1 + len);
            let want = Facts::of(&run, len / 16);
            let mut got = vec![Looker::new(&hay, |_| None).facts(s, e)];
            #[cfg(target_arch = "x86_64")]
            if avx2 {
                // SAFETY: the CPU has AVX2 (checked above).
                got.push(Looker::new(&hay, |w| Some(unsafe { run_masks_avx2(w) })).facts(s, e));
            }
            for got in got {
                if want.syms * 16 > len {
                    assert!(got.syms * 16 > len, "{}", String::from_utf8_lossy(&run));
                } else {
                    assert_eq!(got, want, "{}", String::from_utf8_lossy(&run));
                }
            }
        }
    }

    /// The hand-written UTF-8 test says what `from_utf8` says, on every 3-byte head whose last
    /// byte is one of those that decide (ASCII, continuation bytes at the range ends, leads).
    #[test]
    fn utf8_broken_equals_from_utf8() {
        let last = [
            0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0,
            0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff,
        ];
        for x in 0..=0xffffu32 {
            for &c in &last {
                let head = [(x >> 8) as u8, x as u8, c];
                let want = std::str::from_utf8(&head).is_err_and(|e| e.error_len().is_some());
                assert_eq!(utf8_broken(&head), want, "{head:02x?}");
            }
        }
        // Six bytes (the heads of `rejected_early`), from the same boundaries and ASCII.
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        for _ in 0..1_000_000 {
            let head: [u8; 6] = std::array::from_fn(|_| match next() % 3 {
                0 => next() as u8,
                1 => b'a',
                _ => last[(next() % last.len() as u64) as usize],
            });
            let want = std::str::from_utf8(&head).is_err_and(|e| e.error_len().is_some());
            assert_eq!(utf8_broken(&head), want, "{head:02x?}");
        }
    }

    /// `rejected_early` drops only runs that `classify` and `plausible` drop, and most
    /// identifiers and hashes: on identifiers, hex of text and of binary data (with and without
    /// `0x`), base64 of text, of binary data and of magic numbers, and random alphabet bytes.
    #[test]
    fn early_rejection_drops_only_what_plausible_drops() {
        let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
        const WORDS: [&str; 12] = [
            "Win", "Http", "proxy", "Settings", "TYPE", "unknown", "Get", "Value", "32", "x",
            "Key", "DER",
        ];
        const ALPHABET: &[u8] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_";
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let (mut rejected, mut identifiers, mut hashes) = (0, 0, 0);
        for round in 0..72_000 {
            let len = 15 + (next() % 40) as usize;
            let random: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let text: Vec<u8> = (0..len).map(|_| (next() % 0x5f) as u8 + 0x20).collect();
            let mut run = match round % 9 {
                0 => (0..8)
                    .map(|_| WORDS[(next() % 12) as usize])
                    .collect::<String>(),
                1 => hex(&random),
                2 => format!("0x{}", hex(&random)),
                3 => b64(&text),
                4 => b64(&random),
                5 => {
                    let mut payload = random.clone();
                    let m = MAGIC[(next() % MAGIC.len() as u64) as usize];
                    payload[..m.len()].copy_from_slice(m);
                    b64(&payload)
                }
                7 => hex(&text),
                8 => format!("0x{}", hex(&text)),
                _ => (0..len + 5)
                    .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize] as char)
                    .collect(),
            };
            run = run.trim_end_matches('=').to_string();
            while run.len() < MIN_RUN {
                run.push('A');
            }
            let hay = format!(" {run} ");
            let hay = hay.as_bytes();
            let (s, e) = (1, 1 + run.len());
            let kept = classify(hay, s, e, Facts::of(&hay[s..e], usize::MAX))
                .is_some_and(|r| plausible(hay, &r));
            if rejected_early(hay, s) {
                assert!(!kept, "{run}");
                rejected += 1;
                identifiers += usize::from(round % 9 == 0);
                hashes += usize::from(round % 9 == 1);
            }
        }
        assert!(
            rejected > 30_000 && identifiers > 6_000 && hashes > 6_000,
            "{rejected} {identifiers} {hashes}"
        );
    }

    /// `plausible` (with its 3-byte shortcut) says what its contract says of the decoded head:
    /// the first 12 bytes are text (a cut last character allowed) or start with an archive's
    /// magic. Checked on payloads of text, of binary and of text with a control byte early.
    /// `enc` wrapped at `width` characters, each line after `indent` and ended by `eol`.
    fn wrap(enc: &str, width: usize, indent: &str, eol: &str) -> String {
        enc.as_bytes()
            .chunks(width)
            .map(|l| format!("{indent}{}{eol}", std::str::from_utf8(l).expect("ASCII")))
            .collect()
    }

    /// 300 bytes of text, and them in base64 and in hex.
    fn block_sample() -> (Vec<u8>, String, String) {
        let text: Vec<u8> = (0..300)
            .map(|i| b"export TOKEN=abc; # notes\n"[i % 26])
            .collect();
        let (b, h) = (
            b64(&text),
            text.iter().map(|b| format!("{b:02x}")).collect(),
        );
        (text, b, h)
    }

    #[test]
    fn wrapped_blocks_are_one_run() {
        let (text, b, h) = block_sample();
        let cases: [(&str, String, &String); 5] = [
            ("base64, 76 wide", wrap(&b, 76, "", "\n"), &b),
            ("openssl, 64 wide, CRLF", wrap(&b, 64, "", "\r\n"), &b),
            (
                "YAML block",
                format!("data: |\n{}kind: x\n", wrap(&b, 76, "    ", "\n")),
                &b,
            ),
            (
                "after a key",
                format!("blob={}", wrap(&b, 40, "", "\n")),
                &b,
            ),
            ("xxd -p, 60 wide", wrap(&h, 60, "", "\n"), &h),
        ];
        for (name, hay, enc) in cases {
            let r = runs(hay.as_bytes());
            let start = hay.find(&enc[..8]).expect("the block");
            let end = hay.rfind(&enc[enc.len() - 8..]).expect("its end") + 8;
            assert_eq!(
                r.iter().map(|r| (r.start, r.end)).collect::<Vec<_>>(),
                [(start, end)],
                "{name}"
            );
            let mut out = Vec::new();
            assert!(decode(hay.as_bytes(), &r[0], &mut out), "{name}");
            assert_eq!(out, text, "{name}");
        }
    }

    #[test]
    fn only_lines_of_one_width_in_one_alphabet_are_joined() {
        let (text, b, h) = block_sample();
        // (name, file, the runs' lengths)
        let cases: [(&str, String, Vec<usize>); 6] = [
            // A hex line of an odd length would leave the block undecodable: not joined.
            (
                "odd hex line",
                format!("{}{}\n", wrap(&h[..120], 60, "", "\n"), &h[120..155]),
                vec![121],
            ),
            // Narrower than 40 characters: lines of their own (each a run of 36).
            ("36 wide", wrap(&b[..144], 36, "", "\n"), vec![36; 4]),
            // A padded line ends its value: the next is another one.
            (
                "padded values",
                format!("{}\n{}\n", b64(&text[..31]), b64(&text[31..62])),
                vec![44, 44],
            ),
            // A longer line is not part of the block.
            (
                "longer line",
                format!("{}\n{}\n", &b[..40], &b[40..124]),
                vec![40, 84],
            ),
            // Indented otherwise than the line before.
            (
                "indentation",
                format!("{}\n  {}\n    {}\n", &b[..40], &b[40..80], &b[80..120]),
                vec![83, 40],
            ),
            // Base64url after standard base64: another alphabet.
            (
                "alphabets",
                format!("{}\n{}-_\n", &b[..40], &b[40..78]),
                vec![40, 40],
            ),
        ];
        for (name, hay, lens) in cases {
            let r = runs(hay.as_bytes());
            assert_eq!(
                r.iter().map(|r| r.end - r.start).collect::<Vec<_>>(),
                lens,
                "{name}: {r:?}"
            );
        }
    }

    #[test]
    fn wrapped_tail_is_the_block_that_may_go_on() {
        let line = "dGhpcyBpcyBhIHNlY3JldCB2YWx1ZSBvZiBmb3J0\n";
        let block = format!("log line\nkey: {line}{line}{line}");
        // The line before the full lines (it may be the block's first), then them.
        assert_eq!(wrapped_tail(block.as_bytes(), 0), 9);
        // Ended by a shorter line, or a line of text last: nothing waits.
        for done in [format!("{block}QUJD\n"), format!("{block}done\n")] {
            assert_eq!(wrapped_tail(done.as_bytes(), 0), done.len(), "{done}");
        }
        // Without a line break at the end (an incomplete line), or of another width.
        assert_eq!(wrapped_tail(b"abc", 0), 3);
        let other = format!("{block}{}\n", &line[..36]);
        assert_eq!(wrapped_tail(other.as_bytes(), 0), other.len());
        let wider = format!("{block}{line}", line = "QUJD".repeat(11) + "\n");
        assert_eq!(wrapped_tail(wider.as_bytes(), 0), block.len() - line.len());
        // What an earlier call held whole is not looked at again.
        let from = block.find("key: ").unwrap();
        let held = &block.as_bytes()[from..];
        let longer = format!("{}{line}", std::str::from_utf8(held).unwrap());
        assert_eq!(wrapped_tail(longer.as_bytes(), held.len()), 0);
    }

    #[test]
    fn lines_holding_maps_decoded_bytes_to_their_lines() {
        let text: Vec<u8> = (0..300).map(|i| b"0123456789"[i % 10]).collect();
        let hay = format!("x\n{}", wrap(&b64(&text), 76, "  ", "\r\n"));
        let r = runs(hay.as_bytes());
        assert_eq!(r.len(), 1);
        // Line k of the block: its 76 characters from 2 + (2 + 76 + 2) * k + 2.
        let line = |k: usize| (4 + 80 * k, 4 + 80 * k + 76);
        let holding = |from, to| lines_holding(hay.as_bytes(), &r[0], from, to);
        // 57 bytes a line: 0..3 on the first, 57..60 on the second, 55..59 across both.
        assert_eq!(holding(0, 3), line(0));
        assert_eq!(holding(57, 60), line(1));
        assert_eq!(holding(55, 59), (line(0).0, line(1).1));
        assert_eq!(holding(290, 300), (line(5).0, r[0].end));
        // A run of one line: the whole run.
        let one = runs(b"k: dGhpcyBpcyBhIHNlY3JldCB2YWx1ZSBvZiBmb3J0\n");
        assert_eq!(
            lines_holding(
                b"k: dGhpcyBpcyBhIHNlY3JldCB2YWx1ZSBvZiBmb3J0\n",
                &one[0],
                3,
                6
            ),
            (3, 43)
        );
    }

    #[test]
    fn split_finder_equals_one_call() {
        let mut next = xorshift(11);
        let pieces: [&[u8]; 11] = [
            // A line of a wrapped block (40 characters) and a last line.
            b"dGhpcyBpcyBhIHNlY3JldCB2YWx1ZSBvZiBmb3J0\n",
            b"QUJDRA==\n",
            b"\n",
            b" ",
            b"%41%42%43%44%45",
            b"=",
            b"0123456789abcdef0123456789abcdef",
            b"dGhpcyBpcyBhIHNlY3JldCB2YWx1ZQ",
            b"snake_case_ident",
            b"QUJD",
            b"%",
        ];
        for round in 0..300 {
            let n = 1 + (next() % 400) as usize;
            let hay: Vec<u8> = (0..n)
                .flat_map(|_| {
                    pieces[(next() % pieces.len() as u64) as usize]
                        .iter()
                        .copied()
                })
                .collect();
            let mut one = Vec::new();
            find_runs(&hay, &mut one);
            for threads in [1, 2, 3, 7] {
                let mut split = Vec::new();
                find_runs_split(&hay, threads, &mut split);
                assert_eq!(split, one, "round {round}, {threads} threads");
            }
            if round == 0 {
                assert!(!one.is_empty(), "the pieces make runs");
            }
        }
    }

    #[test]
    fn plausible_judges_the_decoded_head() {
        let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
        // Text in several scripts: heads cut inside a character, and whole ones.
        const CHARS: [&str; 6] = ["a", "é", "ß", "日本", "😀", " "];
        for round in 0..25_000 {
            let len = 15 + (next() % 40) as usize;
            let mut payload: Vec<u8> = match round % 5 {
                4 => (0..len)
                    .flat_map(|_| CHARS[(next() % 6) as usize].bytes())
                    .collect(),
                kind => (0..len)
                    .map(|_| match kind {
                        0 => b"abcdefghijklmnopqrstuvwxyz =:/_-0123456789"[(next() % 42) as usize],
                        1 => next() as u8,
                        _ => (next() % 0x60) as u8 + 0x20,
                    })
                    .collect(),
            };
            if round % 5 == 3 {
                let at = (next() % 6) as usize;
                payload[at] = (next() % 0x20) as u8;
            }
            if round % 50 == 0 {
                let m = MAGIC[(next() % 6) as usize];
                payload[..m.len()].copy_from_slice(m);
            }
            let head = &payload[..12];
            let text = match std::str::from_utf8(head) {
                Ok(_) => true,
                Err(e) => e.error_len().is_none(),
            } && !head
                .iter()
                .any(|&c| (c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r')) || c == 0x7f);
            let want = text || MAGIC.iter().any(|m| payload.starts_with(m));
            let enc = b64(&payload);
            let hay = format!("x = {enc};");
            let run = Run {
                start: 4,
                end: 4 + enc.len(),
                encoding: Encoding::Base64,
            };
            assert_eq!(plausible(hay.as_bytes(), &run), want, "{payload:?}");
        }
    }

    #[test]
    fn short_runs_and_words_are_not_candidates() {
        assert!(runs(b"a short SGVsbG8= run").is_empty());
        assert!(runs(b"averyveryverylongidentifierwithoutcaps here").is_empty());
        assert!(runs(b"printf(\"%d %s\\n\", x, y); 100% done").is_empty());
    }

    /// Escapes of bytes that begin no text do not make a percent run: registers in assembly,
    /// format strings, arithmetic. Escapes of UTF-8 sequences and of ASCII do, also where the
    /// first 16 bytes end inside an escape.
    #[test]
    fn percent_runs_begin_with_text() {
        for hay in [
            "movl (%rax,%r12,1),%eax\n\taddl 32+128(%rsp),%edx",
            "printf(\"%def%02x %016llx\", a, b); x = (n+2)%16;",
            "lone=%e9continuation%80%80%80",
        ] {
            assert!(runs(hay.as_bytes()).is_empty(), "{hay}");
        }
        for (hay, decoded) in [
            (
                "see wiki/Aho%E2%80%93Corasick_algorithm",
                "wiki/Aho\u{2013}Corasick_algorithm",
            ),
            (
                "next=https%3A%2F%2Fexample.org%2Fhome",
                "next=https://example.org/home",
            ),
            ("q=line%0Aanother%09line", "q=line\nanother\tline"),
        ] {
            let r = runs(hay.as_bytes());
            assert_eq!(r.len(), 1, "{hay} {r:?}");
            let mut out = Vec::new();
            assert!(decode(hay.as_bytes(), &r[0], &mut out));
            assert_eq!(String::from_utf8_lossy(&out), decoded, "{hay}");
        }
    }

    /// The portable block masks (SSE2 on x86_64) agree with the AVX2 ones, which the block
    /// finder uses wherever it can, so the tests above check the portable ones only there.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn portable_masks_equal_avx2_masks() {
        if !has_avx2() {
            return;
        }
        let mut next = xorshift(0x5851_f42d_4c95_7f2d);
        const BYTES: &[u8] =
            b"%%%0123456789abcdefABCDEFxyzXYZ+/-_=.,;:[]@` \n\t\x00\x7f\x80\xe2\xff";
        for _ in 0..20_000 {
            let mut block = [0u8; 64];
            for b in &mut block {
                *b = match next() % 4 {
                    0 => next() as u8,
                    _ => BYTES[(next() % BYTES.len() as u64) as usize],
                };
            }
            // SAFETY: the CPU has AVX2 (checked above).
            let (m, pct, sym) = unsafe { masks64_avx2(&block) };
            // Its symbol bits are those of `+/-_`, `[` and `]`.
            let brackets = block.iter().enumerate().fold(0, |bits, (j, &b)| {
                bits | u64::from(b == b'[' || b == b']') << j
            });
            assert_eq!(sym & !m, brackets, "{:?}", String::from_utf8_lossy(&block));
            let avx2 = (m, pct, sym & m);
            assert_eq!(
                masks64(&block),
                avx2,
                "{:?}",
                String::from_utf8_lossy(&block)
            );
            if has_avx512() {
                // SAFETY: the CPU has AVX-512 (checked just now).
                let (m, pct, sym, hex) = unsafe { masks64_avx512(&block) };
                let avx512 = (m, escapes(pct, hex), sym & m);
                assert_eq!(avx512, avx2, "{:?}", String::from_utf8_lossy(&block));
            }
        }
    }

    #[test]
    fn text_check() {
        assert!(is_text(b"user:password"));
        assert!(is_text("naïve café text\n".as_bytes()));
        assert!(!is_text(&[
            0x89, b'P', b'N', b'G', 13, 10, 26, 10, 0, 0, 0, 13
        ]));
        assert!(!is_text(b"abc\x01def"));
    }

    #[test]
    fn keys_and_data_uris() {
        let hay = b"  password: \"cGFzc3dvcmQ=\"";
        let run = Run {
            start: 13,
            end: 25,
            encoding: Encoding::Base64,
        };
        assert_eq!(key_of(hay, &run), Some(&b"password"[..]));
        let hay = b"src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB\"";
        // Image bytes are not even a candidate; the media type says the same.
        assert!(runs(hay).is_empty());
        let run = Run {
            start: 27,
            end: hay.len() - 1,
            encoding: Encoding::Base64,
        };
        assert_eq!(data_uri_is_text(hay, &run), Some(false));
        let hay = b"data:text/plain;charset=utf-8;base64,aGVsbG8gd29ybGQgaGVsbG8=";
        let r = runs(hay);
        assert_eq!(data_uri_is_text(hay, &r[0]), Some(true));
    }
}
