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

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::rules::RuleSet;
use crate::verify::Hit;

/// The keyword automaton and the map from its patterns to rules.
#[derive(Debug)]
pub struct Prefilter {
    ac: Option<AhoCorasick>,
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
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .ascii_case_insensitive(true)
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(&keywords)
                    .expect("keywords are non-empty literals; a DFA of this size builds"),
            )
        };
        Prefilter {
            ac,
            keywords,
            pattern_rules,
            unfiltered,
        }
    }

    /// Append every keyword occurrence in `hay`, attributed to its rules, to `hits`.
    pub(crate) fn find(&self, hay: &[u8], hits: &mut Vec<Hit>) {
        let Some(ac) = &self.ac else {
            return;
        };
        for m in ac.find_overlapping_iter(hay) {
            for &rule in &self.pattern_rules[m.pattern().as_usize()] {
                hits.push(Hit {
                    rule,
                    start: m.start(),
                    end: m.end(),
                });
            }
        }
    }

    /// Count keyword occurrences without attributing them (for benchmarks).
    pub fn count(&self, hay: &[u8]) -> usize {
        self.ac
            .as_ref()
            .map_or(0, |ac| ac.find_overlapping_iter(hay).count())
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
