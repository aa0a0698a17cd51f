//! `mqttspec fuzz` finds bugs of known classes planted in the reference broker (cargo
//! feature `planted-bugs`): a crash on a zero-length topic, a hang on a flood of User
//! Properties, a wrong packet identifier in PUBACK. Each hunt starts from a scenario that
//! does not trigger the bug (checked first), so it is the mutations that reach it; each
//! finding's scenario then fails against the buggy broker and passes against the correct
//! one.
#![cfg(feature = "planted-bugs")]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mqttspec::engine::{self, RunConfig, Supervised, Supervision};
use mqttspec::fuzz::{self, FindingSummary, FuzzConfig};
use mqttspec::launch::{SpawnSpec, Spawned};
use mqttspec::scenario::{Catalog, load_dir};
use mqttspec_report::{Outcome, RunResults};

const BIN: &str = env!("CARGO_BIN_EXE_mqttspec");
/// The scenario every hunt starts from: one QoS 1 PUBLISH with a small packet identifier.
const SEED: &str = "publish/qos1/puback";

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("mqttspec-fuzz-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The reference broker with `bug` planted, started on a free loopback port.
fn planted(bug: &str) -> Arc<Spawned> {
    let spec = SpawnSpec {
        command: format!("'{BIN}' broker --listen 127.0.0.1:{{port}} --planted-bug {bug}"),
        config_template: None,
        ready_timeout: Duration::from_secs(10),
    };
    Arc::new(Spawned::start(&spec).expect("the planted broker starts"))
}

/// Runs `catalog` against the broker at `address` (restarting a supervised one that
/// crashes, for the cases after).
async fn replay(catalog: &Catalog, address: String, broker: Option<Arc<Spawned>>) -> RunResults {
    let mut config = RunConfig::new(address);
    config.case_timeout = Duration::from_secs(20);
    config.run_timeout = Duration::from_secs(60);
    config.supervisor = broker.map(|b| Supervision {
        broker: b as Arc<dyn Supervised>,
        restart_on_crash: true,
    });
    engine::run(catalog, &config, |_| {})
        .await
        .expect("reachable")
}

/// What a hunt must find: a finding of this rule, or one citing one of these statements.
enum Wanted {
    Rule(&'static str),
    Statements(&'static [&'static str]),
}

impl Wanted {
    fn matches(&self, f: &FindingSummary) -> bool {
        match self {
            Wanted::Rule(rule) => f.rule == *rule,
            Wanted::Statements(ids) => f.statement.as_deref().is_some_and(|s| ids.contains(&s)),
        }
    }
}

/// Fuzzes the broker with `bug` from [`SEED`] until a finding it `wanted` is written, then
/// replays it both ways.
async fn hunt(bug: &str, wanted: Wanted) {
    let broker = planted(bug);
    let builtin = mqttspec::builtin::catalog().expect("built-in scenarios");

    // The seed alone does not trigger the bug: whatever is found, mutation reached.
    let seed_only = Catalog {
        scenarios: engine::select(&builtin, &[SEED.to_owned()])
            .into_iter()
            .cloned()
            .collect(),
    };
    let results = replay(&seed_only, broker.address(), Some(broker.clone())).await;
    assert!(
        results.cases.iter().all(|c| c.outcome == Outcome::Pass),
        "{bug}: the seed passes against the buggy broker: {:#?}",
        results.cases
    );

    let out = TempDir::new(bug);
    let mut config = FuzzConfig::new(broker.address(), &out.0);
    config.filters = vec![SEED.to_owned()];
    config.duration = Some(Duration::from_secs(150));
    config.seed = 42;
    config.jobs = 4;
    config.exec.hang_timeout = Duration::from_millis(1000);
    config.supervisor = Some(broker.clone() as Arc<dyn Supervised>);
    config.minimize_budget_down = 40;
    config.max_findings = Some(1);
    let summary = fuzz::run(&builtin, config, Duration::from_secs(60), |_| {})
        .await
        .expect("the fuzzer runs");
    let found: Vec<&FindingSummary> = summary
        .findings
        .iter()
        .filter(|f| wanted.matches(f) && f.path.is_some() && !f.unconfirmed)
        .collect();
    assert!(
        !found.is_empty(),
        "{bug}: no confirmed finding of the bug in {} executions: {:#?}",
        summary.executions,
        summary.findings
    );
    assert!(
        summary.executions > summary.seeds as u64,
        "found by a mutant"
    );

    // The finding replays: it fails against the buggy broker …
    let findings = load_dir(&out.0).expect("the finding is a valid scenario");
    assert!(!findings.scenarios.is_empty());
    let buggy = planted(bug);
    let results = replay(&findings, buggy.address(), Some(buggy.clone())).await;
    buggy.stop();
    for case in &results.cases {
        assert_eq!(
            case.outcome,
            Outcome::Fail,
            "{bug}: {} does not fail against the buggy broker: {case:#?}",
            case.id
        );
        assert!(case.tags.iter().any(|t| t == "fuzz"));
    }
    // … and passes against the correct one.
    let correct = mqttspec_broker::start(mqttspec_broker::Config::default())
        .await
        .expect("the reference broker starts");
    let results = replay(&findings, correct.local_addr().to_string(), None).await;
    correct.shutdown().await;
    for case in &results.cases {
        assert_eq!(
            case.outcome,
            Outcome::Pass,
            "{bug}: {} fails against the correct broker: {case:#?}",
            case.id
        );
    }
    broker.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_a_crash_on_a_zero_length_topic() {
    hunt("crash-on-empty-topic", Wanted::Rule("crash")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_a_hang_on_a_flood_of_user_properties() {
    hunt("hang-on-property-flood", Wanted::Rule("hang")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_a_wrong_packet_identifier_in_puback() {
    // The bug shows as a PUBACK for an identifier never used (`ack-packet-id`) or, for
    // 0x8000, as a PUBACK carrying the invalid identifier 0 (`malformed`): either way the
    // rule broken is the one on acknowledgement identifiers.
    hunt(
        "wrong-puback-id",
        Wanted::Statements(&["MQTT-2.2.1-5", "MQTT-2.3.1-6"]),
    )
    .await;
}

/// Against the correct broker, the same hunt finds nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_nothing_in_the_reference_broker() {
    let broker = mqttspec_broker::start(mqttspec_broker::Config::default())
        .await
        .expect("the reference broker starts");
    let builtin = mqttspec::builtin::catalog().expect("built-in scenarios");
    let out = TempDir::new("reference");
    let mut config = FuzzConfig::new(broker.local_addr().to_string(), &out.0);
    config.filters = vec![SEED.to_owned(), "ping".to_owned(), "subscribe".to_owned()];
    config.iterations = Some(3000);
    config.seed = 42;
    config.jobs = 4;
    let summary = fuzz::run(&builtin, config, Duration::from_secs(60), |_| {})
        .await
        .expect("the fuzzer runs");
    broker.shutdown().await;
    assert!(summary.executions >= 3000, "{summary:?}");
    assert!(summary.distinct_responses > 20, "{summary:?}");
    assert!(summary.findings.is_empty(), "{:#?}", summary.findings);
}
