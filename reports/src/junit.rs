//! JUnit XML (the Jenkins/Ant `testsuites/testsuite/testcase` form) for CI dashboards.
//!
//! - One `testsuite` per protocol version and spec section, named like `MQTT 5.0 §3.3`: the
//!   section of a case is that of its first statement (`MQTT-3.3.1-4` → 3.3).
//! - One `testcase` per case, named `id [protocol]` (`publish/qos1/puback [5.0]`), with the
//!   directories of the id as classname (`publish.qos1`).
//! - `fail` → `failure` (message, expected vs actual, the statement(s)); `warn` → `failure`
//!   only under `--strict`, otherwise a passing test with a `system-out` note; `timeout` and
//!   `error` → `error`; `skipped` → `skipped` with the reason. Cases that did not pass carry
//!   their wire transcript in `system-out`.
//!
//! Everything is escaped; characters XML 1.0 cannot carry (controls from the broker's bytes)
//! are written as visible `\xNN` escapes. `reports/schema/junit.xsd` describes the form, and a
//! test validates the output against it.

use std::fmt::Write as _;
use std::io;

use crate::common::{
    self, fmt_offset, junit_timestamp, section_label, statement, statement_ids, visible_controls,
};
use crate::model::{CaseResult, Direction, Outcome, RunResults};

pub fn write(results: &RunResults, out: &mut impl io::Write) -> io::Result<()> {
    out.write_all(render(results).as_bytes())
}

/// Counts as JUnit sees them.
#[derive(Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    time_ms: u64,
}

impl Counts {
    fn of<'a>(cases: impl IntoIterator<Item = &'a CaseResult>, strict: bool) -> Counts {
        let mut c = Counts::default();
        for case in cases {
            c.tests += 1;
            c.time_ms += case.duration_ms;
            match case.outcome {
                Outcome::Fail => c.failures += 1,
                Outcome::Warn if strict => c.failures += 1,
                Outcome::Error | Outcome::Timeout => c.errors += 1,
                Outcome::Skipped => c.skipped += 1,
                Outcome::Pass | Outcome::Warn => {}
            }
        }
        c
    }
}

fn render(results: &RunResults) -> String {
    let strict = results.strict;
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let all = Counts::of(&results.cases, strict);
    let _ = writeln!(
        x,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
        attr(&format!(
            "{} {} — {}",
            results.tool.name,
            results.tool.version,
            common::run_label(results)
        )),
        all.tests,
        all.failures,
        all.errors,
        all.skipped,
        // The run's wall time, not the sum of the cases: cases may overlap.
        seconds(results.duration_ms),
    );
    let timestamp = junit_timestamp(&results.started_at);
    for (id, ((protocol, section), cases)) in common::by_section(results).into_iter().enumerate() {
        let c = Counts::of(cases.iter().copied(), strict);
        let name = if section == "other" {
            format!("MQTT {protocol} (no statement)")
        } else {
            format!("MQTT {protocol} §{section}")
        };
        let _ = write!(
            x,
            "  <testsuite name=\"{}\" id=\"{id}\" package=\"mqttspec\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\"",
            attr(&name),
            c.tests,
            c.failures,
            c.errors,
            c.skipped,
            seconds(c.time_ms),
        );
        if let Some(ts) = &timestamp {
            let _ = write!(x, " timestamp=\"{ts}\"");
        }
        if !results.broker.address.is_empty() {
            let _ = write!(x, " hostname=\"{}\"", attr(&results.broker.address));
        }
        x.push_str(">\n");
        x.push_str("    <properties>\n");
        let props: [(&str, String); 8] = [
            ("mqtt.protocol", protocol.clone()),
            ("mqtt.section", section_label(&protocol, &section)),
            ("broker.address", results.broker.address.clone()),
            ("broker.launcher", results.broker.launcher.clone()),
            (
                "tool",
                format!("{} {}", results.tool.name, results.tool.version),
            ),
            ("started_at", results.started_at.clone()),
            ("strict", results.strict.to_string()),
            ("schema_version", results.schema_version.to_string()),
        ];
        for (name, value) in props {
            let _ = writeln!(
                x,
                "      <property name=\"{}\" value=\"{}\"/>",
                attr(name),
                attr(&value)
            );
        }
        x.push_str("    </properties>\n");
        for case in cases {
            testcase(&mut x, case, strict);
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

fn testcase(x: &mut String, case: &CaseResult, strict: bool) {
    let name = format!("{} [{}]", case.id, case.protocol);
    let classname = match case.id.rsplit_once('/') {
        Some((dirs, _)) => dirs.replace('/', "."),
        None => case.id.clone(),
    };
    let classname = if classname.trim().is_empty() {
        "mqttspec".to_owned()
    } else {
        classname
    };
    let _ = write!(
        x,
        "    <testcase name=\"{}\" classname=\"{}\" time=\"{}\"",
        attr(&name),
        attr(&classname),
        seconds(case.duration_ms)
    );
    let mut children: Vec<String> = Vec::new();
    let mut system_out = String::new();
    match case.outcome {
        Outcome::Pass => {}
        Outcome::Warn if !strict => {
            system_out = format!(
                "WARN (a SHOULD was not met; not counted as a failure without --strict)\n{}",
                details(case)
            );
        }
        Outcome::Skipped => {
            let reason = case.message.as_deref().unwrap_or("skipped");
            children.push(format!("<skipped message=\"{}\"/>", attr(reason)));
        }
        outcome => {
            let (element, kind) = match outcome {
                Outcome::Timeout => ("error", "timeout"),
                Outcome::Error => ("error", "error"),
                Outcome::Warn => ("failure", "warn"),
                _ => ("failure", "fail"),
            };
            let message = case
                .message
                .clone()
                .unwrap_or_else(|| format!("{kind} without a message"));
            children.push(format!(
                "<{element} message=\"{}\" type=\"{kind}\">{}</{element}>",
                attr(&message),
                text(&details(case))
            ));
        }
    }
    if case.outcome != Outcome::Pass && case.outcome != Outcome::Skipped {
        let transcript = transcript_text(case);
        if !transcript.is_empty() {
            if !system_out.is_empty() {
                system_out.push('\n');
            }
            system_out.push_str(&transcript);
        }
    }
    if !system_out.is_empty() {
        children.push(format!("<system-out>{}</system-out>", text(&system_out)));
    }
    if children.is_empty() {
        x.push_str("/>\n");
    } else {
        x.push_str(">\n");
        for child in children {
            let _ = writeln!(x, "      {child}");
        }
        x.push_str("    </testcase>\n");
    }
}

/// The body of a failure: what broke, where, and what was expected and seen.
fn details(case: &CaseResult) -> String {
    let mut d = String::new();
    let _ = writeln!(d, "{} [MQTT {}]: {}", case.id, case.protocol, case.title);
    if let Some(m) = &case.message {
        let _ = writeln!(d, "Message:   {m}");
    }
    if let Some(id) = &case.failed_statement {
        match statement(&case.protocol, id) {
            Some(s) => {
                let _ = writeln!(
                    d,
                    "Statement: {id} (MQTT {}, §{} {}): {}",
                    case.protocol, s.section, s.title, s.text
                );
            }
            None => {
                let _ = writeln!(d, "Statement: {id} (MQTT {})", case.protocol);
            }
        }
    }
    if !case.statements.is_empty() {
        let _ = writeln!(d, "Tests:     {}", statement_ids(case));
    }
    if let Some(step) = case.step {
        let _ = writeln!(d, "Step:      {step}");
    }
    if let Some(e) = &case.expected {
        let _ = writeln!(d, "Expected:  {e}");
    }
    if let Some(a) = &case.actual {
        let _ = writeln!(d, "Actual:    {a}");
    }
    if !case.tags.is_empty() {
        let _ = writeln!(d, "Tags:      {}", case.tags.join(", "));
    }
    d
}

/// The wire transcript as text: offset, client, direction, decoded, hex.
fn transcript_text(case: &CaseResult) -> String {
    if case.transcript.is_empty() {
        return String::new();
    }
    let mut t = String::from("Transcript (ms since the case started):\n");
    for e in &case.transcript {
        let arrow = match e.direction {
            Direction::Sent => "->",
            Direction::Received => "<-",
            Direction::Event => "**",
        };
        let _ = writeln!(
            t,
            "{:>10}  {} {arrow} {}",
            fmt_offset(e.offset_ms),
            single_line(&e.client),
            single_line(&e.decoded)
        );
        if !e.hex.is_empty() {
            let _ = writeln!(t, "{:>10}  {}", "", e.hex);
        }
    }
    t
}

/// Keeps a transcript entry on one line: line breaks inside show as `\n` / `\r`.
fn single_line(s: &str) -> String {
    s.replace('\r', "\\r").replace('\n', "\\n")
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Escapes character data.
fn text(s: &str) -> String {
    escape(s, false)
}

/// Escapes an attribute value (quoted with `"`), keeping tabs and line breaks as references
/// so attribute-value normalisation does not eat them.
fn attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, attribute: bool) -> String {
    let s = visible_controls(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' if attribute => out.push_str("&#10;"),
            // A bare CR is normalised away by every parser, in text as well.
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(text("a<b>&c\"d"), "a&lt;b&gt;&amp;c\"d");
        assert_eq!(attr("a\"b\nc\td"), "a&quot;b&#10;c&#9;d");
        assert_eq!(text("x\u{0}y\u{1b}\r"), "x\\x00y\\x1b&#13;");
        assert_eq!(text("]]>"), "]]&gt;");
    }
}
