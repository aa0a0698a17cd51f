//! What the renderers share: spec sections, statement look-ups, grouping, formatting, and
//! making broker-supplied text safe to show.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::Write as _;

use mqttspec_codec::spec::{self, SpecVersion, Statement};

use crate::model::{CaseResult, Outcome, RunResults, Summary};

/// Every outcome, in the order reports list them.
pub(crate) const OUTCOMES: [Outcome; 6] = [
    Outcome::Pass,
    Outcome::Fail,
    Outcome::Warn,
    Outcome::Timeout,
    Outcome::Error,
    Outcome::Skipped,
];

/// Human label of an outcome.
pub(crate) fn outcome_label(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "Pass",
        Outcome::Fail => "Fail",
        Outcome::Warn => "Warn",
        Outcome::Skipped => "Skipped",
        Outcome::Error => "Error",
        Outcome::Timeout => "Timeout",
    }
}

/// How bad an outcome is, for folding several into one verdict (higher is worse).
pub(crate) fn severity(o: Outcome) -> u8 {
    match o {
        Outcome::Skipped => 0,
        Outcome::Pass => 1,
        Outcome::Warn => 2,
        Outcome::Error => 3,
        Outcome::Timeout => 4,
        Outcome::Fail => 5,
    }
}

pub(crate) fn count(s: &Summary, o: Outcome) -> usize {
    match o {
        Outcome::Pass => s.pass,
        Outcome::Fail => s.fail,
        Outcome::Warn => s.warn,
        Outcome::Skipped => s.skipped,
        Outcome::Error => s.error,
        Outcome::Timeout => s.timeout,
    }
}

/// Whether an outcome counts against the broker in this run (`warn` only under `--strict`).
pub(crate) fn is_failure(o: Outcome, strict: bool) -> bool {
    match o {
        Outcome::Fail | Outcome::Timeout => true,
        Outcome::Warn => strict,
        _ => false,
    }
}

/// Passed share of the cases that ran (skipped ones left out), in percent.
pub(crate) fn pass_rate(s: &Summary) -> Option<f64> {
    let ran = s.total - s.skipped;
    (ran > 0).then(|| s.pass as f64 * 100.0 / ran as f64)
}

pub(crate) fn fmt_rate(rate: Option<f64>) -> String {
    match rate {
        None => "–".to_owned(),
        Some(r) if r >= 100.0 => "100%".to_owned(),
        // Never round a run with failures up to 100%.
        Some(r) if r > 99.9 => "99.9%".to_owned(),
        Some(r) => format!("{r:.1}%"),
    }
}

/// The spec version a `3.1.1` / `5.0` string names.
pub(crate) fn spec_version(protocol: &str) -> Option<SpecVersion> {
    match protocol {
        "3.1.1" | "3.1" | "4" => Some(SpecVersion::V3_1_1),
        "5.0" | "5" => Some(SpecVersion::V5_0),
        _ => None,
    }
}

/// The statement `id` of the spec `protocol` from the codec's manifest.
pub(crate) fn statement(protocol: &str, id: &str) -> Option<&'static Statement> {
    spec::statement(spec_version(protocol)?, id)
}

/// The two-level spec section a statement id sits in: `MQTT-3.3.1-4` → `3.3`,
/// `MQTT-4.2-1` → `4.2`, `MQTT-6.0.0-1` → `6`.
pub(crate) fn section_of_statement(id: &str) -> Option<String> {
    let id = spec::canonical_id(id);
    let rest = id.strip_prefix("MQTT-")?;
    let numbers = rest.split('-').next()?;
    let mut parts = numbers.split('.');
    let chapter = parts.next().filter(|p| is_number(p))?;
    match parts.next().filter(|p| is_number(p)) {
        Some("0") | None => Some(chapter.to_owned()),
        Some(section) => Some(format!("{chapter}.{section}")),
    }
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The section a case belongs to: that of its first statement (`None` without statements).
pub(crate) fn section_of_case(case: &CaseResult) -> Option<String> {
    case.statements
        .first()
        .and_then(|s| section_of_statement(&s.id))
}

/// Key for a case's section in filters and data attributes (`other` without statements).
pub(crate) fn section_key(case: &CaseResult) -> String {
    section_of_case(case).unwrap_or_else(|| "other".to_owned())
}

/// Numeric order of section numbers (`3.10` after `3.9`); `other` last.
pub(crate) fn cmp_sections(a: &str, b: &str) -> Ordering {
    fn key(s: &str) -> Vec<u32> {
        if s == "other" {
            return vec![u32::MAX];
        }
        s.split('.')
            .map(|p| p.parse().unwrap_or(u32::MAX))
            .collect()
    }
    key(a).cmp(&key(b)).then_with(|| a.cmp(b))
}

/// Numeric order of protocol versions (`3.1.1` before `5.0`).
pub(crate) fn cmp_protocols(a: &str, b: &str) -> Ordering {
    fn key(s: &str) -> Vec<u32> {
        s.split('.')
            .map(|p| p.parse().unwrap_or(u32::MAX))
            .collect()
    }
    key(a).cmp(&key(b)).then_with(|| a.cmp(b))
}

/// The heading of a two-level section of a spec version (chapter 3: the packet).
pub(crate) fn section_title(protocol: &str, section: &str) -> Option<&'static str> {
    let v5 = spec_version(protocol) == Some(SpecVersion::V5_0);
    Some(match section {
        "1" => "Introduction",
        "1.5" if v5 => "Data representation",
        "1.5" => "Data representations",
        "2" => "MQTT Control Packet format",
        "2.1" if v5 => "Structure of an MQTT Control Packet",
        "2.1" => "Structure of an MQTT Control Packet",
        "2.2" if v5 => "Variable Header",
        "2.2" => "Fixed header",
        "2.3" if v5 => "Payload",
        "2.3" => "Variable header",
        "2.4" if v5 => "Reason Code",
        "2.4" => "Payload",
        "3.1" => "CONNECT",
        "3.2" => "CONNACK",
        "3.3" => "PUBLISH",
        "3.4" => "PUBACK",
        "3.5" => "PUBREC",
        "3.6" => "PUBREL",
        "3.7" => "PUBCOMP",
        "3.8" => "SUBSCRIBE",
        "3.9" => "SUBACK",
        "3.10" => "UNSUBSCRIBE",
        "3.11" => "UNSUBACK",
        "3.12" => "PINGREQ",
        "3.13" => "PINGRESP",
        "3.14" => "DISCONNECT",
        "3.15" if v5 => "AUTH",
        "4.1" if v5 => "Session State",
        "4.1" => "Storing state",
        "4.2" => "Network Connections",
        "4.3" => "Quality of Service levels and protocol flows",
        "4.4" => "Message delivery retry",
        "4.5" => "Message receipt",
        "4.6" => "Message ordering",
        "4.7" => "Topic Names and Topic Filters",
        "4.8" if v5 => "Subscriptions",
        "4.8" => "Handling errors",
        "4.9" if v5 => "Flow Control",
        "4.10" if v5 => "Request / Response",
        "4.11" if v5 => "Server redirection",
        "4.12" if v5 => "Enhanced authentication",
        "4.13" if v5 => "Handling errors",
        "5" => "Security",
        "6" => "Using WebSocket as a network transport",
        "7" => "Conformance",
        "7.1" => "Conformance targets",
        _ => return None,
    })
}

/// `§3.3 PUBLISH`, or `No statement` for cases that cite none.
pub(crate) fn section_label(protocol: &str, section: &str) -> String {
    if section == "other" {
        return "No statement".to_owned();
    }
    match section_title(protocol, section) {
        Some(title) => format!("§{section} {title}"),
        None => format!("§{section}"),
    }
}

/// The protocol versions a run covers, in version order.
pub(crate) fn protocols<'a>(cases: impl IntoIterator<Item = &'a CaseResult>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for case in cases {
        if !out.contains(&case.protocol) {
            out.push(case.protocol.clone());
        }
    }
    out.sort_by(|a, b| cmp_protocols(a, b));
    out
}

/// Cases grouped by (protocol, section), in version then section order; within a group, run
/// order.
pub(crate) fn by_section(results: &RunResults) -> Vec<((String, String), Vec<&CaseResult>)> {
    let mut groups: Vec<((String, String), Vec<&CaseResult>)> = Vec::new();
    for case in &results.cases {
        let key = (case.protocol.clone(), section_key(case));
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, cases)) => cases.push(case),
            None => groups.push((key, vec![case])),
        }
    }
    groups
        .sort_by(|(a, _), (b, _)| cmp_protocols(&a.0, &b.0).then_with(|| cmp_sections(&a.1, &b.1)));
    groups
}

/// Whether a tag names a CVE (`CVE-2017-7650`).
pub(crate) fn is_cve(tag: &str) -> bool {
    tag.len() > 4 && tag[..4].eq_ignore_ascii_case("CVE-")
}

/// `842 ms`, `12.3 s`, `4 min 05 s`, `1 h 02 min`.
pub(crate) fn fmt_duration_ms(ms: u64) -> String {
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1_000.0)
    } else if ms < 3_600_000 {
        format!("{} min {:02} s", ms / 60_000, (ms % 60_000) / 1_000)
    } else {
        format!("{} h {:02} min", ms / 3_600_000, (ms % 3_600_000) / 60_000)
    }
}

/// A transcript offset, milliseconds with three decimals.
pub(crate) fn fmt_offset(ms: f64) -> String {
    if ms.is_finite() {
        format!("{ms:.3}")
    } else {
        "?".to_owned()
    }
}

/// An RFC 3339 time as `2025-03-01 14:05:09 UTC` (shown as given when it does not parse).
pub(crate) fn fmt_time(rfc3339: &str) -> String {
    match split_rfc3339(rfc3339) {
        Some((date, time, zone)) => {
            let zone = if zone == "Z" || zone == "+00:00" {
                "UTC"
            } else {
                zone
            };
            format!("{date} {time} {zone}")
        }
        None => rfc3339.to_owned(),
    }
}

/// `2025-03-01T14:05:09` (no fraction, no zone), what Ant-style JUnit timestamps take; `None`
/// when the input is not RFC 3339.
pub(crate) fn junit_timestamp(rfc3339: &str) -> Option<String> {
    let (date, time, _) = split_rfc3339(rfc3339)?;
    Some(format!("{date}T{time}"))
}

fn split_rfc3339(s: &str) -> Option<(&str, &str, &str)> {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let ok = s.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't' | b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !ok {
        return None;
    }
    let mut zone = &s[19..];
    if let Some(frac) = zone.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        zone = &frac[n..];
    }
    let valid_zone = zone == "Z"
        || zone == "z"
        || (zone.len() == 6
            && matches!(zone.as_bytes()[0], b'+' | b'-')
            && zone.as_bytes()[3] == b':');
    valid_zone.then(|| (&s[0..10], &s[11..19], if zone == "z" { "Z" } else { zone }))
}

/// Replaces the characters that XML 1.0 cannot carry at all, and the ones that would show as
/// nothing or garble a terminal or a page (C0 and C1 controls other than tab, newline and
/// carriage return, DEL, U+FFFE, U+FFFF), by a visible `\xNN` / `\u{XXXX}` escape.
pub(crate) fn visible_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hidden_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hidden_control(c) {
            push_control_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

pub(crate) fn is_hidden_control(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}')
}

pub(crate) fn push_control_escape(out: &mut String, c: char) {
    let code = c as u32;
    if code < 0x100 {
        let _ = write!(out, "\\x{code:02x}");
    } else {
        let _ = write!(out, "\\u{{{code:04x}}}");
    }
}

/// One line of at most `max` characters: whitespace runs (newlines too) collapse to one space,
/// hidden controls become visible escapes, and a cut ends in `…`.
pub(crate) fn one_line(s: &str, max: usize) -> String {
    let s = visible_controls(s);
    let mut out = String::new();
    let mut n = 0;
    let mut space = false;
    for c in s.trim().chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space {
            out.push(' ');
            n += 1;
            space = false;
        }
        if n >= max {
            out.push('…');
            return out;
        }
        out.push(c);
        n += 1;
    }
    out
}

/// The label of a run in a matrix: the broker's address, or `reference broker` for the
/// embedded one.
pub(crate) fn run_label(results: &RunResults) -> String {
    if results.broker.launcher == "embedded" {
        if results.broker.address.is_empty() {
            "reference broker".to_owned()
        } else {
            format!("reference broker ({})", results.broker.address)
        }
    } else if results.broker.address.is_empty() {
        results.broker.launcher.clone()
    } else {
        results.broker.address.clone()
    }
}

/// Statement citations of a case, `MQTT-3.3.1-4, MQTT-3.3.1-5`.
pub(crate) fn statement_ids(case: &CaseResult) -> String {
    case.statements
        .iter()
        .map(|s| s.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_from_ids() {
        assert_eq!(section_of_statement("MQTT-3.3.1-4").as_deref(), Some("3.3"));
        assert_eq!(section_of_statement("MQTT-4.2-1").as_deref(), Some("4.2"));
        assert_eq!(section_of_statement("MQTT-4.2.0-1").as_deref(), Some("4.2"));
        assert_eq!(section_of_statement("MQTT-6.0.0-1").as_deref(), Some("6"));
        assert_eq!(
            section_of_statement("MQTT-3.10.4-1").as_deref(),
            Some("3.10")
        );
        assert_eq!(section_of_statement("CVE-2017-7650"), None);
        assert_eq!(cmp_sections("3.10", "3.9"), Ordering::Greater);
        assert_eq!(cmp_sections("other", "7"), Ordering::Greater);
    }

    #[test]
    fn controls_become_visible() {
        assert_eq!(
            visible_controls("a\u{0}b\tc\u{1b}[0m\u{7f}"),
            "a\\x00b\tc\\x1b[0m\\x7f"
        );
        assert_eq!(visible_controls("\u{fffe}"), "\\u{fffe}");
        assert!(matches!(visible_controls("plain ü"), Cow::Borrowed(_)));
        assert_eq!(one_line("  a\n\n b\u{1}  ", 80), "a b\\x01");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }

    #[test]
    fn times() {
        assert_eq!(
            fmt_time("2025-03-01T14:05:09.123Z"),
            "2025-03-01 14:05:09 UTC"
        );
        assert_eq!(
            fmt_time("2025-03-01T14:05:09+02:00"),
            "2025-03-01 14:05:09 +02:00"
        );
        assert_eq!(fmt_time("yesterday"), "yesterday");
        assert_eq!(
            junit_timestamp("2025-03-01T14:05:09.5Z").as_deref(),
            Some("2025-03-01T14:05:09")
        );
        assert_eq!(fmt_duration_ms(999), "999 ms");
        assert_eq!(fmt_duration_ms(12_345), "12.3 s");
        assert_eq!(fmt_duration_ms(245_000), "4 min 05 s");
        assert_eq!(fmt_rate(Some(99.95)), "99.9%");
    }
}

/// The verdict on a whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing counted against the broker and every case produced a verdict.
    Passed,
    /// At least one failure (or timeout; or warning under `--strict`).
    Failed,
    /// No failure, but the harness could not judge some cases (errors).
    Incomplete,
    /// No case ran.
    Empty,
}

impl Verdict {
    pub(crate) fn of(s: &Summary, strict: bool) -> Verdict {
        if s.fail + s.timeout > 0 || (strict && s.warn > 0) {
            Verdict::Failed
        } else if s.error > 0 {
            Verdict::Incomplete
        } else if s.total == s.skipped {
            Verdict::Empty
        } else {
            Verdict::Passed
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Verdict::Passed => "Passed",
            Verdict::Failed => "Failed",
            Verdict::Incomplete => "Incomplete",
            Verdict::Empty => "No cases ran",
        }
    }

    pub(crate) fn class(self) -> &'static str {
        match self {
            Verdict::Passed => "pass",
            Verdict::Failed => "fail",
            Verdict::Incomplete => "error",
            Verdict::Empty => "skipped",
        }
    }
}
