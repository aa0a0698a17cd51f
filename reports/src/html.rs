//! One self-contained HTML file (inline CSS and JS, no network, no external fonts) to read a
//! run in a browser or hand to a customer.
//!
//! - [`write`]: one run. Header with the broker and the run; the verdict; totals per protocol
//!   version (big numbers, pass-rate bar); the CVE pack; a per-section table; the verdict on
//!   each cited statement with its text from the codec's spec manifest; every case with
//!   expected vs actual, message and wire transcript (hex on demand). Filters by outcome,
//!   version, section and text run in the page.
//! - [`write_matrix`] / [`write_matrix_labeled`]: several runs (one per broker) side by side:
//!   rows (case id, protocol), one column per broker, cells coloured by outcome; clicking a cell
//!   opens that broker's detail of the case, transcript included.
//!
//! Everything the broker sent is escaped, and control characters show as `\xNN`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;

use crate::common::{
    OUTCOMES, Verdict, cmp_protocols, cmp_sections, count, fmt_duration_ms, fmt_offset, fmt_rate,
    fmt_time, is_cve, is_hidden_control, outcome_label, pass_rate, protocols, push_control_escape,
    run_label, section_key, section_label, section_of_statement, section_title, severity,
    statement, visible_controls,
};
use crate::model::{CaseResult, Direction, Outcome, RunResults, Summary};

const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");

/// Hex beyond this many bytes per packet is cut (the JSON results keep it all).
const MAX_HEX_BYTES: usize = 4096;
/// Decoded text beyond this many characters per line is cut.
const MAX_DECODED: usize = 8192;

/// Renders one run as a self-contained HTML report.
pub fn write(results: &RunResults, out: &mut impl io::Write) -> io::Result<()> {
    out.write_all(render(results).as_bytes())
}

/// Renders several runs (e.g. one per broker) as a side-by-side matrix, each column labelled
/// from its broker (address, or `reference broker` for the embedded one).
pub fn write_matrix(runs: &[RunResults], out: &mut impl io::Write) -> io::Result<()> {
    let labels: Vec<String> = runs.iter().map(run_label).collect();
    out.write_all(render_matrix(runs, &unique(labels)).as_bytes())
}

/// Like [`write_matrix`] with explicit column labels, one per run.
pub fn write_matrix_labeled<S: AsRef<str>>(
    runs: &[RunResults],
    labels: &[S],
    out: &mut impl io::Write,
) -> io::Result<()> {
    if labels.len() != runs.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} labels for {} runs", labels.len(), runs.len()),
        ));
    }
    let labels: Vec<String> = labels.iter().map(|l| l.as_ref().to_owned()).collect();
    out.write_all(render_matrix(runs, &unique(labels)).as_bytes())
}

/// Makes labels distinct by numbering repeats (`host:1883`, `host:1883 #2`).
fn unique(labels: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(labels.len());
    for label in labels {
        let mut candidate = label.clone();
        let mut n = 1;
        while out.contains(&candidate) {
            n += 1;
            candidate = format!("{label} #{n}");
        }
        out.push(candidate);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Escaping

/// Escapes text content; hidden control characters become a visible, styled `\xNN`.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\r' => out.push_str("<span class=\"ctl\">\\r</span>"),
            c if is_hidden_control(c) => {
                out.push_str("<span class=\"ctl\">");
                push_control_escape(&mut out, c);
                out.push_str("</span>");
            }
            c => out.push(c),
        }
    }
    out
}

/// Escapes an attribute value (always written in double quotes).
fn attr(s: &str) -> String {
    let s = visible_controls(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Escapes `s`, cut to `max` characters with a note of what was left out.
fn esc_cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => esc(s),
        Some((i, _)) => format!(
            "{}<span class=\"cut\">… {} more characters</span>",
            esc(&s[..i]),
            s[i..].chars().count()
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// The page frame

fn page_start(h: &mut String, title: &str, subtitle: &str, nav: &[(&str, &str)]) {
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // Nothing may be fetched: the report is one file that works offline.
    h.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n",
    );
    h.push_str("<meta name=\"color-scheme\" content=\"light\">\n");
    let _ = writeln!(h, "<title>{}</title>", esc(title));
    let _ = writeln!(h, "<style>\n{CSS}</style>\n</head>\n<body>");
    h.push_str("<header class=\"topbar\"><div class=\"wrap topbar-in\">");
    h.push_str(
        "<div class=\"brand\"><svg class=\"logo\" viewBox=\"0 0 24 24\" aria-hidden=\"true\">\
         <rect x=\"1\" y=\"1\" width=\"22\" height=\"22\" rx=\"6\" fill=\"#0b3d6e\"/>\
         <path d=\"M6 17V8.5l6 5 6-5V17\" fill=\"none\" stroke=\"#fff\" stroke-width=\"2.2\" \
         stroke-linecap=\"round\" stroke-linejoin=\"round\"/></svg>\
         <span class=\"brand-name\">mqttspec</span>",
    );
    let _ = write!(
        h,
        "<span class=\"brand-sub\">{}</span></div>",
        esc(subtitle)
    );
    if !nav.is_empty() {
        h.push_str("<nav class=\"topnav\" aria-label=\"Sections\">");
        for (anchor, label) in nav {
            let _ = write!(h, "<a href=\"#{anchor}\">{label}</a>");
        }
        h.push_str("</nav>");
    }
    h.push_str("</div></header>\n<main class=\"wrap\">\n");
}

fn page_end(h: &mut String, tool: &str) {
    h.push_str("</main>\n<footer class=\"wrap foot\">");
    let _ = write!(
        h,
        "<p>Generated by {}. Statement texts are quoted from the OASIS Standards MQTT Version \
         3.1.1 (Copyright © OASIS Open 2014) and MQTT Version 5.0 (Copyright © OASIS Open \
         2019). All Rights Reserved.</p>",
        esc(tool)
    );
    let _ = write!(h, "</footer>\n<script>\n{JS}</script>\n</body>\n</html>\n");
}

// ---------------------------------------------------------------------------------------------
// Pieces

fn badge(o: Outcome) -> String {
    format!(
        "<span class=\"badge o-{}\">{}</span>",
        o.as_str(),
        outcome_label(o)
    )
}

/// The stacked bar of a summary: one segment per outcome, widths in proportion.
fn bar(s: &Summary) -> String {
    let mut b = String::from("<div class=\"bar\" role=\"img\" aria-label=\"");
    let parts: Vec<String> = OUTCOMES
        .iter()
        .filter(|&&o| count(s, o) > 0)
        .map(|&o| format!("{} {}", count(s, o), o.as_str()))
        .collect();
    b.push_str(&attr(&parts.join(", ")));
    b.push_str("\">");
    if s.total > 0 {
        for o in OUTCOMES {
            let n = count(s, o);
            if n > 0 {
                let _ = write!(
                    b,
                    "<span class=\"seg o-{}\" style=\"width:{:.3}%\" title=\"{} {}\"></span>",
                    o.as_str(),
                    n as f64 * 100.0 / s.total as f64,
                    n,
                    outcome_label(o)
                );
            }
        }
    }
    b.push_str("</div>");
    b
}

/// A summary card: title, big pass rate, bar, counts.
fn summary_card(h: &mut String, title: &str, sub: &str, s: &Summary, strict: bool) {
    let verdict = Verdict::of(s, strict);
    h.push_str("<div class=\"card stat\">");
    let _ = write!(
        h,
        "<div class=\"stat-head\"><div><div class=\"stat-title\">{}</div><div class=\"stat-sub\">{}</div></div>\
         <span class=\"pill o-{}\">{}</span></div>",
        esc(title),
        esc(sub),
        verdict.class(),
        verdict.label()
    );
    let _ = write!(
        h,
        "<div class=\"rate\"><span class=\"rate-num\">{}</span><span class=\"rate-label\">pass rate · {} of {} run</span></div>",
        fmt_rate(pass_rate(s)),
        s.pass,
        s.total - s.skipped
    );
    h.push_str(&bar(s));
    h.push_str("<div class=\"counts\">");
    for o in OUTCOMES {
        let n = count(s, o);
        let _ = write!(
            h,
            "<div class=\"count o-{}{}\"><span class=\"n\">{n}</span><span class=\"l\">{}</span></div>",
            o.as_str(),
            if n == 0 { " zero" } else { "" },
            outcome_label(o)
        );
    }
    h.push_str("</div></div>\n");
}

/// Outcome, version and section filters, a search box, and the visible count.
fn filters(
    h: &mut String,
    what: &str,
    outcomes: &[(Outcome, Option<usize>)],
    versions: &[String],
    sections: &[(String, String)],
    extra: &str,
) {
    h.push_str("<div class=\"filters\" id=\"filters\"><div class=\"filters-in\">");
    h.push_str("<div class=\"fgroup\" role=\"group\" aria-label=\"Outcome\"><span class=\"flabel\">Outcome</span>");
    for (o, n) in outcomes {
        let _ = write!(
            h,
            "<button type=\"button\" class=\"chip o-{0}\" data-f=\"o\" data-val=\"{0}\" aria-pressed=\"true\"><i></i>{1}",
            o.as_str(),
            outcome_label(*o)
        );
        if let Some(n) = n {
            let _ = write!(h, "<span class=\"chip-n\">{n}</span>");
        }
        h.push_str("</button>");
    }
    h.push_str("</div><div class=\"fgroup\" role=\"group\" aria-label=\"Protocol version\"><span class=\"flabel\">Version</span>");
    for v in versions {
        let _ = write!(
            h,
            "<button type=\"button\" class=\"chip\" data-f=\"v\" data-val=\"{}\" aria-pressed=\"true\">MQTT {}</button>",
            attr(v),
            esc(v)
        );
    }
    h.push_str("</div><div class=\"fgroup\"><label class=\"flabel\" for=\"f-section\">Section</label><select id=\"f-section\"><option value=\"\">All sections</option>");
    for (key, label) in sections {
        let _ = write!(h, "<option value=\"{}\">{}</option>", attr(key), esc(label));
    }
    h.push_str("</select></div>");
    h.push_str(extra);
    let _ = write!(
        h,
        "<div class=\"fgroup grow\"><input type=\"search\" id=\"f-q\" placeholder=\"Search {what}, statements, tags…\" aria-label=\"Search\"></div>\
         <div class=\"shown\" id=\"shown\" aria-live=\"polite\"></div>"
    );
    h.push_str("</div></div>\n");
}

/// Section keys present in `cases` with labels naming their titles in each version.
fn section_options<'a>(cases: impl IntoIterator<Item = &'a CaseResult>) -> Vec<(String, String)> {
    let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for case in cases {
        let key = section_key(case);
        let versions = by_key.entry(key).or_default();
        if !versions.contains(&case.protocol) {
            versions.push(case.protocol.clone());
        }
    }
    let mut keys: Vec<(String, Vec<String>)> = by_key.into_iter().collect();
    keys.sort_by(|a, b| cmp_sections(&a.0, &b.0));
    keys.into_iter()
        .map(|(key, mut versions)| {
            versions.sort_by(|a, b| cmp_protocols(a, b));
            if key == "other" {
                return (key, "No statement".to_owned());
            }
            let titles: Vec<(String, Option<&str>)> = versions
                .iter()
                .map(|v| (v.clone(), section_title(v, &key)))
                .collect();
            let first = titles.first().and_then(|t| t.1);
            let label = if titles.iter().all(|t| t.1 == first) {
                match first {
                    Some(t) => format!("§{key} {t}"),
                    None => format!("§{key}"),
                }
            } else {
                let parts: Vec<String> = titles
                    .iter()
                    .map(|(v, t)| format!("{} ({v})", t.unwrap_or("?")))
                    .collect();
                format!("§{key} {}", parts.join(" / "))
            };
            (key, label)
        })
        .collect()
}

/// Lower-cased text the search box matches a case against.
fn search_text(case: &CaseResult) -> String {
    let mut q = format!("{} {} {}", case.id, case.title, case.protocol);
    for s in &case.statements {
        q.push(' ');
        q.push_str(&s.id);
    }
    for t in &case.tags {
        q.push(' ');
        q.push_str(t);
    }
    if let Some(m) = &case.message {
        q.push(' ');
        q.push_str(m);
    }
    q.to_lowercase()
}

/// The statements a case cites, ids first.
fn statement_ids_html(case: &CaseResult) -> String {
    let ids: Vec<String> = case
        .statements
        .iter()
        .map(|s| {
            let failed = case.failed_statement.as_deref() == Some(s.id.as_str());
            format!(
                "<span class=\"sid{}\">{}</span>",
                if failed { " failed" } else { "" },
                esc(&s.id)
            )
        })
        .collect();
    ids.join(" ")
}

/// The body of a case: message, expected vs actual, facts, statements, transcript. `uid` makes
/// element ids unique within the page.
fn case_body(h: &mut String, case: &CaseResult, strict: bool) {
    h.push_str("<div class=\"case-body\">");
    let _ = write!(h, "<p class=\"case-title\">{}</p>", esc(&case.title));
    if let Some(m) = &case.message {
        let note = match case.outcome {
            Outcome::Warn if !strict => {
                " <span class=\"note\">A SHOULD was not met; not counted as a failure without --strict.</span>"
            }
            Outcome::Warn => {
                " <span class=\"note\">A SHOULD was not met; counted as a failure (--strict).</span>"
            }
            _ => "",
        };
        let _ = write!(
            h,
            "<div class=\"msg o-{}\">{}{note}</div>",
            case.outcome.as_str(),
            esc(m)
        );
    }
    if case.expected.is_some() || case.actual.is_some() {
        h.push_str("<div class=\"ea\">");
        for (label, v, class) in [
            ("Expected", &case.expected, "exp"),
            ("Actual", &case.actual, "act"),
        ] {
            let _ = write!(
                h,
                "<div class=\"ea-box {class}\"><div class=\"ea-label\">{label}</div><pre>{}</pre></div>",
                v.as_deref()
                    .map(esc)
                    .unwrap_or_else(|| "<span class=\"muted\">—</span>".to_owned())
            );
        }
        h.push_str("</div>");
    }
    h.push_str("<dl class=\"facts small\">");
    let _ = write!(
        h,
        "<div><dt>Protocol</dt><dd>MQTT {}</dd></div><div><dt>Level</dt><dd>{}</dd></div><div><dt>Duration</dt><dd>{}</dd></div>",
        esc(&case.protocol),
        esc(&case.level.to_uppercase()),
        fmt_duration_ms(case.duration_ms)
    );
    if let Some(step) = case.step {
        let _ = write!(h, "<div><dt>Verdict at step</dt><dd>{step}</dd></div>");
    }
    if !case.tags.is_empty() {
        h.push_str("<div><dt>Tags</dt><dd>");
        for t in &case.tags {
            let _ = write!(
                h,
                "<span class=\"tag{}\">{}</span> ",
                if is_cve(t) { " cve" } else { "" },
                esc(t)
            );
        }
        h.push_str("</dd></div>");
    }
    h.push_str("</dl>");
    if !case.statements.is_empty() {
        h.push_str("<div class=\"stmts\"><div class=\"sub-h\">Statements tested</div>");
        for s in &case.statements {
            let failed = case.failed_statement.as_deref() == Some(s.id.as_str());
            let st = statement(&s.spec, &s.id);
            let _ = write!(
                h,
                "<div class=\"stmt{}\"><div class=\"stmt-id\"><span class=\"sid{}\">{}</span>",
                if failed { " failed" } else { "" },
                if failed { " failed" } else { "" },
                esc(&s.id)
            );
            if let Some(st) = st {
                let _ = write!(
                    h,
                    "<span class=\"lvl\">{}</span><span class=\"muted\">MQTT {} §{} {}</span>",
                    st.level.as_str(),
                    esc(&s.spec),
                    esc(st.section),
                    esc(st.title)
                );
            } else {
                let _ = write!(h, "<span class=\"muted\">MQTT {}</span>", esc(&s.spec));
            }
            if failed {
                h.push_str("<span class=\"broken\">checked at the failing step</span>");
            }
            h.push_str("</div>");
            match st {
                Some(st) => {
                    let _ = write!(h, "<p class=\"stmt-text\">{}</p>", esc(st.text));
                }
                None => h.push_str("<p class=\"stmt-text muted\">Not in the spec manifest.</p>"),
            }
            h.push_str("</div>");
        }
        // A failing statement that the case does not list among its citations.
        let uncited = case
            .failed_statement
            .as_ref()
            .filter(|id| !case.statements.iter().any(|s| &&s.id == id));
        if let Some(id) = uncited {
            let _ = write!(
                h,
                "<div class=\"stmt failed\"><div class=\"stmt-id\"><span class=\"sid failed\">{}</span><span class=\"broken\">checked at the failing step</span></div>",
                esc(id)
            );
            if let Some(st) = statement(&case.protocol, id) {
                let _ = write!(h, "<p class=\"stmt-text\">{}</p>", esc(st.text));
            }
            h.push_str("</div>");
        }
        h.push_str("</div>");
    }
    transcript(h, case);
    h.push_str("</div>");
}

fn transcript(h: &mut String, case: &CaseResult) {
    if case.transcript.is_empty() {
        h.push_str("<div class=\"tx empty\"><div class=\"sub-h\">Wire transcript</div><p class=\"muted\">No traffic was recorded.</p></div>");
        return;
    }
    let clients: Vec<&str> = {
        let mut c: Vec<&str> = Vec::new();
        for e in &case.transcript {
            if !c.contains(&e.client.as_str()) {
                c.push(&e.client);
            }
        }
        c
    };
    h.push_str(
        "<div class=\"tx\"><div class=\"tx-head\"><div class=\"sub-h\">Wire transcript</div>",
    );
    h.push_str("<span class=\"legend\"><span class=\"dir d-sent\">→</span> client to broker <span class=\"dir d-received\">←</span> broker to client <span class=\"dir d-event\">●</span> connection event</span>");
    h.push_str("<label class=\"hex-toggle\"><input type=\"checkbox\" class=\"hexbox\"> Show bytes</label></div>");
    h.push_str("<table class=\"tx-table\"><thead><tr><th class=\"t\">ms</th><th>Client</th><th></th><th>Packet / event</th></tr></thead><tbody>");
    for e in &case.transcript {
        let (arrow, dir, title) = match e.direction {
            Direction::Sent => ("→", "sent", "sent to the broker"),
            Direction::Received => ("←", "received", "received from the broker"),
            Direction::Event => ("●", "event", "connection event"),
        };
        let ci = clients.iter().position(|c| *c == e.client).unwrap_or(0) % 6;
        let _ = write!(
            h,
            "<tr class=\"r-{dir}\"><td class=\"t\">{}</td><td><span class=\"client c{ci}\">{}</span></td><td><span class=\"dir d-{dir}\" title=\"{title}\">{arrow}</span></td><td class=\"dec\">{}",
            fmt_offset(e.offset_ms),
            esc(&e.client),
            esc_cut(&e.decoded, MAX_DECODED).replace('\n', "<span class=\"ctl\">\\n</span>")
        );
        if !e.hex.is_empty() {
            let bytes = e.hex.split_whitespace().count();
            let hex = if bytes > MAX_HEX_BYTES {
                let kept: Vec<&str> = e.hex.split_whitespace().take(MAX_HEX_BYTES).collect();
                format!(
                    "{}<span class=\"cut\">… {} more bytes</span>",
                    esc(&kept.join(" ")),
                    bytes - MAX_HEX_BYTES
                )
            } else {
                esc(&e.hex)
            };
            let _ = write!(
                h,
                "<div class=\"hex\"><span class=\"nbytes\">{bytes} B</span>{hex}</div>"
            );
        }
        h.push_str("</td></tr>");
    }
    h.push_str("</tbody></table></div>");
}

// ---------------------------------------------------------------------------------------------
// One run

fn render(r: &RunResults) -> String {
    let mut h = String::with_capacity(64 * 1024 + r.cases.len() * 4096);
    let label = run_label(r);
    page_start(
        &mut h,
        &format!("MQTT conformance report — {label}"),
        "MQTT conformance report",
        &[
            ("summary", "Summary"),
            ("cve", "CVE pack"),
            ("sections", "Sections"),
            ("cases", "Cases"),
            ("statements", "Statements"),
        ],
    );
    let all = Summary::of(&r.cases);
    let versions = protocols(&r.cases);

    // Hero: broker and run, verdict.
    let verdict = Verdict::of(&all, r.strict);
    h.push_str("<section class=\"hero\"><div class=\"hero-main\">");
    h.push_str("<div class=\"eyebrow\">Broker under test</div>");
    let _ = write!(h, "<h1>{}</h1>", esc(&label));
    h.push_str("<dl class=\"facts\">");
    let launcher = match r.broker.launcher.as_str() {
        "embedded" => "embedded reference broker".to_owned(),
        "address" => "external, by address".to_owned(),
        other => other.to_owned(),
    };
    let facts: Vec<(&str, String)> = vec![
        ("Address", r.broker.address.clone()),
        ("Launched", launcher),
        ("Started", fmt_time(&r.started_at)),
        ("Duration", fmt_duration_ms(r.duration_ms)),
        (
            "Protocols",
            versions
                .iter()
                .map(|v| format!("MQTT {v}"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "Mode",
            if r.strict {
                "strict (warnings fail)".to_owned()
            } else {
                "standard (warnings do not fail)".to_owned()
            },
        ),
        ("Tool", format!("{} {}", r.tool.name, r.tool.version)),
    ];
    for (k, v) in facts {
        let _ = write!(h, "<div><dt>{k}</dt><dd>{}</dd></div>", esc(&v));
    }
    h.push_str("</dl>");
    capabilities(&mut h, r);
    h.push_str("</div>");
    let failing = r
        .cases
        .iter()
        .filter(|c| crate::common::is_failure(c.outcome, r.strict))
        .count();
    let verdict_text = match verdict {
        Verdict::Passed => format!(
            "All {} cases that ran met the statements they test{}.",
            all.total - all.skipped,
            if all.warn > 0 {
                format!(" ({} SHOULD not met)", all.warn)
            } else {
                String::new()
            }
        ),
        Verdict::Failed => format!(
            "{failing} of {} cases failed: the broker does not meet statements it is tested against.",
            all.total
        ),
        Verdict::Incomplete => format!(
            "No failure, but {} case{} could not be judged (harness or network error).",
            all.error,
            if all.error == 1 { "" } else { "s" }
        ),
        Verdict::Empty => "No case ran.".to_owned(),
    };
    let _ = write!(
        h,
        "<div class=\"verdict v-{}\"><div class=\"verdict-label\">Verdict</div><div class=\"verdict-big\">{}</div><p>{}</p></div>",
        verdict.class(),
        verdict.label(),
        esc(&verdict_text)
    );
    h.push_str("</section>\n");

    // Summary cards.
    h.push_str("<section class=\"cards\" id=\"summary\">");
    if versions.len() > 1 {
        summary_card(
            &mut h,
            "All versions",
            &format!("{} cases", all.total),
            &all,
            r.strict,
        );
    }
    for v in &versions {
        let s = Summary::of(r.cases.iter().filter(|c| &c.protocol == v));
        summary_card(
            &mut h,
            &format!("MQTT {v}"),
            &format!("{} cases", s.total),
            &s,
            r.strict,
        );
    }
    h.push_str("</section>\n");

    // Filters.
    let outcomes: Vec<(Outcome, Option<usize>)> = OUTCOMES
        .iter()
        .map(|&o| (o, Some(count(&all, o))))
        .collect();
    let sections = section_options(&r.cases);
    let hex_all = "<div class=\"fgroup\"><label class=\"switch\"><input type=\"checkbox\" id=\"f-hex\"> Show bytes in transcripts</label></div>";
    filters(&mut h, "cases", &outcomes, &versions, &sections, hex_all);

    cve_pack(&mut h, r);
    section_table(&mut h, r);
    cases(&mut h, r);
    statement_table(&mut h, r);

    page_end(&mut h, &format!("{} {}", r.tool.name, r.tool.version));
    h
}

fn capabilities(h: &mut String, r: &RunResults) {
    if r.broker.capabilities.is_empty() {
        return;
    }
    h.push_str("<details class=\"caps\"><summary>What the broker announced</summary><div class=\"caps-grid\">");
    let mut versions: Vec<&String> = r.broker.capabilities.keys().collect();
    versions.sort_by(|a, b| cmp_protocols(a, b));
    for v in versions {
        let _ = write!(
            h,
            "<div class=\"caps-v\"><div class=\"sub-h\">MQTT {}</div><dl>",
            esc(v)
        );
        for (k, val) in &r.broker.capabilities[v] {
            let _ = write!(h, "<dt>{}</dt><dd>", esc(&k.replace('_', " ")));
            if k == "capabilities" {
                for c in val.split(',').filter(|c| !c.is_empty()) {
                    let _ = write!(
                        h,
                        "<span class=\"tag\">{}</span> ",
                        esc(&c.replace('_', " "))
                    );
                }
            } else {
                let _ = write!(h, "<code>{}</code>", esc(val));
            }
            h.push_str("</dd>");
        }
        h.push_str("</dl></div>");
    }
    h.push_str("</div></details>");
}

fn case_anchor(i: usize) -> String {
    format!("case-{i}")
}

fn cve_pack(h: &mut String, r: &RunResults) {
    let mut rows: Vec<(&str, usize, &CaseResult)> = Vec::new();
    for (i, case) in r.cases.iter().enumerate() {
        for t in &case.tags {
            if is_cve(t) {
                rows.push((t, i, case));
            }
        }
    }
    rows.sort_by(|a, b| {
        a.0.cmp(b.0)
            .then_with(|| a.2.id.cmp(&b.2.id))
            .then_with(|| cmp_protocols(&a.2.protocol, &b.2.protocol))
    });
    h.push_str("<section class=\"block\" id=\"cve\"><div class=\"block-head\"><h2>CVE pack</h2>");
    let cves: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.0).collect();
    let bad = rows
        .iter()
        .filter(|r| r.2.outcome != Outcome::Pass && r.2.outcome != Outcome::Skipped)
        .count();
    let _ = write!(
        h,
        "<p class=\"block-sub\">Regression cases for known broker vulnerabilities: {} CVE{}, {} case{}, {} not passing.</p></div>",
        cves.len(),
        if cves.len() == 1 { "" } else { "s" },
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        bad
    );
    if rows.is_empty() {
        h.push_str(
            "<p class=\"empty-note\">No case in this run is tagged with a CVE id.</p></section>\n",
        );
        return;
    }
    h.push_str("<div class=\"table-wrap\"><table class=\"grid\"><thead><tr><th>CVE</th><th>Outcome</th><th>Case</th><th>Version</th><th>Statements</th><th>Message</th></tr></thead><tbody>");
    for (cve, i, case) in rows {
        let _ = write!(
            h,
            "<tr data-row=\"cve\" data-o=\"{}\" data-v=\"{}\" data-s=\"{}\" data-q=\"{}\"><td><span class=\"tag cve\">{}</span></td><td>{}</td><td><a class=\"case-link\" href=\"#{}\">{}</a></td><td>{}</td><td>{}</td><td class=\"muted\">{}</td></tr>",
            case.outcome.as_str(),
            attr(&case.protocol),
            attr(&section_key(case)),
            attr(&search_text(case)),
            esc(cve),
            badge(case.outcome),
            case_anchor(i),
            esc(&case.id),
            esc(&case.protocol),
            statement_ids_html(case),
            case.message.as_deref().map(esc).unwrap_or_default()
        );
    }
    h.push_str("</tbody></table><p class=\"none-shown\" hidden>No CVE case matches the filters.</p></div></section>\n");
}

fn section_table(h: &mut String, r: &RunResults) {
    h.push_str("<section class=\"block\" id=\"sections\"><div class=\"block-head\"><h2>By spec section</h2><p class=\"block-sub\">Cases grouped by the section of the first statement they test. Click a row to filter.</p></div>");
    h.push_str("<div class=\"table-wrap\"><table class=\"grid sections\"><thead><tr><th>Section</th><th>Version</th><th class=\"num\">Cases</th>");
    for o in OUTCOMES {
        let _ = write!(h, "<th class=\"num\">{}</th>", outcome_label(o));
    }
    h.push_str("<th class=\"barcol\">Result</th></tr></thead><tbody>");
    for ((protocol, section), cases) in crate::common::by_section(r) {
        let s = Summary::of(cases.iter().copied());
        let present: Vec<&str> = OUTCOMES
            .iter()
            .filter(|&&o| count(&s, o) > 0)
            .map(|o| o.as_str())
            .collect();
        let _ = write!(
            h,
            "<tr class=\"clickable\" data-row=\"section\" data-o=\"{}\" data-v=\"{}\" data-s=\"{}\" data-section=\"{}\"><td class=\"sec\">{}</td><td>{}</td><td class=\"num\">{}</td>",
            present.join(" "),
            attr(&protocol),
            attr(&section),
            attr(&section),
            esc(&section_label(&protocol, &section)),
            esc(&protocol),
            s.total
        );
        for o in OUTCOMES {
            let n = count(&s, o);
            if n == 0 {
                h.push_str("<td class=\"num zero\">0</td>");
            } else {
                let _ = write!(h, "<td class=\"num n-{}\">{n}</td>", o.as_str());
            }
        }
        let _ = write!(h, "<td class=\"barcol\">{}</td></tr>", bar(&s));
    }
    h.push_str("</tbody></table><p class=\"none-shown\" hidden>No section matches the filters.</p></div></section>\n");
}

/// Numeric order of statement ids (`MQTT-3.1.2-10` after `MQTT-3.1.2-9`).
fn cmp_statement_ids(a: &str, b: &str) -> std::cmp::Ordering {
    fn key(s: &str) -> Vec<u32> {
        s.trim_start_matches("MQTT-")
            .split(['.', '-'])
            .map(|p| p.parse().unwrap_or(u32::MAX))
            .collect()
    }
    key(a).cmp(&key(b)).then_with(|| a.cmp(b))
}

fn statement_table(h: &mut String, r: &RunResults) {
    // (spec, id) → the cases citing it.
    let mut cited: Vec<((String, String), Vec<usize>)> = Vec::new();
    for (i, case) in r.cases.iter().enumerate() {
        for s in &case.statements {
            let key = (s.spec.clone(), s.id.clone());
            match cited.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.push(i),
                None => cited.push((key, vec![i])),
            }
        }
    }
    cited.sort_by(|(a, _), (b, _)| {
        cmp_protocols(&a.0, &b.0).then_with(|| cmp_statement_ids(&a.1, &b.1))
    });
    let worst = |cases: &[usize]| {
        cases
            .iter()
            .map(|&i| r.cases[i].outcome)
            .max_by_key(|&o| severity(o))
            .unwrap_or(Outcome::Skipped)
    };
    let mut totals: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (_, cases) in &cited {
        *totals.entry(worst(cases).as_str()).or_default() += 1;
    }
    h.push_str("<section class=\"block\" id=\"statements\"><div class=\"block-head\"><h2>Normative statements</h2>");
    let _ = write!(
        h,
        "<p class=\"block-sub\">{} statements tested. A statement takes the worst outcome of the cases that test it: {}.</p></div>",
        cited.len(),
        OUTCOMES
            .iter()
            .filter_map(|o| totals
                .get(o.as_str())
                .map(|n| format!("{n} {}", outcome_label(*o).to_lowercase())))
            .collect::<Vec<_>>()
            .join(", ")
    );
    h.push_str("<div class=\"table-wrap\"><table class=\"grid statements\"><thead><tr><th>Verdict</th><th>Statement</th><th>Text</th><th>Cases</th></tr></thead><tbody>");
    for ((spec, id), cases) in &cited {
        let verdict = worst(cases);
        let section = section_of_statement(id).unwrap_or_else(|| "other".to_owned());
        let st = statement(spec, id);
        let _ = write!(
            h,
            "<tr data-row=\"statement\" data-o=\"{}\" data-v=\"{}\" data-s=\"{}\" data-q=\"{}\"><td>{}</td><td class=\"stmt-cell\"><span class=\"sid\">{}</span><span class=\"muted small\">MQTT {}{}</span></td>",
            verdict.as_str(),
            attr(spec),
            attr(&section),
            attr(&format!(
                "{} {}",
                id.to_lowercase(),
                st.map(|s| s.text.to_lowercase()).unwrap_or_default()
            )),
            badge(verdict),
            esc(id),
            esc(spec),
            st.map(|s| format!(" · {}", s.level.as_str()))
                .unwrap_or_default()
        );
        match st {
            Some(st) => {
                let _ = write!(
                    h,
                    "<td><div class=\"stext\"><span class=\"sec-ref\">§{} {}</span> {}</div></td>",
                    esc(st.section),
                    esc(st.title),
                    esc(st.text)
                );
            }
            None => h.push_str("<td class=\"muted\">Not in the spec manifest.</td>"),
        }
        h.push_str("<td class=\"case-list\">");
        for &i in cases {
            let c = &r.cases[i];
            let _ = write!(
                h,
                "<a class=\"case-chip o-{}\" href=\"#{}\" title=\"{}\">{}</a>",
                c.outcome.as_str(),
                case_anchor(i),
                attr(&format!("{} — {}", outcome_label(c.outcome), c.title)),
                esc(&c.id)
            );
        }
        h.push_str("</td></tr>");
    }
    h.push_str("</tbody></table><p class=\"none-shown\" hidden>No statement matches the filters.</p></div></section>\n");
}

/// Cases, problems first: by severity, then version, section and run order.
fn ordered_cases(r: &RunResults) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..r.cases.len()).collect();
    idx.sort_by(|&a, &b| {
        let (ca, cb) = (&r.cases[a], &r.cases[b]);
        severity(cb.outcome)
            .cmp(&severity(ca.outcome))
            .then_with(|| cmp_protocols(&ca.protocol, &cb.protocol))
            .then_with(|| cmp_sections(&section_key(ca), &section_key(cb)))
            .then_with(|| a.cmp(&b))
    });
    idx
}

fn case_summary(h: &mut String, case: &CaseResult) {
    let _ = write!(
        h,
        "<summary><span class=\"caret\" aria-hidden=\"true\"></span>{}<span class=\"cid\">{}</span><span class=\"ver\">{}</span><span class=\"ctitle\">{}</span><span class=\"sids\">{}</span><span class=\"dur\">{}</span></summary>",
        badge(case.outcome),
        esc(&case.id),
        esc(&case.protocol),
        esc(&case.title),
        statement_ids_html(case),
        fmt_duration_ms(case.duration_ms)
    );
}

fn cases(h: &mut String, r: &RunResults) {
    h.push_str("<section class=\"block\" id=\"cases\"><div class=\"block-head\"><h2>Cases</h2><p class=\"block-sub\">Problems first. Open a case for expected vs actual and the wire transcript.</p>");
    h.push_str("<div class=\"block-actions\"><button type=\"button\" class=\"btn\" id=\"expand-all\">Expand all</button><button type=\"button\" class=\"btn\" id=\"collapse-all\">Collapse all</button></div></div>");
    h.push_str("<div class=\"case-list-wrap\">");
    for i in ordered_cases(r) {
        let case = &r.cases[i];
        let open =
            crate::common::is_failure(case.outcome, r.strict) || case.outcome == Outcome::Error;
        let _ = write!(
            h,
            "<details class=\"case o-{}\" id=\"{}\" data-row=\"case\" data-o=\"{}\" data-v=\"{}\" data-s=\"{}\" data-q=\"{}\"{}>",
            case.outcome.as_str(),
            case_anchor(i),
            case.outcome.as_str(),
            attr(&case.protocol),
            attr(&section_key(case)),
            attr(&search_text(case)),
            if open { " open" } else { "" }
        );
        case_summary(h, case);
        case_body(h, case, r.strict);
        h.push_str("</details>\n");
    }
    h.push_str("<p class=\"none-shown\" hidden>No case matches the filters.</p></div></section>\n");
}

// ---------------------------------------------------------------------------------------------
// Several runs

fn render_matrix(runs: &[RunResults], labels: &[String]) -> String {
    let mut h = String::with_capacity(128 * 1024);
    page_start(
        &mut h,
        "MQTT conformance matrix",
        "MQTT conformance matrix",
        &[("summary", "Brokers"), ("matrix", "Matrix")],
    );

    // Rows: (case id, protocol), every case any run has, by id then version.
    let mut rows: Vec<(String, String)> = Vec::new();
    for r in runs {
        for c in &r.cases {
            let key = (c.id.clone(), c.protocol.clone());
            if !rows.contains(&key) {
                rows.push(key);
            }
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| cmp_protocols(&a.1, &b.1)));
    let find = |run: &RunResults, key: &(String, String)| {
        run.cases
            .iter()
            .position(|c| c.id == key.0 && c.protocol == key.1)
    };
    let all_cases = || runs.iter().flat_map(|r| r.cases.iter());
    let versions = protocols(all_cases());
    let differing = rows
        .iter()
        .filter(|key| {
            let outs: Vec<Option<Outcome>> = runs
                .iter()
                .map(|r| find(r, key).map(|i| r.cases[i].outcome))
                .collect();
            outs.windows(2).any(|w| w[0] != w[1])
        })
        .count();

    h.push_str("<section class=\"hero\"><div class=\"hero-main\"><div class=\"eyebrow\">Broker comparison</div>");
    let _ = write!(
        h,
        "<h1>{} broker{} · {} cases</h1><dl class=\"facts\">",
        runs.len(),
        if runs.len() == 1 { "" } else { "s" },
        rows.len()
    );
    let _ = write!(
        h,
        "<div><dt>Protocols</dt><dd>{}</dd></div><div><dt>Outcomes differ</dt><dd><button type=\"button\" class=\"linkish\" id=\"diff-link\" title=\"Show only these rows\">{} of {} rows</button></dd></div>",
        esc(&versions
            .iter()
            .map(|v| format!("MQTT {v}"))
            .collect::<Vec<_>>()
            .join(", ")),
        differing,
        rows.len()
    );
    if let Some(first) = runs.first() {
        let _ = write!(
            h,
            "<div><dt>Tool</dt><dd>{} {}</dd></div>",
            esc(&first.tool.name),
            esc(&first.tool.version)
        );
    }
    h.push_str("</dl></div></section>\n");

    h.push_str("<section class=\"cards\" id=\"summary\">");
    for (r, label) in runs.iter().zip(labels) {
        let s = Summary::of(&r.cases);
        let sub = format!(
            "{} · {} · {}",
            match r.broker.launcher.as_str() {
                "embedded" => "embedded",
                "address" => "by address",
                other => other,
            },
            fmt_time(&r.started_at),
            fmt_duration_ms(r.duration_ms)
        );
        summary_card(&mut h, label, &sub, &s, r.strict);
    }
    h.push_str("</section>\n");

    let outcomes: Vec<(Outcome, Option<usize>)> = OUTCOMES.iter().map(|&o| (o, None)).collect();
    let sections = section_options(all_cases());
    let extra = "<div class=\"fgroup\"><label class=\"switch\"><input type=\"checkbox\" id=\"f-diff\"> Only rows where brokers differ</label></div>";
    filters(&mut h, "cases", &outcomes, &versions, &sections, extra);

    h.push_str("<section class=\"block\" id=\"matrix\"><div class=\"block-head\"><h2>Matrix</h2><p class=\"block-sub\">One row per case and protocol version, one column per broker. Click a cell for that broker's detail and wire transcript.</p></div>");
    h.push_str("<div class=\"table-wrap matrix-wrap\"><table class=\"grid matrix\"><thead><tr><th>Case</th><th>Version</th><th>Section</th>");
    for label in labels {
        let _ = write!(
            h,
            "<th class=\"broker\" title=\"{}\">{}</th>",
            attr(label),
            esc(label)
        );
    }
    h.push_str("</tr></thead><tbody>");
    for key in &rows {
        let cells: Vec<Option<usize>> = runs.iter().map(|r| find(r, key)).collect();
        let first = runs
            .iter()
            .zip(&cells)
            .find_map(|(r, c)| c.map(|i| &r.cases[i]))
            .expect("every row has a case");
        let mut present: Vec<&str> = Vec::new();
        let mut outs: Vec<Option<Outcome>> = Vec::new();
        for (r, c) in runs.iter().zip(&cells) {
            let o = c.map(|i| r.cases[i].outcome);
            outs.push(o);
            if let Some(o) = o.filter(|o| !present.contains(&o.as_str())) {
                present.push(o.as_str());
            }
        }
        let differ = outs.windows(2).any(|w| w[0] != w[1]);
        let section = section_key(first);
        let _ = write!(
            h,
            "<tr data-row=\"case\" data-o=\"{}\" data-v=\"{}\" data-s=\"{}\" data-q=\"{}\" data-diff=\"{}\"><th class=\"rowhead\" scope=\"row\"><span class=\"cid\">{}</span><span class=\"ctitle\">{}</span></th><td><span class=\"ver\">{}</span></td><td class=\"sec small\">{}</td>",
            present.join(" "),
            attr(&key.1),
            attr(&section),
            attr(&search_text(first)),
            if differ { 1 } else { 0 },
            esc(&key.0),
            esc(&first.title),
            esc(&key.1),
            esc(&section_label(&key.1, &section))
        );
        for (ri, (r, c)) in runs.iter().zip(&cells).enumerate() {
            match c {
                Some(i) => {
                    let case = &r.cases[*i];
                    let tip = match &case.message {
                        Some(m) => format!("{}: {}", outcome_label(case.outcome), m),
                        None => outcome_label(case.outcome).to_owned(),
                    };
                    let _ = write!(
                        h,
                        "<td class=\"mcell\"><button type=\"button\" class=\"cell o-{}\" data-detail=\"d-{ri}-{i}\" title=\"{}\">{}</button></td>",
                        case.outcome.as_str(),
                        attr(&tip),
                        outcome_label(case.outcome)
                    );
                }
                None => h.push_str("<td class=\"mcell\"><span class=\"cell none\" title=\"Not run against this broker\">—</span></td>"),
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table><p class=\"none-shown\" hidden>No row matches the filters.</p></div></section>\n");

    // Details, one template per (run, case), shown in the dialog on click.
    h.push_str("<div id=\"details\" hidden>");
    for (ri, (r, label)) in runs.iter().zip(labels).enumerate() {
        for (i, case) in r.cases.iter().enumerate() {
            let _ = write!(
                h,
                "<template id=\"d-{ri}-{i}\"><div class=\"dlg-head\" data-broker=\"{}\"><div class=\"dlg-title\">{}<span class=\"cid\">{}</span><span class=\"ver\">MQTT {}</span></div></div>",
                attr(label),
                badge(case.outcome),
                esc(&case.id),
                esc(&case.protocol)
            );
            case_body(&mut h, case, r.strict);
            h.push_str("</template>\n");
        }
    }
    h.push_str("</div>");
    h.push_str("<dialog id=\"dlg\" aria-label=\"Case detail\"><div class=\"dlg-bar\"><div class=\"dlg-tabs\" id=\"dlg-tabs\" role=\"tablist\" aria-label=\"Broker\"></div><button type=\"button\" class=\"dlg-close\" id=\"dlg-close\" aria-label=\"Close\">×</button></div><div id=\"dlg-body\" tabindex=\"-1\"></div></dialog>\n");

    let tool = runs
        .first()
        .map(|r| format!("{} {}", r.tool.name, r.tool.version))
        .unwrap_or_else(|| "mqttspec".to_owned());
    page_end(&mut h, &tool);
    h
}
