//! `mqttspec run --spawn`: the CLI starts the broker under test itself (here the reference
//! broker, `mqttspec broker`), waits for it, runs, stops it; an early exit is exit code 3;
//! a crash mid-run makes the affected cases errors, and `--restart-on-crash` starts it again.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_mqttspec");

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("mqttspec-spawn-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn reference_broker() -> String {
    format!("'{BIN}' broker --listen 127.0.0.1:{{port}}")
}

/// The pid from `mqttspec: spawned `…` (pid N) on …`.
fn spawned_pid(stderr: &str) -> Option<u32> {
    let at = stderr.find("(pid ")? + 5;
    stderr[at..].split(')').next()?.parse().ok()
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

fn results(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("results.json")).expect("results.json written");
    serde_json::from_str(&text).expect("json")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn spawned_reference_broker_runs_and_is_stopped() {
    let dir = TempDir::new("ok");
    let out = Command::new(BIN)
        .args(["run", "--spawn", &reference_broker(), "--filter", "ping"])
        .args(["--format", "json", "--report-dir"])
        .arg(&dir.0)
        .output()
        .expect("runs");
    let stderr = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let pid = spawned_pid(&stderr).expect("the pid is printed");
    assert!(!alive(pid), "the spawned broker {pid} is still running");
    let r = results(&dir.0);
    let launcher = r["broker"]["launcher"].as_str().unwrap();
    assert!(launcher.starts_with("spawn: "), "{launcher}");
    assert!(
        launcher.contains("broker --listen 127.0.0.1:"),
        "{launcher}"
    );
    let log = r["broker"]["log"].as_str().expect("the broker's output");
    assert!(log.contains("reference broker listening"), "{log}");
    assert_eq!(r["summary"]["pass"], 2);
}

#[test]
fn a_broker_that_exits_at_once_is_exit_code_3() {
    let out = Command::new(BIN)
        .args(["run", "--filter", "ping", "--spawn"])
        .arg("sh -c 'echo no such option >&2; exit 7'")
        .output()
        .expect("runs");
    let stderr = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("exited before it was ready"), "{stderr}");
    assert!(stderr.contains("exit status: 7"), "{stderr}");
    assert!(stderr.contains("no such option"), "{stderr}");

    let out = Command::new(BIN)
        .args(["run", "--filter", "ping", "--spawn", "false"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));

    // {config} without a template: a usage error.
    let out = Command::new(BIN)
        .args(["run", "--spawn", "mosquitto -c {config}"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

/// A scenario that holds its connection for a while (the broker is killed meanwhile), then
/// two quick ones, run one at a time in this order.
fn crash_scenarios(dir: &Path) {
    std::fs::write(
        dir.join("a-slow.yaml"),
        "id: crash/a-slow\ntitle: Holds the connection while the broker is killed\n\
         statements: [MQTT-3.12.4-1]\nversions: [\"3.1.1\"]\nsteps:\n  \
         - connect: {client: a}\n  - wait: {ms: 1500}\n  \
         - send: {client: a, pingreq: {}}\n  - expect: {client: a, pingresp: {}}\n",
    )
    .unwrap();
    for name in ["b-ping", "c-ping"] {
        std::fs::write(
            dir.join(format!("{name}.yaml")),
            format!(
                "id: crash/{name}\ntitle: PINGREQ gets PINGRESP\n\
                 statements: [MQTT-3.12.4-1]\nversions: [\"3.1.1\"]\nsteps:\n  \
                 - connect: {{client: a}}\n  - send: {{client: a, pingreq: {{}}}}\n  \
                 - expect: {{client: a, pingresp: {{}}}}\n"
            ),
        )
        .unwrap();
    }
}

/// Runs the crash scenarios, killing the broker (SIGKILL) 500 ms after it is spawned.
fn run_with_crash(name: &str, restart: bool) -> (Option<i32>, serde_json::Value, String) {
    let dir = TempDir::new(name);
    let scenarios = dir.0.join("scenarios");
    std::fs::create_dir_all(&scenarios).unwrap();
    crash_scenarios(&scenarios);
    let report = dir.0.join("report");
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--spawn", &reference_broker(), "--jobs", "1"])
        .args(["--format", "json", "--scenarios"])
        .arg(&scenarios)
        .arg("--report-dir")
        .arg(&report)
        .stderr(Stdio::piped())
        .stdout(Stdio::null());
    if restart {
        cmd.arg("--restart-on-crash");
    }
    let mut child = cmd.spawn().expect("runs");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(pid) = spawned_pid(&line) {
                let _ = tx.send(pid);
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let pid = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the broker was spawned");
    std::thread::sleep(Duration::from_millis(500));
    let killed = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = child.wait().expect("the run ends");
    let all = reader.join().unwrap();
    let r = results(&report);
    (status.code(), r, all)
}

fn outcome(r: &serde_json::Value, id: &str) -> (String, String) {
    let case = r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no case {id}"));
    (
        case["outcome"].as_str().unwrap().to_owned(),
        case["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn a_crash_mid_run_makes_errors() {
    let (code, r, stderr) = run_with_crash("crash", false);
    assert_eq!(code, Some(1), "{stderr}");
    let (o, m) = outcome(&r, "crash/a-slow");
    assert_eq!(o, "error", "{m}");
    assert!(m.contains("crashed during this case"), "{m}");
    assert!(m.contains("SIGKILL") || m.contains("signal: 9"), "{m}");
    for id in ["crash/b-ping", "crash/c-ping"] {
        let (o, m) = outcome(&r, id);
        assert_eq!(o, "error", "{id}: {m}");
        assert!(m.contains("the broker is down"), "{m}");
    }
    assert!(
        r["broker"]["log"]
            .as_str()
            .unwrap()
            .contains("the broker exited")
    );
}

#[test]
fn restart_on_crash_lets_later_cases_pass() {
    let (code, r, stderr) = run_with_crash("restart", true);
    assert_eq!(code, Some(1), "{stderr}");
    let (o, m) = outcome(&r, "crash/a-slow");
    assert_eq!(o, "error", "{m}");
    for id in ["crash/b-ping", "crash/c-ping"] {
        let (o, m) = outcome(&r, id);
        assert_eq!(o, "pass", "{id}: {m}");
    }
    let log = r["broker"]["log"].as_str().unwrap();
    assert!(log.contains("restarting the broker"), "{log}");
}
