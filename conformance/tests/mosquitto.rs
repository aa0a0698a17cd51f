//! The whole built-in suite against Mosquitto (Debian's package), its verdicts kept as a
//! snapshot so that any change in them shows in review. `scenarios/DEVIATIONS.md` explains
//! every verdict that is not a pass.
//!
//! Needs `/usr/sbin/mosquitto` (or `MOSQUITTO`): `.ci/run` installs it. Without it the test
//! says so and passes, except under CI (`CI` set), where a missing Mosquitto is a failure.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mqttspec::engine::{self, RunConfig};

struct Mosquitto {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mosquitto_binary() -> Option<PathBuf> {
    let path = std::env::var_os("MOSQUITTO")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/mosquitto"));
    path.exists().then_some(path)
}

fn start_mosquitto(binary: &PathBuf) -> Mosquitto {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let dir = TempDir(
        std::env::temp_dir().join(format!("mqttspec-mosquitto-{}-{port}", std::process::id())),
    );
    std::fs::create_dir_all(&dir.0).expect("temp dir");
    let conf = dir.0.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!("listener {port} 127.0.0.1\nallow_anonymous true\n"),
    )
    .expect("config");
    let child = Command::new(binary)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mosquitto starts");
    let m = Mosquitto {
        child,
        port,
        _dir: dir,
    };
    // Ready when it accepts a connection (bounded).
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "mosquitto did not start listening on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    m
}

#[test]
fn mosquitto_verdicts_match_the_snapshot() {
    let Some(binary) = mosquitto_binary() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install mosquitto (see .ci/run)"
        );
        eprintln!("mosquitto not installed: skipping");
        return;
    };
    let mosquitto = start_mosquitto(&binary);
    let catalog = mqttspec::builtin::catalog().expect("loads");
    let mut config = RunConfig::new(format!("127.0.0.1:{}", mosquitto.port));
    config.launcher = "spawned mosquitto".into();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let results = rt
        .block_on(engine::run(&catalog, &config, |_| {}))
        .expect("mosquitto reachable");
    // Verdicts that hang on the broker's timer granularity vary between runs: not in the
    // snapshot (scenarios tagged `timing`).
    let lines: Vec<String> = results
        .cases
        .iter()
        .filter(|c| !c.tags.iter().any(|t| t == "timing"))
        .map(|c| format!("{:<8} [{}] {}", c.outcome.as_str(), c.protocol, c.id))
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}
