//! The traceability table (`scenarios/traceability.yaml`) against the spec lists and the
//! built-in scenarios: every statement once, `tested` exactly when a scenario cites it, a
//! reason for everything else. A scenario added, removed or re-cited without updating the
//! table fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use mqttspec::coverage::{self, Entry, Status};
use mqttspec::scenario::Version;
use mqttspec_codec::spec;

const VERSIONS: [Version; 2] = [Version::V3_1_1, Version::V5];

fn table() -> Vec<Entry> {
    coverage::table().unwrap_or_else(|e| panic!("{e}"))
}

/// (version, canonical id) of every statement a built-in scenario cites, with the scenarios
/// citing it.
fn cited() -> BTreeMap<(Version, &'static str), Vec<String>> {
    let catalog = mqttspec::builtin::catalog().unwrap_or_else(|e| panic!("{e:#?}"));
    let mut cited: BTreeMap<(Version, &'static str), Vec<String>> = BTreeMap::new();
    for s in &catalog.scenarios {
        for &v in &s.versions {
            for id in s.statements.for_version(v) {
                let st = spec::statement(v.spec(), id)
                    .unwrap_or_else(|| panic!("{}: {id} is not a statement of MQTT {v}", s.id));
                cited.entry((v, st.id)).or_default().push(s.id.clone());
            }
        }
    }
    cited
}

#[test]
fn the_table_lists_every_statement_of_both_versions_once() {
    let table = table();
    assert_eq!(spec::all(Version::V3_1_1.spec()).len(), 141);
    assert_eq!(spec::all(Version::V5.spec()).len(), 251);
    assert_eq!(table.len(), 141 + 251);
    let mut seen = BTreeSet::new();
    for e in &table {
        assert!(
            seen.insert((e.version, e.id.as_str())),
            "{} (MQTT {}) is listed twice",
            e.id,
            e.version
        );
    }
    for v in VERSIONS {
        for st in spec::all(v.spec()) {
            assert!(
                seen.contains(&(v, st.id)),
                "{} (MQTT {v}) is missing from the table",
                st.id
            );
        }
        let listed = table.iter().filter(|e| e.version == v).count();
        assert_eq!(listed, spec::all(v.spec()).len(), "entries for MQTT {v}");
    }
}

#[test]
fn every_id_is_a_statement_of_its_version() {
    for e in table() {
        let st = e
            .statement()
            .unwrap_or_else(|| panic!("{} is not a statement of MQTT {}", e.id, e.version));
        // The canonical id, not an alias.
        assert_eq!(st.id, e.id, "write {} as {}", e.id, st.id);
    }
}

#[test]
fn the_table_is_in_spec_order() {
    let order: Vec<(Version, &str)> = VERSIONS
        .into_iter()
        .flat_map(|v| spec::all(v.spec()).iter().map(move |s| (v, s.id)))
        .collect();
    let table = table();
    let listed: Vec<(Version, &str)> = table.iter().map(|e| (e.version, e.id.as_str())).collect();
    assert_eq!(
        listed, order,
        "keep the table sorted by version, then in the order of codec/spec/*.tsv"
    );
}

#[test]
fn tested_statements_are_cited_by_a_built_in_scenario() {
    let cited = cited();
    let stale: Vec<String> = table()
        .iter()
        .filter(|e| e.status == Status::Tested)
        .filter(|e| !cited.contains_key(&(e.version, e.id.as_str())))
        .map(|e| format!("{} (MQTT {})", e.id, e.version))
        .collect();
    assert!(
        stale.is_empty(),
        "marked tested, but no built-in scenario cites them for that version: {stale:#?}"
    );
}

#[test]
fn cited_statements_are_marked_tested() {
    let table = table();
    let status: BTreeMap<(Version, &str), Status> = table
        .iter()
        .map(|e| ((e.version, e.id.as_str()), e.status))
        .collect();
    let unmarked: Vec<String> = cited()
        .into_iter()
        .filter(|(key, _)| status.get(key) != Some(&Status::Tested))
        .map(|((v, id), scenarios)| {
            format!(
                "{id} (MQTT {v}) is {} but cited by {}",
                status.get(&(v, id)).map_or("missing", |s| s.as_str()),
                scenarios.join(", ")
            )
        })
        .collect();
    assert!(
        unmarked.is_empty(),
        "mark them tested in scenarios/traceability.yaml: {unmarked:#?}"
    );
}

#[test]
fn untested_entries_say_why() {
    for e in table() {
        if e.status != Status::Tested {
            assert!(
                e.reason.as_deref().is_some_and(|r| !r.trim().is_empty()),
                "{} (MQTT {}) is {} without a reason",
                e.id,
                e.version,
                e.status.as_str()
            );
        }
    }
}

#[test]
fn the_summary_adds_up() {
    let table = table();
    let summary = coverage::summarize(&table);
    for (v, cov) in VERSIONS.into_iter().zip(&summary) {
        assert_eq!(cov.version, v);
        assert_eq!(cov.counts.total(), spec::all(v.spec()).len());
        let levels: usize = cov.by_level.iter().map(|(_, c)| c.total()).sum();
        let sections: usize = cov.by_section.iter().map(|(_, c)| c.total()).sum();
        assert_eq!(levels, cov.counts.total());
        assert_eq!(sections, cov.counts.total());
        assert!(cov.by_level.iter().all(|(l, _)| *l != "?"));
        assert!(cov.by_section.iter().all(|(s, _)| s != "?"));
    }
}

#[test]
fn the_scenarios_folder_loads_without_the_table() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let from_dir = mqttspec::scenario::load_dir(&dir).unwrap_or_else(|e| panic!("{e:#?}"));
    let builtin = mqttspec::builtin::catalog().unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(from_dir.scenarios.len(), builtin.scenarios.len());
    assert!(
        mqttspec::builtin::BUILTIN
            .iter()
            .all(|(path, _)| *path != coverage::TABLE_FILE_NAME)
    );
}
