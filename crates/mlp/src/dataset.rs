//! A labelled test split for a classifier, as `models/digits/train.py` writes it: a CSV file whose
//! header is `label,p0,...,p{n-1}` and whose rows are a class label and `n` input bytes. The digits
//! test split (360 images of 64 pixels, 0..16) is compiled in ([`TestSplit::digits`]).

use std::path::Path;

use crate::{InputError, IntMlp};

/// The digits test split (`models/digits/test-split.csv`).
pub const DIGITS_TEST_SPLIT: &str = include_str!("../../../models/digits/test-split.csv");

/// One labelled input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// The true class.
    pub label: usize,
    /// The input bytes.
    pub input: Vec<u8>,
}

/// A labelled test split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestSplit {
    /// The samples, in file order.
    pub samples: Vec<Sample>,
}

/// Why a test split could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The file could not be read.
    #[error("cannot read test split {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// OS error.
        source: std::io::Error,
    },
    /// The header is not `label,p0,...`.
    #[error("test split header must be `label,p0,...,p<n-1>`, found `{found}`")]
    Header {
        /// The first line.
        found: String,
    },
    /// A row is malformed.
    #[error("test split line {line}: {reason}")]
    Row {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// No samples.
    #[error("test split has no samples")]
    Empty,
}

impl TestSplit {
    /// Parses a split from CSV text.
    pub fn parse(text: &str) -> Result<Self, DatasetError> {
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default();
        let cols: Vec<&str> = header.split(',').collect();
        let width = cols.len().saturating_sub(1);
        let header_ok = cols.first() == Some(&"label")
            && width > 0
            && cols[1..]
                .iter()
                .enumerate()
                .all(|(i, c)| *c == format!("p{i}"));
        if !header_ok {
            return Err(DatasetError::Header {
                found: header.to_owned(),
            });
        }
        let mut samples = Vec::new();
        for (i, l) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let line = i + 2;
            let row = |reason: String| DatasetError::Row { line, reason };
            let vals: Vec<&str> = l.split(',').collect();
            if vals.len() != width + 1 {
                return Err(row(format!(
                    "{} fields, the header has {}",
                    vals.len(),
                    width + 1
                )));
            }
            let label = vals[0]
                .trim()
                .parse::<usize>()
                .map_err(|e| row(format!("label `{}`: {e}", vals[0])))?;
            let input = vals[1..]
                .iter()
                .map(|v| {
                    v.trim()
                        .parse::<i8>()
                        .map(|b| b as u8)
                        .map_err(|e| row(format!("value `{v}`: {e}")))
                })
                .collect::<Result<_, _>>()?;
            samples.push(Sample { label, input });
        }
        if samples.is_empty() {
            return Err(DatasetError::Empty);
        }
        Ok(Self { samples })
    }

    /// Reads and parses the split at `path`.
    pub fn load(path: &Path) -> Result<Self, DatasetError> {
        let text = std::fs::read_to_string(path).map_err(|source| DatasetError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    /// The compiled-in digits test split.
    pub fn digits() -> Result<Self, DatasetError> {
        Self::parse(DIGITS_TEST_SPLIT)
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether there are no samples (never, for a parsed split).
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Sample `i` modulo the split's size, for drawing as many inputs as a run needs.
    pub fn cycle(&self, i: usize) -> &Sample {
        &self.samples[i % self.samples.len()]
    }
}

/// One sample's outcome in an [`Evaluation`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The true class.
    pub label: usize,
    /// The predicted class.
    pub predicted: usize,
}

/// A model's predictions over a split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    /// Per sample, in split order.
    pub outcomes: Vec<Outcome>,
}

impl Evaluation {
    /// Samples predicted correctly.
    pub fn correct(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| o.label == o.predicted)
            .count()
    }

    /// Fraction predicted correctly (0 for no samples).
    pub fn accuracy(&self) -> f64 {
        if self.outcomes.is_empty() {
            return 0.0;
        }
        self.correct() as f64 / self.outcomes.len() as f64
    }
}

/// Runs `model` on every sample of `split`. A sample the model refuses (wrong width, out of range)
/// is an error: the split does not belong to the model.
pub fn evaluate(model: &IntMlp, split: &TestSplit) -> Result<Evaluation, InputError> {
    let outcomes = split
        .samples
        .iter()
        .map(|s| {
            Ok(Outcome {
                label: s.label,
                predicted: model.classify(&s.input)?.class,
            })
        })
        .collect::<Result<_, InputError>>()?;
    Ok(Evaluation { outcomes })
}
