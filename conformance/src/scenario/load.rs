//! Loading scenario files: parse (with file, line and column on error), then check what the
//! type system cannot: statement ids against the spec manifest, one packet per `send`,
//! pattern fields that exist, unique ids.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use mqttspec_codec::spec;

use super::pattern::known_fields;
use super::{Scenario, Statements, Step};

/// A scenario file that cannot be used, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for LoadError {}

/// A checked set of scenarios, in id order.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub scenarios: Vec<Scenario>,
}

impl Catalog {
    /// Builds a catalog from (file name, YAML text) pairs.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Catalog, Vec<LoadError>> {
        let mut scenarios = Vec::new();
        let mut errors = Vec::new();
        for (file, text) in sources {
            match expand_family(file, text) {
                Ok(None) => match load_str(file, text) {
                    Ok(s) => scenarios.push(s),
                    Err(e) => errors.push(e),
                },
                Ok(Some(members)) => {
                    for (name, member) in members {
                        match load_str(&name, &member) {
                            Ok(s) => scenarios.push(s),
                            Err(e) => errors.push(e),
                        }
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        let mut seen = HashSet::new();
        for s in &scenarios {
            if !seen.insert(s.id.clone()) {
                errors.push(LoadError {
                    file: s.source.clone(),
                    line: None,
                    column: None,
                    message: format!("duplicate scenario id `{}`", s.id),
                });
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        scenarios.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Catalog { scenarios })
    }

    pub fn get(&self, id: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.id == id)
    }
}

/// Loads every `*.yaml` / `*.yml` file under `dir`, recursively, except `dir/traceability.yaml`
/// (the traceability table kept beside the built-in scenarios, see [`crate::coverage`]).
pub fn load_dir(dir: &Path) -> Result<Catalog, Vec<LoadError>> {
    let mut files = Vec::new();
    collect(dir, &mut files).map_err(|e| {
        vec![LoadError {
            file: dir.display().to_string(),
            line: None,
            column: None,
            message: e.to_string(),
        }]
    })?;
    files.retain(|f| f != &dir.join(crate::coverage::TABLE_FILE_NAME));
    files.sort();
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match std::fs::read_to_string(&f) {
            Ok(text) => sources.push((f.display().to_string(), text)),
            Err(e) => errors.push(LoadError {
                file: f.display().to_string(),
                line: None,
                column: None,
                message: e.to_string(),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Catalog::from_sources(sources.iter().map(|(f, t)| (f.as_str(), t.as_str())))
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Most scenarios a family file may expand to.
const FAMILY_LIMIT: usize = 10_000;

/// A family file: one scenario template and the values to fill it with, so that a rule is
/// checked across every packet type and version it applies to without copying YAML.
///
/// ```yaml
/// family: malformed/reserved-flags      # a name for errors
/// matrix:                               # every combination of these values …
///   packet: [pubrel, subscribe]
///   flags: [0, 4]
/// cases:                                # … and/or these explicit rows
///   - {packet: unsubscribe, flags: 0}
/// template: |
///   id: malformed/reserved-flags/{{packet}}/{{flags}}
///   ...
/// ```
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Family {
    family: String,
    #[serde(default)]
    matrix: std::collections::BTreeMap<String, Vec<serde_yaml::Value>>,
    #[serde(default)]
    cases: Vec<std::collections::BTreeMap<String, serde_yaml::Value>>,
    template: String,
}

fn scalar(v: &serde_yaml::Value) -> String {
    match v {
        serde_yaml::Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

/// Expands a family file into (name, scenario text) pairs; `None` for an ordinary scenario.
fn expand_family(file: &str, text: &str) -> Result<Option<Vec<(String, String)>>, LoadError> {
    let is_family = serde_yaml::from_str::<serde_yaml::Mapping>(text)
        .is_ok_and(|m| m.contains_key("family") && m.contains_key("template"));
    if !is_family {
        return Ok(None);
    }
    let error = |line: Option<usize>, column: Option<usize>, message: String| LoadError {
        file: file.to_owned(),
        line,
        column,
        message,
    };
    let family: Family = serde_yaml::from_str(text).map_err(|e| {
        let loc = e.location();
        error(
            loc.as_ref().map(|l| l.line()),
            loc.as_ref().map(|l| l.column()),
            e.to_string(),
        )
    })?;
    // The cartesian product of the matrix, then the explicit rows.
    let mut rows: Vec<Vec<(String, String)>> = vec![Vec::new()];
    if !family.matrix.is_empty() {
        for (name, values) in &family.matrix {
            let mut next = Vec::with_capacity(rows.len() * values.len());
            for row in &rows {
                for v in values {
                    let mut r = row.clone();
                    r.push((name.clone(), scalar(v)));
                    next.push(r);
                }
            }
            rows = next;
            if rows.len() > FAMILY_LIMIT {
                return Err(error(
                    None,
                    None,
                    format!(
                        "family {} expands to more than {FAMILY_LIMIT} scenarios",
                        family.family
                    ),
                ));
            }
        }
    } else {
        rows.clear();
    }
    rows.extend(
        family
            .cases
            .iter()
            .map(|c| c.iter().map(|(k, v)| (k.clone(), scalar(v))).collect()),
    );
    if rows.is_empty() {
        return Err(error(
            None,
            None,
            format!("family {}: give `matrix` or `cases`", family.family),
        ));
    }
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let mut text = family.template.clone();
        for (name, value) in row {
            text = text.replace(&format!("{{{{{name}}}}}"), value);
        }
        if let Some(start) = text.find("{{") {
            let end = text[start..]
                .find("}}")
                .map_or(text.len(), |e| start + e + 2);
            return Err(error(
                None,
                None,
                format!(
                    "family {}: `{}` has no value in row {}",
                    family.family,
                    &text[start..end],
                    i + 1
                ),
            ));
        }
        let values: Vec<String> = row.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out.push((format!("{file} [{}]", values.join(", ")), text));
    }
    Ok(Some(out))
}

/// Parses and checks one scenario file.
pub fn load_str(file: &str, text: &str) -> Result<Scenario, LoadError> {
    let mut scenario: Scenario = serde_yaml::from_str(text).map_err(|e| {
        let loc = e.location();
        LoadError {
            file: file.to_owned(),
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
            message: e.to_string(),
        }
    })?;
    scenario.source = file.to_owned();
    scenario.text = text.to_owned();
    check(&scenario).map_err(|message| LoadError {
        file: file.to_owned(),
        line: None,
        column: None,
        message,
    })?;
    Ok(scenario)
}

fn check(s: &Scenario) -> Result<(), String> {
    let id_ok = !s.id.is_empty()
        && s.id.split('/').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        });
    if !id_ok {
        return Err(format!(
            "id `{}`: use path segments of letters, digits, `-`, `_` and `.`",
            s.id
        ));
    }
    if s.versions.is_empty() {
        return Err("versions: name at least one of 3.1.1 and 5.0".into());
    }
    if s.steps.is_empty() {
        return Err("steps: a scenario needs at least one step".into());
    }
    // Every statement must exist in the spec of each version it is cited for.
    if let Statements::PerVersion(map) = &s.statements {
        for v in map.keys() {
            if !s.versions.contains(v) {
                return Err(format!("statements for {v}, which is not in versions"));
            }
        }
    }
    for &v in &s.versions {
        let ids = s.statements.for_version(v);
        if ids.is_empty() {
            return Err(format!("statements: none for {v}"));
        }
        for id in ids {
            if spec::statement(v.spec(), id).is_none() {
                return Err(format!("statement {id} is not a statement of MQTT {v}"));
            }
        }
    }
    for (i, step) in s.steps.iter().enumerate() {
        let at = |msg: String| format!("step {} ({}): {msg}", i + 1, step.kind());
        if let Some(only) = step.only()
            && only.iter().any(|v| !s.versions.contains(v))
        {
            return Err(at(
                "`only` names a version the scenario does not apply to".into()
            ));
        }
        if let Some(id) = step.statement()
            && !s
                .versions
                .iter()
                .any(|v| spec::statement(v.spec(), id).is_some())
        {
            return Err(at(format!("statement {id} is not in the spec")));
        }
        match step {
            Step::Send(send) => {
                if send.forms() != 1 {
                    return Err(at(
                        "give exactly one packet (publish, subscribe, …) or `hex`".into(),
                    ));
                }
                if send.repeat.is_some_and(|n| n == 0 || n > 100_000) {
                    return Err(at("repeat must be 1..=100000".into()));
                }
            }
            Step::Expect(e) => {
                let alternatives = e.alternatives();
                if alternatives.is_empty() {
                    return Err(at("name the packet expected, or `one_of`".into()));
                }
                for alt in &alternatives {
                    check_alternative(alt).map_err(at)?;
                }
            }
            Step::ExpectAll(e) => {
                let sets = e.sets();
                if sets.is_empty() || sets.iter().any(|set| set.packets.is_empty()) {
                    return Err(at(
                        "give the `packets` expected (and `optional` ones), or `one_of` sets of them"
                            .into(),
                    ));
                }
                if sets
                    .iter()
                    .any(|set| set.packets.len() + set.optional.len() > 16)
                {
                    return Err(at("at most 16 packets in a set".into()));
                }
                for alt in sets
                    .iter()
                    .flat_map(|set| set.packets.iter().chain(&set.optional))
                {
                    if alt.contains_key("closed") {
                        return Err(at("`closed` has no place in expect_all".into()));
                    }
                    check_alternative(alt).map_err(at)?;
                }
            }
            Step::Connect(c) => {
                if let Some(serde_yaml::Value::Mapping(m)) = &c.expect {
                    check_alternative(m).map_err(at)?;
                }
            }
            _ => {}
        }
        let client = match step {
            Step::Connect(c) => Some(&c.client),
            Step::Send(c) => Some(&c.client),
            Step::Expect(c) => Some(&c.client),
            Step::ExpectAll(c) => Some(&c.client),
            Step::ExpectClosed(c) => Some(&c.client),
            Step::ExpectNothing(c) => Some(&c.client),
            Step::ExpectValid(c) => Some(&c.client),
            Step::Disconnect(c) => Some(&c.client),
            Step::Drop(c) => Some(&c.client),
            Step::Wait(_) | Step::SkipUnless(_) | Step::ExpectAlive(_) => None,
        };
        if let Some(name) = client
            && (name.is_empty()
                || name.len() > 8
                || !name.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err(at(format!("client `{name}`: 1 to 8 letters or digits")));
        }
    }
    Ok(())
}

/// One expected alternative: `{kind: {fields}}` with known kind and fields, or `closed: {}`.
fn check_alternative(alt: &serde_yaml::Mapping) -> Result<(), String> {
    if alt.len() != 1 {
        return Err("each alternative names one packet kind (or `closed`)".into());
    }
    let Some((kind, fields)) = alt.iter().next() else {
        return Ok(());
    };
    let kind = kind.as_str().unwrap_or_default();
    if kind == "closed" {
        return Ok(());
    }
    let known =
        known_fields(kind).ok_or_else(|| format!("`{kind}` is not a packet a broker sends"))?;
    if let serde_yaml::Value::Mapping(m) = fields {
        for key in m.keys() {
            let key = key.as_str().unwrap_or_default();
            if !known.contains(&key) {
                return Err(format!(
                    "`{kind}` has no field `{key}` (known: {})",
                    known.join(", ")
                ));
            }
        }
    } else if !fields.is_null() {
        return Err(format!("`{kind}`: give a mapping of fields"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id: publish/qos1/puback
title: QoS 1 PUBLISH is acknowledged
statements: [MQTT-3.3.4-1]
versions: ["3.1.1", "5.0"]
steps:
  - connect: {client: a}
  - send: {client: a, publish: {topic: "{prefix}/t", qos: 1, packet_id: 7}}
  - expect: {client: a, puback: {packet_id: 7}}
"#;

    #[test]
    fn loads_a_valid_scenario() {
        let s = load_str("good.yaml", GOOD).expect("valid");
        assert_eq!(s.id, "publish/qos1/puback");
        assert_eq!(s.steps.len(), 3);
    }

    #[test]
    fn unknown_fields_are_errors_with_line_and_column() {
        let bad = GOOD.replace("qos: 1, packet_id", "qos: 1, packet_idd");
        let e = load_str("bad.yaml", &bad).unwrap_err();
        assert_eq!(e.line, Some(8), "{e}");
        assert!(e.column.is_some());
        assert!(e.message.contains("packet_idd"), "{e}");
        assert!(e.to_string().starts_with("bad.yaml:8:"), "{e}");
    }

    #[test]
    fn unknown_statement_ids_are_errors() {
        let bad = GOOD.replace("MQTT-3.3.4-1", &format!("MQTT-{}", "3.3.4-99"));
        let e = load_str("bad.yaml", &bad).unwrap_err();
        assert!(e.message.contains("is not a statement of MQTT"), "{e}");
    }

    #[test]
    fn statements_must_exist_in_each_version() {
        // MQTT-4.13.1-1 exists only in 5.0.
        let bad = GOOD.replace("MQTT-3.3.4-1", "MQTT-4.13.1-1");
        assert!(load_str("bad.yaml", &bad).is_err());
    }

    #[test]
    fn pattern_fields_are_checked() {
        let bad = GOOD.replace("puback: {packet_id: 7}", "puback: {packet_idx: 7}");
        let e = load_str("bad.yaml", &bad).unwrap_err();
        assert!(e.message.contains("no field `packet_idx`"), "{e}");
        let bad = GOOD.replace("puback: {packet_id: 7}", "one_of: [{pubfoo: {}}]");
        assert!(load_str("bad.yaml", &bad).is_err());
    }

    #[test]
    fn send_needs_exactly_one_packet() {
        let bad = GOOD.replace(
            "qos: 1, packet_id: 7}}",
            "qos: 1, packet_id: 7}, hex: \"c0 00\"}",
        );
        let e = load_str("bad.yaml", &bad).unwrap_err();
        assert!(e.message.contains("exactly one packet"), "{e}");
    }

    #[test]
    fn families_expand_to_one_scenario_per_row() {
        let family = r#"
family: ping
matrix:
  n: [1, 2]
  kind: [a, b]
cases:
  - {n: 9, kind: z}
template: |
  id: ping/{{kind}}/{{n}}
  title: PINGREQ gets PINGRESP
  statements: [MQTT-3.12.4-1]
  versions: ["3.1.1"]
  steps:
    - connect: {client: a}
    - send: {client: a, pingreq: {}}
    - expect: {client: a, pingresp: {}}
"#;
        let catalog = Catalog::from_sources([("f.yaml", family)]).expect("expands");
        let ids: Vec<_> = catalog.scenarios.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            ["ping/a/1", "ping/a/2", "ping/b/1", "ping/b/2", "ping/z/9"]
        );
    }

    #[test]
    fn family_errors_name_the_row() {
        let family = "family: x\ncases: [{a: 1}]\ntemplate: |\n  id: x/{{a}}/{{b}}\n";
        let e = Catalog::from_sources([("f.yaml", family)]).unwrap_err();
        assert!(
            e[0].message.contains("`{{b}}` has no value in row 1"),
            "{e:?}"
        );
        let bad_member = "family: x\ncases: [{a: 1}]\ntemplate: |\n  id: x/{{a}}\n  titel: typo\n";
        let e = Catalog::from_sources([("f.yaml", bad_member)]).unwrap_err();
        assert!(e[0].file.contains("f.yaml [a=1]"), "{e:?}");
    }

    #[test]
    fn duplicate_ids_are_errors() {
        let e = Catalog::from_sources([("a.yaml", GOOD), ("b.yaml", GOOD)]).unwrap_err();
        assert!(e[0].message.contains("duplicate"), "{e:?}");
    }
}
