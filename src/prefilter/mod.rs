//! Prefilter: every occurrence of every rule's keywords, matched ASCII case-insensitively, finds
//! the candidate positions; each occurrence becomes a `Hit` for every rule that declared that
//! keyword. Only windows around hits reach the regexes in `verify`.
//!
//! Two matchers give the same occurrences: a shift-or filter over byte pairs with an exact check
//! of its candidates (`shiftor`), and an Aho-Corasick automaton over the keywords, walked four
//! lanes at a time, for keyword-dense stretches (and for keyword sets with a one-byte keyword,
//! which have no filter). The filter is faster on typical source code (24 against 30 ms on 48 MB
//! of vendored crates) and about even on keyword-dense code. The automaton is built the first
//! time a scan needs it: building it is a quarter of the instructions of a process that scans
//! one small file, and typical code never needs it. Tests and the `engine` fuzz target hold the
//! two to the same output.
//!
//! Contract: every rule match contains one of the rule's keywords (rules check lints this on each
//! example), and both matchers report *all* occurrences, overlapping ones included, so the
//! prefilter never drops a real match. Rules without usable keywords are listed in
//! [`Prefilter::unfiltered`] and are searched over the whole buffer.
//!
//! Flow position: `chunk -> prefilter -> verify`.

use std::sync::OnceLock;

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind, StartKind};

use crate::rules::RuleSet;
use crate::verify::Hit;

mod shiftor;

use shiftor::ShiftOr;

/// Bytes the filter or the automaton takes at a time.
const SEGMENT: usize = 64 * 1024;
/// A segment with more than one keyword occurrence in this many bytes is dense. On vendored
/// source code there is one in about 1,100 bytes; the filter alone was 1.4x slower than the
/// automaton at one in 29 (the gate's keyword tree) and about even at one in 66 (its dense log).
const DENSE: usize = 128;

/// The keyword matchers and the map from each keyword to its rules.
#[derive(Debug)]
pub struct Prefilter {
    /// The automaton, built on first use (only when there are keywords).
    ac: OnceLock<DFA>,
    /// The shift-or filter, used in place of the automaton except on keyword-dense segments;
    /// `None` when some keyword is a single byte.
    filter: Option<ShiftOr>,
    /// Longest keyword, in bytes.
    max_len: usize,
    /// The distinct keywords, indexed by automaton pattern id.
    keywords: Vec<String>,
    /// For each automaton pattern: the rules that declared it.
    pattern_rules: Vec<Vec<u32>>,
    /// Rules with no keyword: searched over every byte.
    unfiltered: Vec<u32>,
}

impl Prefilter {
    /// The keyword filter for `rules` (the automaton waits for its first use).
    pub fn new(rules: &RuleSet) -> Prefilter {
        let mut keywords: Vec<String> = Vec::new();
        let mut pattern_rules: Vec<Vec<u32>> = Vec::new();
        let mut unfiltered = Vec::new();
        for (ri, rule) in rules.rules().iter().enumerate() {
            let ri = ri as u32;
            if rule.keywords.is_empty() {
                unfiltered.push(ri);
                continue;
            }
            for k in &rule.keywords {
                match keywords.iter().position(|x| x == k) {
                    Some(p) => pattern_rules[p].push(ri),
                    None => {
                        keywords.push(k.clone());
                        pattern_rules.push(vec![ri]);
                    }
                }
            }
        }
        let bytes: Vec<&[u8]> = keywords.iter().map(|k| k.as_bytes()).collect();
        let filter = ShiftOr::new(&bytes);
        Prefilter {
            ac: OnceLock::new(),
            filter,
            max_len: keywords.iter().map(|k| k.len()).max().unwrap_or(0),
            keywords,
            pattern_rules,
            unfiltered,
        }
    }

    /// Append every keyword occurrence in `hay`, attributed to its rules, to `hits`.
    pub(crate) fn find(&self, hay: &[u8], hits: &mut Vec<Hit>) {
        self.each_occurrence(hay, |pid, start, end| {
            for &rule in &self.pattern_rules[pid] {
                hits.push(Hit { rule, start, end });
            }
        });
    }

    /// Count keyword occurrences without attributing them (for benchmarks).
    pub fn count(&self, hay: &[u8]) -> usize {
        let mut n = 0;
        self.each_occurrence(hay, |_, _, _| n += 1);
        n
    }

    /// Call `f(keyword, start, end)` for every keyword occurrence, in no particular order,
    /// found the way scans find them or (`automaton_only`) by the automaton alone. The two must
    /// agree, which the tests and the `engine` fuzz target check; the benchmarks compare their
    /// speed.
    pub fn for_each_occurrence(
        &self,
        hay: &[u8],
        automaton_only: bool,
        f: impl FnMut(usize, usize, usize),
    ) {
        if automaton_only {
            self.walk(hay, f)
        } else {
            self.each_occurrence(hay, f)
        }
    }

    /// Every keyword occurrence as `(keyword, start, end)`, sorted (see
    /// [`Prefilter::for_each_occurrence`]).
    pub fn occurrences(&self, hay: &[u8], automaton_only: bool) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        self.for_each_occurrence(hay, automaton_only, |pid, s, e| out.push((pid, s, e)));
        out.sort_unstable();
        out
    }

    /// Call `f(pattern, start, end)` for every keyword occurrence, overlapping ones included.
    ///
    /// The input goes to the shift-or filter, a segment at a time: its cost grows with the
    /// keywords it finds, and where they are denser than one in `DENSE` bytes the automaton is
    /// faster, so a segment after such a one goes to the automaton. A segment's matchers read up
    /// to `max_len - 1` bytes past its end and report the occurrences that start within it.
    fn each_occurrence(&self, hay: &[u8], mut f: impl FnMut(usize, usize, usize)) {
        let Some(filter) = &self.filter else {
            return self.walk(hay, f);
        };
        // Whether the last segment was dense, whichever matcher took it.
        let mut dense = false;
        for s in (0..hay.len()).step_by(SEGMENT) {
            let own = SEGMENT.min(hay.len() - s);
            let seg = &hay[s..(s + own + self.max_len - 1).min(hay.len())];
            let mut found = 0;
            let mut report = |pid, a, b| {
                if a < own {
                    found += 1;
                    f(pid, s + a, s + b);
                }
            };
            if dense {
                self.walk(seg, &mut report);
            } else {
                filter.find(seg, &mut report);
            }
            dense = found > own / DENSE;
        }
    }

    /// Call `f(pattern, start, end)` for every keyword occurrence, in order of start and end,
    /// walking the automaton.
    ///
    /// Its transition is a dependent load per byte, so one walk is bound by memory latency
    /// rather than throughput. The buffer is therefore cut into four slices walked in lockstep,
    /// four independent chains the CPU overlaps. A lane starts `max_len - 1` bytes before its
    /// slice, so a keyword that straddles a cut is seen whole by the lane its end falls in, and
    /// reported by that lane only.
    fn walk(&self, hay: &[u8], mut f: impl FnMut(usize, usize, usize)) {
        if self.keywords.is_empty() {
            return;
        }
        let dfa = self.ac.get_or_init(|| {
            DFA::builder()
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(true)
                .prefilter(false)
                .start_kind(StartKind::Unanchored)
                .build(&self.keywords)
                .expect("keywords are non-empty literals; a DFA of this size builds")
        });
        let mut ends = Vec::new();
        lanes(dfa, hay, self.max_len, &mut ends);
        let mut found = Vec::with_capacity(ends.len());
        for (sid, at) in ends {
            for i in 0..dfa.match_len(sid) {
                let pid = dfa.match_pattern(sid, i);
                let len = dfa.pattern_len(pid);
                found.push((at + 1 - len, at + 1, pid.as_usize()));
            }
        }
        // In the filter's order (start, then end), which spares the engine a sort.
        found.sort_unstable();
        for (start, end, pid) in found {
            f(pid, start, end);
        }
    }

    /// The distinct lower-case keywords.
    pub fn keywords(&self) -> &[String] {
        &self.keywords
    }

    /// Rules that have no keyword.
    pub fn unfiltered(&self) -> &[u32] {
        &self.unfiltered
    }
}

/// Walk `dfa` over `hay` and push `(match state, position of the last byte)` for every position
/// where a keyword ends, in any order.
#[inline(never)]
fn lanes(dfa: &DFA, hay: &[u8], max_len: usize, ends: &mut Vec<(StateID, usize)>) {
    let start = dfa
        .start_state(Anchored::No)
        .expect("the DFA is built for unanchored searches");
    let n = hay.len();
    let warm = max_len.saturating_sub(1);
    if n < 4 * (warm + 256) {
        // Too short to cut: one walk.
        let mut sid = start;
        for (i, &b) in hay.iter().enumerate() {
            sid = dfa.next_state(Anchored::No, sid, b);
            if dfa.is_special(sid) {
                ends.push((sid, i));
            }
        }
        return;
    }
    let q = n / 4;
    let (b1, b2, b3) = (q, 2 * q, 3 * q);
    // Warm lanes 1..3 up to their slice starts (matches there belong to the previous lane).
    let mut s = [start; 4];
    for (k, &b) in [b1, b2, b3].iter().enumerate() {
        for &x in &hay[b - warm..b] {
            s[k + 1] = dfa.next_state(Anchored::No, s[k + 1], x);
        }
    }
    let [mut s0, mut s1, mut s2, mut s3] = s;
    let (l0, l1, l2, l3) = (
        &hay[..q],
        &hay[b1..b1 + q],
        &hay[b2..b2 + q],
        &hay[b3..b3 + q],
    );
    for (i, (((&x0, &x1), &x2), &x3)) in l0.iter().zip(l1).zip(l2).zip(l3).enumerate() {
        s0 = dfa.next_state(Anchored::No, s0, x0);
        s1 = dfa.next_state(Anchored::No, s1, x1);
        s2 = dfa.next_state(Anchored::No, s2, x2);
        s3 = dfa.next_state(Anchored::No, s3, x3);
        if dfa.is_special(s0) | dfa.is_special(s1) | dfa.is_special(s2) | dfa.is_special(s3) {
            for (sid, base) in [(s0, 0), (s1, b1), (s2, b2), (s3, b3)] {
                if dfa.is_special(sid) {
                    ends.push((sid, base + i));
                }
            }
        }
    }
    // The tail after the last full slice, continuing lane 3's state.
    let mut sid = s3;
    for (i, &b) in hay[b3 + q..].iter().enumerate() {
        sid = dfa.next_state(Anchored::No, sid, b);
        if dfa.is_special(sid) {
            ends.push((sid, b3 + q + i));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every occurrence as `(pattern, start, end)`, sorted, by the filter on the whole input
    /// (whatever its length) or by the automaton alone.
    fn occurrences(pf: &Prefilter, hay: &[u8], filter: bool) -> Vec<(usize, usize, usize)> {
        if !filter {
            return pf.occurrences(hay, true);
        }
        let mut out = Vec::new();
        let so = pf
            .filter
            .as_ref()
            .expect("the built-in keywords have a filter");
        so.find(hay, |pid, s, e| out.push((pid, s, e)));
        out.sort_unstable();
        out
    }

    /// The filter with its confirmation reports exactly the automaton's occurrences: keywords
    /// in random case spliced into random text, overlapping, at the edges, at every length.
    #[test]
    fn filter_reports_exactly_the_automatons_occurrences() {
        let pf = Prefilter::new(&RuleSet::builtin().expect("built-in rules"));
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let noise: &[u8] = b"abcdefghijklmnopqrstuvwxyz_-.=:/ \n\"0123456789ABCXYZ\x80\xff\x00";
        let mut total = 0;
        for round in 0..400 {
            let len = (next() % 3000) as usize + round % 40;
            let mut hay = Vec::with_capacity(len + 64);
            while hay.len() < len {
                if next() % 8 == 0 {
                    let k = &pf.keywords[(next() % pf.keywords.len() as u64) as usize];
                    let cut = (next() % (k.len() as u64 + 1)) as usize;
                    for &b in &k.as_bytes()[..if next() % 4 == 0 { cut } else { k.len() }] {
                        hay.push(if next() % 2 == 0 {
                            b.to_ascii_uppercase()
                        } else {
                            b
                        });
                    }
                } else {
                    hay.push(noise[(next() % noise.len() as u64) as usize]);
                }
            }
            let want = occurrences(&pf, &hay, false);
            assert_eq!(occurrences(&pf, &hay, true), want, "round {round}");
            // Every prefix length, for the ends of the buffer.
            if round < 20 {
                for cut in 0..hay.len().min(80) {
                    let h = &hay[..cut];
                    assert_eq!(occurrences(&pf, h, true), occurrences(&pf, h, false));
                }
            }
            total += want.len();
        }
        assert!(total > 10_000, "the test must exercise matches: {total}");
    }

    /// Segments: sparse text, then a stretch dense with keywords (which hands segments to the
    /// automaton), then sparse again (back to the filter), with keywords across every segment
    /// boundary: the same occurrences as one walk of the automaton over the whole.
    #[test]
    fn segments_switch_matchers_without_changing_the_occurrences() {
        let pf = Prefilter::new(&RuleSet::builtin().expect("built-in rules"));
        let sparse = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|i| b"lorem ipsum dolor sit amet\n"[i % 27])
                .collect()
        };
        let mut hay = sparse(3 * SEGMENT);
        for k in 0..6 * SEGMENT / 12 {
            hay.extend_from_slice(if k % 2 == 0 {
                b"password=x; "
            } else {
                b"TOKEN: akia "
            });
        }
        hay.extend(sparse(3 * SEGMENT + 100));
        // Across the boundary, and starting right on it.
        for (i, b) in (SEGMENT..hay.len()).step_by(SEGMENT).enumerate() {
            let at = if i % 2 == 0 { b - 3 } else { b };
            hay[at..at + 8].copy_from_slice(b"ghp_sEcR");
        }
        let got = pf.occurrences(&hay, false);
        assert_eq!(got, pf.occurrences(&hay, true));
        let straddling = got
            .iter()
            .filter(|o| o.1 / SEGMENT != (o.2 - 1) / SEGMENT)
            .count();
        assert!(straddling >= 3, "across the boundaries: {straddling}");
        let on = got.iter().filter(|o| o.1 % SEGMENT == 0).count();
        assert!(on >= 3, "right on the boundaries: {on}");
        let dense = got.iter().filter(|o| o.1 / SEGMENT == 4).count();
        assert!(dense > SEGMENT / DENSE, "a dense segment: {dense}");
    }
}
