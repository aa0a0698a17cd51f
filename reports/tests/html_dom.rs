//! Loads the fixture's HTML report in headless Chromium and checks the rendered DOM (after the
//! page's script ran): the totals, the filters' count, and a failing case's transcript.
//! Without `chromium` the tests skip, printing why, unless `CI` is set: then they fail.

mod fixture;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mqttspec_report::html;

const INSTALL: &str = "apt-get install -y chromium";

/// The DOM Chromium renders for `file` (after the page's script ran); a minute at most.
fn dump_dom(file: &Path) -> String {
    let dir = file.parent().unwrap();
    let stdout = std::fs::File::create(dir.join("dom.html")).unwrap();
    let stderr = std::fs::File::create(dir.join("chromium.log")).unwrap();
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", file.display()))
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("run chromium");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "chromium failed ({status}): {}",
        std::fs::read_to_string(dir.join("chromium.log")).unwrap_or_default()
    );
    std::fs::read_to_string(dir.join("dom.html")).expect("utf-8 DOM")
}

#[test]
fn report_renders_totals_and_a_failing_transcript() {
    if !fixture::require_tool("chromium", INSTALL) {
        return;
    }
    let dir = fixture::scratch("html-dom");
    let file = dir.join("report.html");
    let mut out = Vec::new();
    html::write(&fixture::results(), &mut out).unwrap();
    std::fs::write(&file, out).unwrap();
    let dom = dump_dom(&file);

    // The script ran: it marks the body and counts what the filters show.
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page script did not run"
    );
    assert!(dom.contains("Showing 8 of 8 cases"));
    // Totals: the verdict and the big numbers of the "All versions" card.
    assert!(dom.contains("<div class=\"verdict-big\">Failed</div>"));
    assert!(
        dom.contains("<span class=\"rate-num\">28.6%</span>"),
        "overall pass rate"
    );
    assert!(dom.contains(
        "<div class=\"count o-fail\"><span class=\"n\">2</span><span class=\"l\">Fail</span></div>"
    ));
    assert!(dom.contains(
        "<div class=\"count o-pass\"><span class=\"n\">2</span><span class=\"l\">Pass</span></div>"
    ));
    // The failing case is open, with its transcript: the PUBACK with the wrong id, the
    // PUBLISH whose topic and payload had markup and control characters.
    let case = dom
        .split("<details class=\"case o-fail\"")
        .skip(1)
        .find(|part| part.contains("publish/qos1/puback"))
        .expect("failing case rendered");
    let case = &case[..case.find("</details>").unwrap()];
    assert!(case.starts_with(" id=\"case-1\""));
    assert!(case.contains(" open=\"\""), "failing case opened");
    assert!(case.contains("PUBACK id=8 reason=0x00(Success)"));
    assert!(case.contains("topic=\"a/&lt;b&gt;&amp;c\""));
    assert!(case.contains("<span class=\"ctl\">\\x1b</span>[31m]]&gt;"));
    assert!(case.contains("40 04 00 08 00 00"), "hex of the PUBACK");
}

#[test]
fn matrix_renders_both_brokers() {
    if !fixture::require_tool("chromium", INSTALL) {
        return;
    }
    let dir = fixture::scratch("matrix-dom");
    let file = dir.join("matrix.html");
    let mut out = Vec::new();
    html::write_matrix(
        &[fixture::results(), fixture::reference_results()],
        &mut out,
    )
    .unwrap();
    std::fs::write(&file, out).unwrap();
    let dom = dump_dom(&file);
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page script did not run"
    );
    assert!(dom.contains("Showing 9 of 9 cases"));
    assert!(dom.contains(">broker.example:1883</th>"));
    assert!(dom.contains(">reference broker (127.0.0.1:41883)</th>"));
    assert!(
        dom.contains("data-detail=\"d-0-1\""),
        "cell of the failing case"
    );
    assert!(dom.contains("Not run against this broker"));
}
