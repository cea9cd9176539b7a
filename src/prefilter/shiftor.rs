//! A bucketed shift-or filter over byte pairs, in the manner of Hyperscan's FDR: it passes every
//! position where some keyword may start, and few others, faster than an automaton walks them;
//! each candidate is then checked against the keywords that begin with its two bytes.
//!
//! Each position `i` is reduced to a 12-bit symbol: its byte and the next, each folded to 6 bits
//! (`fold`: ASCII case and bit 7 dropped, so a keyword occurring in any case gives the keyword's
//! own symbols). The keywords are sorted by length into 8 buckets: those of two or three bytes
//! get one to themselves, since they leave most offsets open and would weaken a bucket of long
//! ones. For each symbol the table holds one byte per offset `j` in 0..8 from a start, whose bit
//! `b` is clear where some keyword of bucket `b` has that symbol at offset `j` (or has ended
//! before it). OR-ing the entries of 8 consecutive positions, each shifted to line up, leaves a
//! bit clear only where every offset agrees with some keyword of its bucket: a candidate start.
//!
//! Unlike the transitions of an automaton, the 8 lookups of a block do not depend on each other,
//! so the CPU overlaps them, and a block is joined to the last by one OR of its high half. The
//! loop uses SSE2 only (part of x86-64), which valgrind, and so the benchmark gate, can run. On
//! 48 MB of source code it passes 0.14% of positions (69,000, for 42,000 keyword occurrences).
//!
//! Flow position: inside `prefilter`, in place of the automaton except on keyword-dense text.

/// Symbols checked from each candidate start (8-bit lanes of a 64-bit table entry).
const SPAN: usize = 8;
/// Bits of a symbol (two folded bytes of 6 bits).
const SYMBOL_BITS: u32 = 12;
const SYMBOLS: usize = 1 << SYMBOL_BITS;
/// Keywords shorter than this share a bucket of their own.
const SHORT: usize = 4;
/// Symbols computed per batch, before their blocks are looked up. On 48 MB of source code, 32
/// took 30 ms and 256 took 24.5 ms, against 23.7 ms for 64 (minima of 15 passes, alternated).
const BATCH: usize = 64;

/// The filter's table and the keywords by their first two bytes. Built only when every keyword
/// has at least two bytes.
#[derive(Debug, Clone)]
pub(crate) struct ShiftOr {
    /// The table in 16-byte slots, slot `s + 1` holding the entry of symbol `s` in its low 8
    /// bytes and zeros in its high 8 (the first and last slots are zeros). The 16 bytes read
    /// `k` bytes before an entry are the entry shifted up by `k` lanes, zeros around it: one
    /// unaligned load and no shift per symbol, half the instructions of shifting a 64-bit
    /// entry into place (equally fast on this machine, where the loads bound the loop).
    slots: Box<[u64; 2 * (SYMBOLS + 2)]>,
    keywords: Vec<Keyword>,
    /// The keywords (indices into `keywords`) whose first two bytes have symbol `s` are
    /// `by_pair[starts[s]..starts[s + 1]]`.
    starts: Box<[u32; SYMBOLS + 1]>,
    by_pair: Vec<u32>,
}

/// A keyword, with its first 8 bytes ready for one comparison of a word of the haystack.
#[derive(Debug, Clone)]
struct Keyword {
    bytes: Box<[u8]>,
    /// The first 8 bytes, letters lower-cased; zero past the keyword.
    head: u64,
    /// 0x20 where the head has a letter: OR-ed into the haystack's word, it lower-cases the
    /// letters there and leaves every other byte unable to equal one.
    case: u64,
    /// 0xff for each byte of the head.
    mask: u64,
}

impl Keyword {
    fn new(k: &[u8]) -> Keyword {
        let (mut head, mut case, mut mask) = (0u64, 0u64, 0u64);
        for (i, &b) in k.iter().take(8).enumerate() {
            head |= u64::from(b.to_ascii_lowercase()) << (8 * i);
            if b.is_ascii_alphabetic() {
                case |= 0x20 << (8 * i);
            }
            mask |= 0xff << (8 * i);
        }
        Keyword {
            bytes: k.into(),
            head,
            case,
            mask,
        }
    }

    /// Whether the keyword occurs at the start of `at`, ASCII case-insensitively.
    #[inline(always)]
    fn at(&self, at: &[u8]) -> bool {
        let n = self.bytes.len();
        match at.first_chunk::<8>() {
            Some(w) => {
                (u64::from_le_bytes(*w) | self.case) & self.mask == self.head
                    && (n <= 8
                        || at
                            .get(8..n)
                            .is_some_and(|t| t.eq_ignore_ascii_case(&self.bytes[8..])))
            }
            None => at.len() >= n && at[..n].eq_ignore_ascii_case(&self.bytes),
        }
    }
}

/// A byte folded to 6 bits: bits 0-4, and bit 6 moved to bit 5. ASCII letters of either case
/// fold alike; other bytes may collide, which only adds candidates.
#[inline(always)]
fn fold(b: u8) -> usize {
    usize::from((b & 0x1f) | ((b >> 1) & 0x20))
}

/// The symbol of the pair `a`, `b`.
#[inline(always)]
fn pair(a: u8, b: u8) -> usize {
    fold(a) | (fold(b) << 6)
}

impl ShiftOr {
    /// The filter for `keywords`, or `None` when one is shorter than two bytes (it would pass
    /// nearly every position; the automaton alone is faster then).
    pub(crate) fn new(keywords: &[&[u8]]) -> Option<ShiftOr> {
        if keywords.is_empty() || keywords.iter().any(|k| k.len() < 2) {
            return None;
        }
        let mut order: Vec<&[u8]> = keywords.to_vec();
        order.sort_by_key(|k| k.len());
        // Keywords of two or three bytes get bucket 0 to themselves: they leave most of the
        // span open. The rest are cut into 7 buckets of about equal counts.
        let short = order.iter().take_while(|k| k.len() < SHORT).count();
        let long = order.len() - short;
        let bucket_of = |n: usize| match n.checked_sub(short) {
            None => 0,
            Some(i) => (short > 0) as usize + i * (8 - (short > 0) as usize) / long,
        };
        let mut table = Box::new([!0u64; SYMBOLS]);
        let mut open = !0u64;
        for (n, k) in order.iter().enumerate() {
            let bucket = bucket_of(n);
            for j in 0..SPAN {
                let clear = !(1u64 << (8 * (SPAN - 1 - j) + bucket));
                match (k.get(j).map(|&b| fold(b)), k.get(j + 1).map(|&b| fold(b))) {
                    (Some(a), Some(b)) => table[a | (b << 6)] &= clear,
                    // The last byte: any may follow.
                    (Some(a), None) => (0..64).for_each(|b| table[a | (b << 6)] &= clear),
                    // Past the keyword's end: the offset is open.
                    _ => open &= clear,
                }
            }
        }
        if open != !0 {
            table.iter_mut().for_each(|e| *e &= open);
        }
        let mut slots = Box::new([0u64; 2 * (SYMBOLS + 2)]);
        for (s, &e) in table.iter().enumerate() {
            slots[2 * (s + 1)] = e;
        }
        // The keywords by pair, counted and then placed.
        let mut starts = Box::new([0u32; SYMBOLS + 1]);
        for k in keywords {
            starts[pair(k[0], k[1]) + 1] += 1;
        }
        for s in 0..SYMBOLS {
            starts[s + 1] += starts[s];
        }
        // Shortest first, so that occurrences with one start are reported in order of end.
        let mut by_len: Vec<usize> = (0..keywords.len()).collect();
        by_len.sort_by_key(|&id| keywords[id].len());
        let mut by_pair = vec![0; keywords.len()];
        let mut next = starts.clone();
        for id in by_len {
            let k = keywords[id];
            let s = pair(k[0], k[1]);
            by_pair[next[s] as usize] = id as u32;
            next[s] += 1;
        }
        Some(ShiftOr {
            slots,
            keywords: keywords.iter().map(|&k| Keyword::new(k)).collect(),
            starts,
            by_pair,
        })
    }

    /// Call `f(keyword, start, end)` for every occurrence of a keyword in `hay`, ASCII
    /// case-insensitively, overlapping ones included, in increasing order of start and end.
    pub(crate) fn find(&self, hay: &[u8], mut f: impl FnMut(usize, usize, usize)) {
        self.candidates(hay, |p| {
            let Some(&next) = hay.get(p + 1) else {
                return;
            };
            let s = pair(hay[p], next);
            let ids = &self.by_pair[self.starts[s] as usize..self.starts[s + 1] as usize];
            for &id in ids {
                let k = &self.keywords[id as usize];
                if k.at(&hay[p..]) {
                    f(id as usize, p, p + k.bytes.len());
                }
            }
        });
    }

    /// Call `f(p)` for every candidate start `p`, in increasing order: each position where a
    /// keyword starts (ASCII case-insensitively) is among them.
    fn candidates(&self, hay: &[u8], mut f: impl FnMut(usize)) {
        // A start is decided at the last symbol of its span: the symbols that exist decide the
        // starts below `decided`; the last few are passed as they are.
        let symbols = hay.len().saturating_sub(1);
        let decided = symbols.saturating_sub(SPAN - 1);
        if decided > 0 {
            self.scan(hay, symbols, decided, &mut f);
        }
        (decided..hay.len()).for_each(f);
    }

    /// Report the candidates among starts `0..decided`, from the first `symbols` symbols.
    fn scan(&self, hay: &[u8], symbols: usize, decided: usize, f: &mut impl FnMut(usize)) {
        let mut batch = [0u16; BATCH];
        // Lanes 0..7 of the first block would be starts before the haystack: closed.
        let mut carry = !0u64 >> 8;
        let mut m = 0;
        while m < symbols {
            let n = (symbols - m).min(BATCH);
            symbolize(&hay[m..m + n + 1], &mut batch);
            // Symbols past the end (the last block's) are garbage; the starts they decide are
            // past `decided` and dropped by `report`.
            for (b, eight) in batch.chunks_exact(SPAN).take(n.div_ceil(SPAN)).enumerate() {
                let (lo, hi) = self.block(eight.try_into().expect("8 symbols"));
                let r = lo | carry;
                carry = hi;
                if r != !0 {
                    report(r, m + SPAN * b, decided, f);
                }
            }
            m += n;
        }
    }

    /// The OR of the entries of one block (its 8 symbols, each times 16), entry `k` shifted up
    /// by `k` lanes, as the low and high 64 bits of the 128-bit result. The top lane is covered
    /// by no entry: zero, which constrains nothing.
    #[inline(always)]
    fn block(&self, s: &[u16; SPAN]) -> (u64, u64) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::*;
            let base = self.slots.as_ptr().cast::<u8>();
            // SAFETY: SSE2 is part of x86-64. The load reads 16 bytes from `16 + s[k] - k`,
            // at most 16 + 0xffff + 15 < 8 * 2 * (SYMBOLS + 2), the size of `slots`, whatever
            // the symbol.
            let t = |k: usize| unsafe {
                _mm_loadu_si128(base.add(16 + usize::from(s[k]) - k).cast::<__m128i>())
            };
            // SAFETY: as above; only registers are touched.
            unsafe {
                let w = _mm_or_si128(
                    _mm_or_si128(_mm_or_si128(t(0), t(1)), _mm_or_si128(t(2), t(3))),
                    _mm_or_si128(_mm_or_si128(t(4), t(5)), _mm_or_si128(t(6), t(7))),
                );
                (
                    _mm_cvtsi128_si64(w) as u64,
                    _mm_cvtsi128_si64(_mm_unpackhi_epi64(w, w)) as u64,
                )
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let t = |k: usize| u128::from(self.slots[2 + usize::from(s[k] >> 3)]) << (8 * k);
            let w = ((t(0) | t(1)) | (t(2) | t(3))) | ((t(4) | t(5)) | (t(6) | t(7)));
            (w as u64, (w >> 64) as u64)
        }
    }
}

/// Report the candidate starts of one block: a clear bit in lane `k` of `r` for alignment `a`
/// means a start at byte `2 * (base + k - 3) + a`.
#[inline(never)]
fn report(r: u64, base: usize, decided: usize, f: &mut impl FnMut(usize)) {
    for k in 0..SPAN {
        if (r >> (8 * k)) as u8 != 0xff {
            let p = base + k + 1 - SPAN;
            if p < decided {
                f(p);
            }
        }
    }
}

/// The symbols of the positions of `w` that have a next byte (`n + 1` bytes for `n <= BATCH`
/// symbols), each times 16 (its slot's offset), into `out`. Not inlined, so that the caller
/// reads the symbols from memory, one load each.
#[inline(never)]
fn symbolize(w: &[u8], out: &mut [u16; BATCH]) {
    let n = w.len() - 1;
    let mut at = 0;
    #[cfg(target_arch = "x86_64")]
    while at + 17 <= w.len() {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of x86-64; the loads read `w[at..at + 17]`, checked above; the
        // stores write symbols `at..at + 16` of `out`, within it since `n <= BATCH`.
        unsafe {
            let fold = |v: __m128i| {
                _mm_or_si128(
                    _mm_and_si128(v, _mm_set1_epi8(0x1f)),
                    _mm_and_si128(_mm_srli_epi16(v, 1), _mm_set1_epi8(0x20)),
                )
            };
            let p = w.as_ptr().add(at);
            let a = fold(_mm_loadu_si128(p as *const __m128i));
            let b = fold(_mm_loadu_si128(p.add(1) as *const __m128i));
            let z = _mm_setzero_si128();
            let lo = _mm_or_si128(
                _mm_slli_epi16(_mm_unpacklo_epi8(a, z), 4),
                _mm_slli_epi16(_mm_unpacklo_epi8(b, z), 10),
            );
            let hi = _mm_or_si128(
                _mm_slli_epi16(_mm_unpackhi_epi8(a, z), 4),
                _mm_slli_epi16(_mm_unpackhi_epi8(b, z), 10),
            );
            _mm_storeu_si128(out.as_mut_ptr().add(at) as *mut __m128i, lo);
            _mm_storeu_si128(out.as_mut_ptr().add(at + 8) as *mut __m128i, hi);
        }
        at += 16;
    }
    while at < n {
        out[at] = (pair(w[at], w[at + 1]) << 4) as u16;
        at += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every case-insensitive occurrence, by brute force.
    fn naive(keywords: &[Vec<u8>], hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        for p in 0..hay.len() {
            for (id, k) in keywords.iter().enumerate() {
                if hay.len() - p >= k.len() && hay[p..p + k.len()].eq_ignore_ascii_case(k) {
                    out.push((p, p + k.len(), id));
                }
            }
        }
        out
    }

    /// Random keyword sets (1 to 300 keywords of 2 to 14 bytes, letters of both cases, digits,
    /// punctuation and bytes above 127, which fold onto others) against random text made of the
    /// same bytes and of the keywords themselves, in any case: the filter with its check finds
    /// exactly what brute force finds, at every length from 0 up.
    #[test]
    fn finds_exactly_the_occurrences() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let alphabet: &[u8] = b"aAbBkKyY_-.~09 \n\xc3\xa9\x80\xe0\x7f\x5f`@";
        let mut found = 0;
        for round in 0..300 {
            let count = 1 + next(if round % 3 == 0 { 300 } else { 12 });
            let keywords: Vec<Vec<u8>> = (0..count)
                .map(|_| {
                    (0..2 + next(13))
                        .map(|_| alphabet[next(alphabet.len())])
                        .collect()
                })
                .collect();
            let Some(so) = ShiftOr::new(&keywords.iter().map(|k| &k[..]).collect::<Vec<_>>())
            else {
                panic!("keywords of two bytes or more have a filter");
            };
            let len = next(2000);
            let mut hay = Vec::with_capacity(len + 16);
            while hay.len() < len {
                if next(6) == 0 {
                    let k = &keywords[next(keywords.len())];
                    hay.extend(k.iter().map(|&b| {
                        if next(2) == 0 {
                            b.to_ascii_uppercase()
                        } else {
                            b
                        }
                    }));
                } else {
                    hay.push(alphabet[next(alphabet.len())]);
                }
            }
            for cut in [hay.len(), hay.len() / 2, next(hay.len() + 1), next(40)] {
                let h = &hay[..cut.min(hay.len())];
                let mut got = Vec::new();
                so.find(h, |id, s, e| got.push((s, e, id)));
                got.sort_unstable();
                let mut want = naive(&keywords, h);
                want.sort_unstable();
                assert_eq!(got, want, "round {round}, {} bytes", h.len());
                found += want.len();
            }
        }
        assert!(found > 10_000, "the test must exercise matches: {found}");
    }

    /// A keyword of one byte would pass nearly every position: no filter is built.
    #[test]
    fn one_byte_keywords_have_no_filter() {
        assert!(ShiftOr::new(&[b"ab", b"x"]).is_none());
        assert!(ShiftOr::new(&[]).is_none());
        assert!(ShiftOr::new(&[b"ab"]).is_some());
    }
}
