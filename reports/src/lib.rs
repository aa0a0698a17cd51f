//! # mqttspec-report
//!
//! The results model of an mqttspec run ([`model`]) and its renderers. The model is plain
//! serde data: the engine produces it, renderers read it, and neither knows the other.
//!
//! - [`json`]: the versioned JSON results file (`schema_version` [`model::SCHEMA_VERSION`]).
//! - [`junit`]: JUnit XML for CI (`reports/schema/junit.xsd` describes it).
//! - [`markdown`]: a compact summary for a pull-request comment.
//! - [`html`]: a self-contained HTML report of one run, and a side-by-side matrix of several
//!   ([`html::write_matrix`]).
//!
//! [`Format`] and [`render`] pick a renderer by name.

mod common;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod model;

use std::fmt;
use std::io;
use std::str::FromStr;

pub use model::{
    BrokerInfo, CaseResult, Direction, Outcome, RunResults, StatementCitation, Summary, ToolInfo,
    TranscriptEntry,
};

/// A report format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Json,
    Junit,
    Markdown,
    Html,
}

impl Format {
    /// Every format, in the order a CLI lists them.
    pub const ALL: [Format; 4] = [Format::Json, Format::Junit, Format::Markdown, Format::Html];

    /// The format a name means, case-insensitively: `json`; `junit` (or `xml`); `markdown`
    /// (or `md`); `html`.
    pub fn parse(name: &str) -> Option<Format> {
        match name.trim().to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "junit" | "xml" | "junit-xml" => Some(Format::Junit),
            "markdown" | "md" => Some(Format::Markdown),
            "html" => Some(Format::Html),
            _ => None,
        }
    }

    /// The canonical name, which [`Format::parse`] reads back.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
            Format::Html => "html",
        }
    }

    /// The file a report of this format is written to in an output directory.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Json => "results.json",
            Format::Junit => "junit.xml",
            Format::Markdown => "summary.md",
            Format::Html => "report.html",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing an unknown format name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown report format `{}` (expected json, junit, markdown or html)",
            self.0
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Format, UnknownFormat> {
        Format::parse(s).ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// Writes `results` in `format` to `out`.
pub fn render(format: Format, results: &RunResults, out: &mut impl io::Write) -> io::Result<()> {
    match format {
        Format::Json => json::write(results, out),
        Format::Junit => junit::write(results, out),
        Format::Markdown => markdown::write(results, out),
        Format::Html => html::write(results, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_name_files() {
        for f in Format::ALL {
            assert_eq!(Format::parse(f.name()), Some(f));
            assert_eq!(f.to_string().parse::<Format>(), Ok(f));
        }
        assert_eq!(Format::parse(" MD "), Some(Format::Markdown));
        assert_eq!(Format::parse("xml"), Some(Format::Junit));
        assert_eq!(Format::parse("pdf"), None);
        assert!(
            "pdf"
                .parse::<Format>()
                .unwrap_err()
                .to_string()
                .contains("pdf")
        );
        let files: Vec<&str> = Format::ALL.iter().map(|f| f.file_name()).collect();
        assert_eq!(
            files,
            ["results.json", "junit.xml", "summary.md", "report.html"]
        );
    }
}
