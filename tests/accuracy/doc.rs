//! The labelled unit of the corpus: a [`Val`] is a piece of text with the byte spans of the true
//! secrets inside it (none for a hard negative); a [`Doc`] is one generated file, built by
//! appending text and values, that records every secret span with the kind that made it.

use std::ops::Range;

/// Text with the spans of the true secrets in it.
#[derive(Clone, Debug, Default)]
pub struct Val {
    pub text: String,
    pub spans: Vec<Range<usize>>,
    /// Spans that are neither secret nor negative (a user name beside a password in a
    /// Kubernetes Secret): findings there are not counted either way.
    pub neutral: Vec<Range<usize>>,
    /// A placeholder as a person writes it: carried as is, never encoded by a structure
    /// (a `.npmrc` or Kubernetes Secret base64-encodes real values, not `<your-token>`).
    pub raw: bool,
}

impl Val {
    /// A value that is all secret.
    pub fn secret(s: impl Into<String>) -> Val {
        let text = s.into();
        #[allow(clippy::single_range_in_vec_init)]
        let spans = vec![0..text.len()];
        Val {
            text,
            spans,
            neutral: Vec::new(),
            raw: false,
        }
    }

    /// A value with no secret in it.
    pub fn plain(s: impl Into<String>) -> Val {
        Val {
            text: s.into(),
            spans: Vec::new(),
            neutral: Vec::new(),
            raw: false,
        }
    }

    /// A placeholder, see [`Val::raw`].
    pub fn placeholder(s: impl Into<String>) -> Val {
        Val {
            raw: true,
            ..Val::plain(s)
        }
    }

    /// Whether the value holds a true secret.
    pub fn is_secret(&self) -> bool {
        !self.spans.is_empty()
    }

    /// Append plain text.
    pub fn push(&mut self, s: &str) -> &mut Val {
        self.text.push_str(s);
        self
    }

    /// Append text that is neither secret nor negative.
    pub fn push_neutral(&mut self, s: &str) -> &mut Val {
        let at = self.text.len();
        self.neutral.push(at..at + s.len());
        self.text.push_str(s);
        self
    }

    /// Append another value, keeping its spans.
    pub fn push_val(&mut self, v: &Val) -> &mut Val {
        let at = self.text.len();
        self.spans
            .extend(v.spans.iter().map(|r| r.start + at..r.end + at));
        self.neutral
            .extend(v.neutral.iter().map(|r| r.start + at..r.end + at));
        self.text.push_str(&v.text);
        self
    }

    /// `pre` + `v` + `post`.
    pub fn around(pre: &str, v: &Val, post: &str) -> Val {
        let mut out = Val::plain(pre);
        out.push_val(v).push(post);
        out
    }

    /// The value with `f` applied to each stretch between span boundaries (escaping, indenting),
    /// spans moved to match. `f` must map text piecewise (the result of a concatenation is the
    /// concatenation of the results), as escapers do.
    pub fn map(&self, f: impl Fn(&str) -> String) -> Val {
        let mut cuts: Vec<usize> = vec![0, self.text.len()];
        for r in self.spans.iter().chain(&self.neutral) {
            cuts.push(r.start);
            cuts.push(r.end);
        }
        cuts.sort_unstable();
        cuts.dedup();
        let mut out = Val::default();
        let mut at_new = Vec::new();
        for w in cuts.windows(2) {
            at_new.push((w[0], out.text.len()));
            out.text.push_str(&f(&self.text[w[0]..w[1]]));
        }
        at_new.push((self.text.len(), out.text.len()));
        let find = |old: usize| {
            at_new
                .iter()
                .find(|(o, _)| *o == old)
                .map(|(_, n)| *n)
                .expect("span ends are cut points")
        };
        out.spans = self
            .spans
            .iter()
            .map(|r| find(r.start)..find(r.end))
            .collect();
        out.neutral = self
            .neutral
            .iter()
            .map(|r| find(r.start)..find(r.end))
            .collect();
        out.raw = self.raw;
        out
    }
}

/// One labelled secret of a document.
#[derive(Clone, Debug)]
pub struct Label {
    pub span: Range<usize>,
    /// Index of the kind (in `kinds::all()`) that made it.
    pub kind: usize,
}

/// One generated file.
#[derive(Clone, Debug)]
pub struct Doc {
    pub path: String,
    /// The context template that made it (python, yaml-nested, pem-file, ...).
    pub ctx: &'static str,
    pub text: String,
    pub labels: Vec<Label>,
    /// Spans where findings count neither way.
    pub neutral: Vec<Range<usize>>,
}

impl Doc {
    pub fn new(path: impl Into<String>, ctx: &'static str) -> Doc {
        Doc {
            path: path.into(),
            ctx,
            text: String::new(),
            labels: Vec::new(),
            neutral: Vec::new(),
        }
    }

    /// Append plain text.
    pub fn push(&mut self, s: &str) -> &mut Doc {
        self.text.push_str(s);
        self
    }

    /// Append a line.
    pub fn line(&mut self, s: &str) -> &mut Doc {
        self.text.push_str(s);
        self.text.push('\n');
        self
    }

    /// Append a value made by kind `kind`, labelling its secrets.
    pub fn val(&mut self, v: &Val, kind: usize) -> &mut Doc {
        let at = self.text.len();
        self.labels.extend(v.spans.iter().map(|r| Label {
            span: r.start + at..r.end + at,
            kind,
        }));
        self.neutral
            .extend(v.neutral.iter().map(|r| r.start + at..r.end + at));
        self.text.push_str(&v.text);
        self
    }
}
