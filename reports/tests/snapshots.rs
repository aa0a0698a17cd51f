//! Snapshots of every format on the fixture run, and of the matrix on two runs.

mod fixture;

use mqttspec_report::{Format, html, json, render};

fn rendered(format: Format) -> String {
    let mut out = Vec::new();
    render(format, &fixture::results(), &mut out).expect("render");
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn json_snapshot() {
    let text = rendered(Format::Json);
    assert_eq!(json::read(&text).expect("reads back"), fixture::results());
    insta::assert_snapshot!("results.json", text);
}

#[test]
fn junit_snapshot() {
    insta::assert_snapshot!("junit.xml", rendered(Format::Junit));
}

#[test]
fn junit_strict_snapshot() {
    let mut r = fixture::results();
    r.strict = true;
    let mut out = Vec::new();
    render(Format::Junit, &r, &mut out).unwrap();
    insta::assert_snapshot!("junit-strict.xml", String::from_utf8(out).unwrap());
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!("summary.md", rendered(Format::Markdown));
}

#[test]
fn html_snapshot() {
    insta::assert_snapshot!("report.html", rendered(Format::Html));
}

#[test]
fn matrix_snapshot() {
    let mut out = Vec::new();
    html::write_matrix(
        &[fixture::results(), fixture::reference_results()],
        &mut out,
    )
    .unwrap();
    insta::assert_snapshot!("matrix.html", String::from_utf8(out).unwrap());
}

#[test]
fn matrix_with_labels() {
    let runs = [fixture::results(), fixture::reference_results()];
    let mut out = Vec::new();
    html::write_matrix_labeled(&runs, &["Vendor X 2.1", "reference"], &mut out).unwrap();
    let page = String::from_utf8(out).unwrap();
    assert!(page.contains(">Vendor X 2.1</th>"));
    assert!(page.contains(">reference</th>"));
    let err = html::write_matrix_labeled(&runs, &["only one"], &mut Vec::new()).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

/// What broker data could smuggle into a page or a document stays text.
#[test]
fn broker_data_is_escaped_everywhere() {
    for format in [Format::Junit, Format::Markdown, Format::Html] {
        let text = rendered(format);
        assert!(!text.contains("a/<b>"), "{format}: raw <b> from the broker");
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\t')),
            "{format}: a raw control character"
        );
    }
    let xml = rendered(Format::Junit);
    assert!(xml.contains("a/&lt;b&gt;&amp;c"));
    assert!(xml.contains("\\x00\\x01\\x1b[31m]]&gt;"));
    let page = rendered(Format::Html);
    assert!(page.contains("<span class=\"ctl\">\\x1b</span>"));
    assert!(!page.contains("<script>alert"));
}

/// The HTML needs nothing from the network.
#[test]
fn html_is_self_contained() {
    for page in [rendered(Format::Html), {
        let mut out = Vec::new();
        html::write_matrix(
            &[fixture::results(), fixture::reference_results()],
            &mut out,
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }] {
        for needle in ["http://", "https://", "src=", "<link", "@import", "url("] {
            assert!(!page.contains(needle), "found {needle}");
        }
        assert!(page.contains("default-src 'none'"));
    }
}

/// Markup in any field a broker or scenario controls cannot open an element or end the
/// matrix's templates.
#[test]
fn hostile_text_stays_text_in_html() {
    let evil = "</template></details><script>alert(1)</script><img src=x onerror=alert(2)>\"'&";
    let mut r = fixture::results();
    r.broker.address = evil.to_owned();
    for c in &mut r.cases {
        c.id = format!("x/{evil}");
        c.title = evil.to_owned();
        c.message = Some(evil.to_owned());
        c.expected = Some(evil.to_owned());
        c.actual = Some(evil.to_owned());
        c.tags.push(format!("CVE-{evil}"));
        for e in &mut c.transcript {
            e.client = evil.to_owned();
            e.decoded = evil.to_owned();
            e.hex = evil.to_owned();
        }
    }
    let mut single = Vec::new();
    html::write(&r, &mut single).unwrap();
    let mut matrix = Vec::new();
    html::write_matrix(&[r.clone(), fixture::results()], &mut matrix).unwrap();
    for page in [single, matrix] {
        let page = String::from_utf8(page).unwrap();
        assert_eq!(
            page.matches("<script").count(),
            1,
            "only the page's own script"
        );
        assert!(!page.contains("<img"));
        assert!(!page.contains("</template></details>"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }
}
