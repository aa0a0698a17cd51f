//! The normative statements of MQTT 3.1.1 and 5.0: the traceability backbone.
//!
//! The two tab-separated lists under `codec/spec/` (copied from the project's shared spec
//! folder, OASIS notice in its README) are compiled into the crate. Every statement id that a
//! decode error, a scenario or a report cites must be found here; a workspace test checks that
//! for every file in the repository.

use std::fmt;
use std::sync::OnceLock;

const V3_1_1_TSV: &str = include_str!("../spec/mqtt-v3.1.1-normative.tsv");
const V5_0_TSV: &str = include_str!("../spec/mqtt-v5.0-normative.tsv");

/// The edition of the specification a statement belongs to. MQTT 3.1 has no tagged
/// statements; the codec cites 3.1.1 for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpecVersion {
    V3_1_1,
    V5_0,
}

impl SpecVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            SpecVersion::V3_1_1 => "3.1.1",
            SpecVersion::V5_0 => "5.0",
        }
    }
}

impl fmt::Display for SpecVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The main RFC 2119 keyword of a statement, as the spec lists give it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    Must,
    MustNot,
    Shall,
    Required,
    Should,
    May,
    /// The tagged text carries no keyword (three statements).
    None,
}

impl Level {
    fn parse(s: &str) -> Level {
        match s {
            "MUST" => Level::Must,
            "MUST NOT" => Level::MustNot,
            "SHALL" | "SHALL NOT" => Level::Shall,
            "REQUIRED" => Level::Required,
            "SHOULD" | "SHOULD NOT" => Level::Should,
            "MAY" => Level::May,
            _ => Level::None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::MustNot => "MUST NOT",
            Level::Shall => "SHALL",
            Level::Required => "REQUIRED",
            Level::Should => "SHOULD",
            Level::May => "MAY",
            Level::None => "NONE",
        }
    }
}

/// One tagged normative statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The tag without brackets, e.g. `MQTT-3.1.2-3`.
    pub id: &'static str,
    pub version: SpecVersion,
    /// The most specific numbered heading the tag appears under, e.g. `3.1.2.4`.
    pub section: &'static str,
    /// That heading's title.
    pub title: &'static str,
    pub level: Level,
    pub text: &'static str,
}

/// A reference to a statement of one spec version; what errors and scenarios carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatementRef {
    pub version: SpecVersion,
    pub id: &'static str,
}

impl StatementRef {
    pub const fn v3(id: &'static str) -> Self {
        StatementRef {
            version: SpecVersion::V3_1_1,
            id,
        }
    }

    pub const fn v5(id: &'static str) -> Self {
        StatementRef {
            version: SpecVersion::V5_0,
            id,
        }
    }

    /// The statement itself; `None` only if the id is not in the manifest (a test guards that).
    pub fn statement(self) -> Option<&'static Statement> {
        statement(self.version, self.id)
    }
}

impl fmt::Display for StatementRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (MQTT {})", self.id, self.version)
    }
}

/// Statement ids that code in the wild cites under another name.
const ALIASES: &[(&str, &str)] = &[
    // Appendix B of 5.0 calls the transport rule MQTT-4.2.0-1; the body tags it MQTT-4.2-1.
    ("MQTT-4.2.0-1", "MQTT-4.2-1"),
];

/// The canonical form of a statement id (resolves known aliases).
pub fn canonical_id(id: &str) -> &str {
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == id)
        .map_or(id, |(_, canonical)| canonical)
}

struct Manifest {
    v3_1_1: Vec<Statement>,
    v5_0: Vec<Statement>,
}

fn manifest() -> &'static Manifest {
    static MANIFEST: OnceLock<Manifest> = OnceLock::new();
    MANIFEST.get_or_init(|| Manifest {
        v3_1_1: parse_tsv(V3_1_1_TSV, SpecVersion::V3_1_1),
        v5_0: parse_tsv(V5_0_TSV, SpecVersion::V5_0),
    })
}

fn parse_tsv(tsv: &'static str, version: SpecVersion) -> Vec<Statement> {
    tsv.lines()
        .skip(1) // header: id version section title level text
        .filter(|line| !line.is_empty())
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let id = fields.next()?;
            let _version = fields.next()?;
            let section = fields.next()?;
            let title = fields.next()?;
            let level = Level::parse(fields.next()?);
            let text = fields.next()?;
            Some(Statement {
                id,
                version,
                section,
                title,
                level,
                text,
            })
        })
        .collect()
}

/// Every statement of one spec version, in the lists' (numeric) order.
pub fn all(version: SpecVersion) -> &'static [Statement] {
    let m = manifest();
    match version {
        SpecVersion::V3_1_1 => &m.v3_1_1,
        SpecVersion::V5_0 => &m.v5_0,
    }
}

/// The statement `id` of spec `version` (aliases resolved).
pub fn statement(version: SpecVersion, id: &str) -> Option<&'static Statement> {
    let id = canonical_id(id);
    all(version).iter().find(|s| s.id == id)
}

/// The statements carrying `id` in either version: many ids exist in both with different
/// texts (e.g. `MQTT-3.1.2-3`).
pub fn statements(id: &str) -> impl Iterator<Item = &'static Statement> {
    let id = canonical_id(id).to_owned();
    all(SpecVersion::V3_1_1)
        .iter()
        .chain(all(SpecVersion::V5_0))
        .filter(move |s| s.id == id)
}

/// Is `id` a statement of either version (aliases resolved)?
pub fn is_known(id: &str) -> bool {
    statements(id).next().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_has_every_statement_of_both_versions() {
        assert_eq!(all(SpecVersion::V3_1_1).len(), 141);
        assert_eq!(all(SpecVersion::V5_0).len(), 251);
    }

    #[test]
    fn looks_up_a_statement_with_all_its_fields() {
        let s = statement(SpecVersion::V5_0, "MQTT-3.3.2-2").expect("known id");
        assert_eq!(s.section, "3.3.2.1");
        assert_eq!(s.title, "Topic Name");
        assert_eq!(s.level, Level::MustNot);
        assert!(s.text.contains("wildcard"), "{}", s.text);
    }

    #[test]
    fn same_id_has_a_text_per_version() {
        let both: Vec<_> = statements("MQTT-3.1.2-3").collect();
        assert_eq!(both.len(), 2);
        assert_ne!(both[0].text, both[1].text);
    }

    #[test]
    fn resolves_the_appendix_b_alias() {
        assert!(is_known("MQTT-4.2.0-1"));
        assert_eq!(
            statement(SpecVersion::V5_0, "MQTT-4.2.0-1").map(|s| s.id),
            Some("MQTT-4.2-1")
        );
    }

    #[test]
    fn unknown_ids_are_not_found() {
        // Built at run time so the repository-wide id check does not see it.
        assert!(!is_known(&format!("MQTT-{}", "9.9.9-9")));
        assert!(statement(SpecVersion::V3_1_1, "MQTT-4.13.1-1").is_none());
    }

    #[test]
    fn ids_are_unique_within_a_version() {
        for version in [SpecVersion::V3_1_1, SpecVersion::V5_0] {
            let mut ids: Vec<_> = all(version).iter().map(|s| s.id).collect();
            ids.sort_unstable();
            let before = ids.len();
            ids.dedup();
            assert_eq!(before, ids.len(), "duplicate ids in {version}");
        }
    }
}
