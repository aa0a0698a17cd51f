//! A compact Markdown summary for a pull-request comment: the verdict, totals by outcome and
//! protocol version, then the failures, timeouts, errors and warnings with their statement ids
//! and one-line messages. No links; everything from the broker is escaped.

use std::fmt::Write as _;
use std::io;

use crate::common::{
    OUTCOMES, Verdict, count, fmt_duration_ms, fmt_rate, fmt_time, is_cve, one_line, outcome_label,
    pass_rate, protocols,
};
use crate::model::{CaseResult, Outcome, RunResults, Summary};

/// At most this many cases are listed per outcome; the rest are counted.
const MAX_LISTED: usize = 50;
/// Messages are cut to this many characters.
const MAX_MESSAGE: usize = 160;

pub fn write(results: &RunResults, out: &mut impl io::Write) -> io::Result<()> {
    out.write_all(render(results).as_bytes())
}

fn render(r: &RunResults) -> String {
    let mut m = String::new();
    let all = Summary::of(&r.cases);
    let verdict = Verdict::of(&all, r.strict);
    let mark = match verdict {
        Verdict::Passed => "✅",
        Verdict::Failed => "❌",
        Verdict::Incomplete => "⚠️",
        Verdict::Empty => "➖",
    };
    let _ = writeln!(
        m,
        "### {mark} MQTT conformance: {} — {}",
        verdict.label(),
        code(&crate::common::run_label(r))
    );
    m.push('\n');
    let ran = all.total - all.skipped;
    let _ = writeln!(
        m,
        "{} of {} cases passed ({}) · {} {} · {} · {}{}",
        all.pass,
        ran,
        fmt_rate(pass_rate(&all)),
        escape(&r.tool.name),
        escape(&r.tool.version),
        escape(&fmt_time(&r.started_at)),
        fmt_duration_ms(r.duration_ms),
        if r.strict {
            " · strict (warnings count as failures)"
        } else {
            ""
        }
    );
    m.push('\n');

    // Totals table: one row per protocol version, then the total.
    m.push_str("| Protocol | Cases |");
    for o in OUTCOMES {
        let _ = write!(m, " {} |", outcome_label(o));
    }
    m.push_str(" Pass rate |\n| :-- | --: |");
    for _ in OUTCOMES {
        m.push_str(" --: |");
    }
    m.push_str(" --: |\n");
    let versions = protocols(&r.cases);
    for v in &versions {
        let s = Summary::of(r.cases.iter().filter(|c| &c.protocol == v));
        row(&mut m, &format!("MQTT {}", escape(v)), &s, false);
    }
    if versions.len() != 1 {
        row(&mut m, "Total", &all, true);
    }

    let sections: [(Outcome, &str); 4] = [
        (Outcome::Fail, "Failures"),
        (Outcome::Timeout, "Timeouts"),
        (Outcome::Error, "Errors"),
        (
            Outcome::Warn,
            if r.strict {
                "Warnings: SHOULD not met, failures under --strict"
            } else {
                "Warnings: SHOULD not met"
            },
        ),
    ];
    for (outcome, heading) in sections {
        let cases: Vec<&CaseResult> = r.cases.iter().filter(|c| c.outcome == outcome).collect();
        if cases.is_empty() {
            continue;
        }
        let _ = writeln!(m, "\n#### {heading} ({})\n", cases.len());
        for case in cases.iter().take(MAX_LISTED) {
            item(&mut m, case);
        }
        if cases.len() > MAX_LISTED {
            let _ = writeln!(
                m,
                "- … and {} more (see the full report)",
                cases.len() - MAX_LISTED
            );
        }
    }
    if all.skipped > 0 {
        let _ = writeln!(
            m,
            "\n{} case{} skipped (capability not offered by the broker, or not applicable).",
            all.skipped,
            if all.skipped == 1 { "" } else { "s" }
        );
    }
    m
}

fn row(m: &mut String, label: &str, s: &Summary, bold: bool) {
    let b = if bold { "**" } else { "" };
    let _ = write!(m, "| {b}{label}{b} | {b}{}{b} |", s.total);
    for o in OUTCOMES {
        let n = count(s, o);
        if n == 0 {
            m.push_str(" 0 |");
        } else {
            let _ = write!(m, " {b}{n}{b} |");
        }
    }
    let _ = writeln!(m, " {b}{}{b} |", fmt_rate(pass_rate(s)));
}

/// `- `publish/qos1/puback` (5.0) · MQTT-3.3.4-1 · CVE-… · message`
fn item(m: &mut String, case: &CaseResult) {
    let _ = write!(m, "- {} ({})", code(&case.id), escape(&case.protocol));
    let statements = match &case.failed_statement {
        Some(id) => id.clone(),
        None => case
            .statements
            .iter()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    };
    if !statements.is_empty() {
        let _ = write!(m, " · {}", escape(&statements));
    }
    let cves: Vec<&str> = case
        .tags
        .iter()
        .filter(|t| is_cve(t))
        .map(String::as_str)
        .collect();
    if !cves.is_empty() {
        let _ = write!(m, " · {}", escape(&cves.join(", ")));
    }
    let message = case.message.as_deref().unwrap_or(&case.title);
    let _ = writeln!(m, " — {}", escape(&one_line(message, MAX_MESSAGE)));
}

/// Escapes text so GitHub shows it literally: Markdown punctuation gets a backslash, HTML
/// metacharacters become entities, controls become visible and lines join.
fn escape(s: &str) -> String {
    let s = one_line(s, usize::MAX);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' | '!' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A code span of one line that holds any text: a fence longer than any backtick run inside,
/// padded with spaces when the text starts or ends with a backtick. (Not for table cells.)
fn code(s: &str) -> String {
    let s = one_line(s, 200);
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape("a <b> & *c*"), "a &lt;b&gt; &amp; \\*c\\*");
        assert_eq!(escape("x\n|y\u{1}"), "x \\|y\\\\x01");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`a"), "`` `a ``");
    }
}
