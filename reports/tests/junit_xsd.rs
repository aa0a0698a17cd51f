//! The JUnit output validates against `reports/schema/junit.xsd` (with libxml2's `xmllint`;
//! no well-kept pure-Rust XSD validator exists). Without `xmllint` the tests skip, printing
//! why, unless `CI` is set: then they fail.

mod fixture;

use std::path::{Path, PathBuf};
use std::process::Command;

use mqttspec_report::{Outcome, RunResults, junit};

const INSTALL: &str = "apt-get install -y libxml2-utils";

fn schema() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/junit.xsd")
}

/// Runs `xmllint --schema` on `xml`; `Ok` or xmllint's complaint.
fn validate(dir: &Path, name: &str, xml: &[u8]) -> Result<(), String> {
    let file = dir.join(name);
    std::fs::write(&file, xml).unwrap();
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--nonet")
        .arg("--schema")
        .arg(schema())
        .arg(&file)
        .output()
        .expect("run xmllint");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn render(r: &RunResults) -> Vec<u8> {
    let mut out = Vec::new();
    junit::write(r, &mut out).unwrap();
    out
}

fn attr_sum(xml: &str, element: &str, attr: &str) -> usize {
    let needle = format!(" {attr}=\"");
    xml.match_indices(&format!("<{element} "))
        .map(|(i, _)| {
            let tag = &xml[i..i + xml[i..].find('>').unwrap()];
            let at = tag.find(&needle).unwrap() + needle.len();
            tag[at..at + tag[at..].find('"').unwrap()]
                .parse::<usize>()
                .unwrap()
        })
        .sum()
}

#[test]
fn fixture_validates_against_the_xsd() {
    if !fixture::require_tool("xmllint", INSTALL) {
        return;
    }
    let dir = fixture::scratch("junit-xsd");
    for strict in [false, true] {
        let mut r = fixture::results();
        r.strict = strict;
        let xml = render(&r);
        validate(&dir, &format!("junit-{strict}.xml"), &xml)
            .unwrap_or_else(|e| panic!("strict={strict}: invalid JUnit XML:\n{e}"));

        // The counts agree with the cases.
        let xml = String::from_utf8(xml).unwrap();
        let tests = xml.matches("<testcase ").count();
        assert_eq!(tests, r.cases.len());
        assert_eq!(attr_sum(&xml, "testsuite", "tests"), tests);
        let failures = xml.matches("<failure ").count();
        let expected_failures = r.summary.fail + if strict { r.summary.warn } else { 0 };
        assert_eq!(failures, expected_failures);
        assert_eq!(attr_sum(&xml, "testsuite", "failures"), failures);
        assert_eq!(attr_sum(&xml, "testsuites", "failures"), failures);
        let errors = xml.matches("<error ").count();
        assert_eq!(errors, r.summary.error + r.summary.timeout);
        assert_eq!(attr_sum(&xml, "testsuite", "errors"), errors);
        let skipped = xml.matches("<skipped ").count();
        assert_eq!(skipped, r.summary.skipped);
        assert_eq!(attr_sum(&xml, "testsuite", "skipped"), skipped);
    }
}

/// Every byte value a broker could send ends up as valid XML.
#[test]
fn hostile_text_validates() {
    if !fixture::require_tool("xmllint", INSTALL) {
        return;
    }
    let mut r = fixture::results();
    let nasty: String = (0u32..0x100)
        .filter_map(char::from_u32)
        .chain(['\u{fffe}', '\u{ffff}', '\u{2028}', '\u{1f600}'])
        .collect::<String>()
        + "]]><![CDATA[</failure>\"'&amp;";
    for c in &mut r.cases {
        c.id = format!("odd/{nasty}");
        c.title = nasty.clone();
        c.message = Some(nasty.clone());
        c.expected = Some(nasty.clone());
        c.actual = Some(nasty.clone());
        c.tags.push(nasty.clone());
        for e in &mut c.transcript {
            e.client = nasty.clone();
            e.decoded = nasty.clone();
        }
        if c.outcome == Outcome::Pass {
            c.outcome = Outcome::Fail;
        }
    }
    r.broker.address = nasty.clone();
    r.started_at = nasty.clone();
    let dir = fixture::scratch("junit-hostile");
    validate(&dir, "junit.xml", &render(&r)).unwrap_or_else(|e| panic!("invalid JUnit XML:\n{e}"));
}

/// The schema is enforced: documents that break it are refused.
#[test]
fn the_xsd_rejects_what_it_should() {
    if !fixture::require_tool("xmllint", INSTALL) {
        return;
    }
    let dir = fixture::scratch("junit-xsd-negative");
    let bad = [
        // A testcase without a name.
        r#"<testsuites><testsuite name="s" tests="1"><testcase classname="c"/></testsuite></testsuites>"#,
        // Two verdicts for one testcase.
        r#"<testsuites><testsuite name="s" tests="1"><testcase name="t"><failure message="a"/><error message="b"/></testcase></testsuite></testsuites>"#,
        // A negative time.
        r#"<testsuites><testsuite name="s" tests="1" time="-1"><testcase name="t"/></testsuite></testsuites>"#,
        // A testsuite without a test count.
        r#"<testsuites><testsuite name="s"><testcase name="t"/></testsuite></testsuites>"#,
        // An unknown element.
        r#"<testsuites><testsuite name="s" tests="1"><testcase name="t"><flaky/></testcase></testsuite></testsuites>"#,
        // A timestamp with a zone (Ant's form has none).
        r#"<testsuites><testsuite name="s" tests="0" timestamp="2025-03-01T14:05:09Z"/></testsuites>"#,
    ];
    for (i, doc) in bad.iter().enumerate() {
        assert!(
            validate(&dir, &format!("bad-{i}.xml"), doc.as_bytes()).is_err(),
            "accepted: {doc}"
        );
    }
    let good = r#"<testsuites><testsuite name="s" tests="2" timestamp="2025-03-01T14:05:09"><properties><property name="a" value=""/></properties><testcase name="t" classname="c" time="0.5"><skipped message="why"/></testcase><testcase name="u"><system-out>x</system-out></testcase><system-out/></testsuite></testsuites>"#;
    validate(&dir, "good.xml", good.as_bytes()).expect("a plain valid document");
}
