//! Traceability: how the suite covers every normative statement of MQTT 3.1.1 and 5.0.
//!
//! `scenarios/traceability.yaml` lists each of the 141 + 251 statements once per version with
//! a [`Status`]: `tested` (a built-in scenario cites it), `client` (a duty of the Client),
//! `untestable` (not observable by a test client) or `pending` (a Server duty no scenario
//! covers yet), with a one-line reason for all but `tested`. The table is embedded here;
//! `conformance/tests/traceability.rs` keeps it in step with the scenarios and the spec lists.
//! [`summarize`] counts it per version, level and section for `mqttspec coverage`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use mqttspec_codec::spec::{self, Statement};
use serde::{Deserialize, Serialize};

use crate::scenario::Version;

/// The table, as embedded at build time.
pub const TABLE: &str = include_str!("../../scenarios/traceability.yaml");

/// Its file name in the scenarios folder (the scenario loaders skip it).
pub const TABLE_FILE_NAME: &str = "traceability.yaml";

/// How one statement of one version is covered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// A built-in scenario cites it for that version.
    Tested,
    /// A duty of the Client, not the Server.
    Client,
    /// A test client cannot observe it on the network.
    Untestable,
    /// A Server duty observable on the wire that no scenario covers yet.
    Pending,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Tested,
        Status::Client,
        Status::Untestable,
        Status::Pending,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Tested => "tested",
            Status::Client => "client",
            Status::Untestable => "untestable",
            Status::Pending => "pending",
        }
    }
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub id: String,
    pub version: Version,
    pub status: Status,
    /// Why (`client`, `untestable`), or the scenario needed (`pending`).
    #[serde(default)]
    pub reason: Option<String>,
}

impl Entry {
    /// The statement in the spec manifest (`None` if the id is not one of the version's).
    pub fn statement(&self) -> Option<&'static Statement> {
        spec::statement(self.version.spec(), &self.id)
    }

    /// The statement's RFC 2119 level (`MUST`, `MUST NOT`, `NONE`), or `?` if unknown.
    pub fn level(&self) -> &'static str {
        self.statement().map_or("?", |s| s.level.as_str())
    }

    /// The spec area: the first two components of the statement's section (`3.3.2.1` →
    /// `3.3`), or `?` if unknown.
    pub fn area(&self) -> String {
        self.statement()
            .map_or_else(|| "?".to_owned(), |s| area(s.section))
    }
}

/// The first two components of a section number: `3.3.2.1` → `3.3`, `6` → `6`.
pub fn area(section: &str) -> String {
    section.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// Parses a traceability table (YAML: a list of entries).
pub fn parse(text: &str) -> Result<Vec<Entry>, String> {
    serde_yaml::from_str(text).map_err(|e| match e.location() {
        Some(l) => format!("{TABLE_FILE_NAME}:{}:{}: {e}", l.line(), l.column()),
        None => format!("{TABLE_FILE_NAME}: {e}"),
    })
}

/// The embedded table.
pub fn table() -> Result<Vec<Entry>, String> {
    parse(TABLE)
}

/// Statements per status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub tested: usize,
    pub client: usize,
    pub untestable: usize,
    pub pending: usize,
}

impl Counts {
    pub fn add(&mut self, status: Status) {
        match status {
            Status::Tested => self.tested += 1,
            Status::Client => self.client += 1,
            Status::Untestable => self.untestable += 1,
            Status::Pending => self.pending += 1,
        }
    }

    pub fn get(&self, status: Status) -> usize {
        match status {
            Status::Tested => self.tested,
            Status::Client => self.client,
            Status::Untestable => self.untestable,
            Status::Pending => self.pending,
        }
    }

    pub fn total(&self) -> usize {
        self.tested + self.client + self.untestable + self.pending
    }

    /// Tested among the Server duties a test client can check (tested + pending), in percent.
    pub fn server_coverage(&self) -> f64 {
        let testable = self.tested + self.pending;
        if testable == 0 {
            0.0
        } else {
            100.0 * self.tested as f64 / testable as f64
        }
    }
}

/// The coverage of one protocol version.
#[derive(Clone, Debug)]
pub struct VersionCoverage<'a> {
    pub version: Version,
    pub counts: Counts,
    /// Per RFC 2119 level, in the order MUST, MUST NOT, …, NONE (levels with entries only).
    pub by_level: Vec<(&'static str, Counts)>,
    /// Per spec area (`1.5`, `3.3`, `4.7`, `6`, …), in numeric order.
    pub by_section: Vec<(String, Counts)>,
    /// The version's entries, in table order.
    pub entries: Vec<&'a Entry>,
}

const LEVEL_ORDER: [&str; 8] = [
    "MUST", "MUST NOT", "SHALL", "REQUIRED", "SHOULD", "MAY", "NONE", "?",
];

/// Numeric sort key of an area: `3.10` after `3.9`; unknown (`?`) last.
fn area_key(area: &str) -> Vec<u32> {
    area.split('.')
        .map(|n| n.parse().unwrap_or(u32::MAX))
        .collect()
}

/// Counts the table per version (3.1.1, then 5.0), level and section.
pub fn summarize(entries: &[Entry]) -> Vec<VersionCoverage<'_>> {
    [Version::V3_1_1, Version::V5]
        .into_iter()
        .map(|version| {
            let mine: Vec<&Entry> = entries.iter().filter(|e| e.version == version).collect();
            let mut counts = Counts::default();
            let mut levels: BTreeMap<usize, (&'static str, Counts)> = BTreeMap::new();
            let mut sections: BTreeMap<Vec<u32>, (String, Counts)> = BTreeMap::new();
            for e in &mine {
                counts.add(e.status);
                let level = e.level();
                let rank = LEVEL_ORDER
                    .iter()
                    .position(|l| *l == level)
                    .unwrap_or(LEVEL_ORDER.len());
                levels
                    .entry(rank)
                    .or_insert((level, Counts::default()))
                    .1
                    .add(e.status);
                let area = e.area();
                sections
                    .entry(area_key(&area))
                    .or_insert_with(|| (area, Counts::default()))
                    .1
                    .add(e.status);
            }
            VersionCoverage {
                version,
                counts,
                by_level: levels.into_values().collect(),
                by_section: sections.into_values().collect(),
                entries: mine,
            }
        })
        .collect()
}

fn counts_row(out: &mut impl Write, label: &str, c: &Counts) -> io::Result<()> {
    writeln!(
        out,
        "    {label:<10} {:>5} {:>7} {:>7} {:>11} {:>8}",
        c.total(),
        c.tested,
        c.client,
        c.untestable,
        c.pending
    )
}

fn header(out: &mut impl Write, label: &str) -> io::Result<()> {
    writeln!(
        out,
        "    {label:<10} {:>5} {:>7} {:>7} {:>11} {:>8}",
        "total", "tested", "client", "untestable", "pending"
    )
}

/// The human-readable summary: totals, per level, per section, then the pending statements
/// with the scenario each needs.
pub fn write_text(coverage: &[VersionCoverage<'_>], out: &mut impl Write) -> io::Result<()> {
    let total: usize = coverage.iter().map(|v| v.counts.total()).sum();
    writeln!(
        out,
        "Traceability of {total} normative statements (scenarios/{TABLE_FILE_NAME})"
    )?;
    for v in coverage {
        let c = &v.counts;
        writeln!(out)?;
        writeln!(
            out,
            "MQTT {}: {} statements: {} tested, {} client, {} untestable, {} pending \
             ({:.0}% of the server-side testable ones tested)",
            v.version,
            c.total(),
            c.tested,
            c.client,
            c.untestable,
            c.pending,
            c.server_coverage()
        )?;
        writeln!(out, "  by level")?;
        header(out, "")?;
        for (level, counts) in &v.by_level {
            counts_row(out, level, counts)?;
        }
        writeln!(out, "  by section")?;
        header(out, "")?;
        for (section, counts) in &v.by_section {
            counts_row(out, section, counts)?;
        }
    }
    for v in coverage {
        let pending: Vec<&&Entry> = v
            .entries
            .iter()
            .filter(|e| e.status == Status::Pending)
            .collect();
        if pending.is_empty() {
            continue;
        }
        writeln!(out)?;
        writeln!(
            out,
            "Pending under MQTT {} ({}): server-side, no scenario yet",
            v.version,
            pending.len()
        )?;
        for e in pending {
            writeln!(
                out,
                "  {:<14} {:<8} {}",
                e.id,
                e.level(),
                e.reason.as_deref().unwrap_or("")
            )?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonBreakdown<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    level: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    section: Option<&'a str>,
    total: usize,
    #[serde(flatten)]
    counts: Counts,
}

#[derive(Serialize)]
struct JsonEntry<'a> {
    id: &'a str,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    level: &'a str,
    section: &'a str,
    title: &'a str,
}

#[derive(Serialize)]
struct JsonVersion<'a> {
    total: usize,
    #[serde(flatten)]
    counts: Counts,
    by_level: Vec<JsonBreakdown<'a>>,
    by_section: Vec<JsonBreakdown<'a>>,
    entries: Vec<JsonEntry<'a>>,
}

/// The summary as JSON: an object keyed by version (`"3.1.1"`, `"5.0"`), each with `total`,
/// `tested`, `client`, `untestable`, `pending`, the breakdowns `by_level` and `by_section`
/// (lists of the same counts), and `entries` (`id`, `status`, `reason`, and the statement's
/// `level`, `section` and `title`), in table order.
pub fn write_json(coverage: &[VersionCoverage<'_>], out: &mut impl Write) -> io::Result<()> {
    let versions: BTreeMap<&str, JsonVersion<'_>> = coverage
        .iter()
        .map(|v| {
            let json = JsonVersion {
                total: v.counts.total(),
                counts: v.counts,
                by_level: v
                    .by_level
                    .iter()
                    .map(|(l, c)| JsonBreakdown {
                        level: Some(l),
                        section: None,
                        total: c.total(),
                        counts: *c,
                    })
                    .collect(),
                by_section: v
                    .by_section
                    .iter()
                    .map(|(s, c)| JsonBreakdown {
                        level: None,
                        section: Some(s),
                        total: c.total(),
                        counts: *c,
                    })
                    .collect(),
                entries: v
                    .entries
                    .iter()
                    .map(|e| {
                        let st = e.statement();
                        JsonEntry {
                            id: &e.id,
                            status: e.status,
                            reason: e.reason.as_deref(),
                            level: e.level(),
                            section: st.map_or("?", |s| s.section),
                            title: st.map_or("", |s| s.title),
                        }
                    })
                    .collect(),
            };
            (v.version.as_str(), json)
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &versions).map_err(io::Error::other)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_are_the_first_two_components() {
        assert_eq!(area("3.3.2.1"), "3.3");
        assert_eq!(area("4.2"), "4.2");
        assert_eq!(area("6"), "6");
        assert!(area_key("3.10") > area_key("3.9"));
    }

    #[test]
    fn summarizes_a_small_table() {
        let entries = parse(
            r#"
- {id: MQTT-3.3.1-4, version: "5.0", status: tested}
- {id: MQTT-3.1.2-20, version: "5.0", status: client, reason: "the Client's duty"}
- {id: MQTT-4.2-1, version: "5.0", status: untestable, reason: "transport"}
- {id: MQTT-3.3.1-4, version: "3.1.1", status: pending, reason: "a scenario"}
"#,
        )
        .expect("parses");
        let summary = summarize(&entries);
        assert_eq!(summary.len(), 2);
        let v5 = &summary[1];
        assert_eq!(v5.version, Version::V5);
        assert_eq!(
            v5.counts,
            Counts {
                tested: 1,
                client: 1,
                untestable: 1,
                pending: 0
            }
        );
        assert_eq!(v5.by_level[0].0, "MUST");
        assert_eq!(v5.by_level[1].0, "MUST NOT");
        let sections: Vec<&str> = v5.by_section.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(sections, ["3.1", "3.3", "4.2"]);
        assert_eq!(summary[0].counts.pending, 1);
        let mut json = Vec::new();
        write_json(&summary, &mut json).expect("writes");
        let value: serde_json::Value = serde_json::from_slice(&json).expect("valid JSON");
        assert_eq!(value["5.0"]["tested"], 1);
        assert_eq!(value["3.1.1"]["entries"][0]["status"], "pending");
    }

    #[test]
    fn unknown_fields_and_statuses_are_errors() {
        assert!(parse(r#"- {id: MQTT-3.3.1-4, version: "5.0", status: done}"#).is_err());
        assert!(parse(r#"- {id: MQTT-3.3.1-4, version: "5.0", status: tested, note: x}"#).is_err());
    }
}
