//! Prefilter: one Aho-Corasick automaton over every rule's keywords, matched ASCII
//! case-insensitively, finds the candidate positions; each occurrence becomes a [`Hit`] for every
//! rule that declared that keyword. Only windows around hits reach the regexes in `verify`.
//!
//! Contract: every rule match contains one of the rule's keywords (rules check lints this on each
//! example), and the automaton reports *all* occurrences, overlapping ones included, so the
//! prefilter never drops a real match. Rules without usable keywords are listed in
//! [`Prefilter::unfiltered`] and are searched over the whole buffer.
//!
//! Flow position: `chunk -> prefilter -> verify`.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind, StartKind};

use crate::rules::RuleSet;
use crate::verify::Hit;

/// The keyword automaton and the map from its patterns to rules.
#[derive(Debug)]
pub struct Prefilter {
    ac: Option<DFA>,
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
    /// Build the automaton for `rules`.
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
        let ac = if keywords.is_empty() {
            None
        } else {
            Some(
                DFA::builder()
                    .match_kind(MatchKind::Standard)
                    .ascii_case_insensitive(true)
                    .prefilter(false)
                    .start_kind(StartKind::Unanchored)
                    .build(&keywords)
                    .expect("keywords are non-empty literals; a DFA of this size builds"),
            )
        };
        Prefilter {
            ac,
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

    /// Call `f(pattern, start, end)` for every keyword occurrence, overlapping ones included.
    ///
    /// The automaton's transition is a dependent load per byte, so one walk is bound by memory
    /// latency rather than throughput. The buffer is therefore cut into four slices walked in
    /// lockstep, four independent chains the CPU overlaps. A lane starts `max_len - 1` bytes
    /// before its slice, so a keyword that straddles a cut is seen whole by the lane its end
    /// falls in, and reported by that lane only.
    fn each_occurrence(&self, hay: &[u8], mut f: impl FnMut(usize, usize, usize)) {
        let Some(dfa) = &self.ac else {
            return;
        };
        let mut ends = Vec::new();
        lanes(dfa, hay, self.max_len, &mut ends);
        for (sid, at) in ends {
            for i in 0..dfa.match_len(sid) {
                let pid = dfa.match_pattern(sid, i);
                let len = dfa.pattern_len(pid);
                f(pid.as_usize(), at + 1 - len, at + 1);
            }
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
    // One walk from `from` to `to`, reporting ends at or after `report`.
    let walk = |from: usize, report: usize, to: usize, ends: &mut Vec<(StateID, usize)>| {
        let mut sid = start;
        for (i, &b) in hay[from..to].iter().enumerate() {
            sid = dfa.next_state(Anchored::No, sid, b);
            if dfa.is_special(sid) && from + i >= report {
                ends.push((sid, from + i));
            }
        }
    };
    if n < 4 * (warm + 256) {
        walk(0, 0, n, ends);
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
