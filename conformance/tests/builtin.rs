//! The built-in scenario set: it loads, and every case passes against the reference broker
//! (the oracle: a failure here means a wrong scenario or a broker bug to fix).

use mqttspec::engine::{self, RunConfig};
use mqttspec_report::Outcome;

#[test]
fn built_in_scenarios_load_and_cite_known_statements() {
    let catalog = mqttspec::builtin::catalog().unwrap_or_else(|e| panic!("{e:#?}"));
    assert!(
        catalog.scenarios.len() >= 20,
        "{} scenarios",
        catalog.scenarios.len()
    );
}

#[tokio::test]
async fn the_built_in_set_passes_against_the_reference_broker() {
    let broker = mqttspec_broker::start(mqttspec_broker::Config::default())
        .await
        .expect("starts");
    let catalog = mqttspec::builtin::catalog().expect("loads");
    let mut config = RunConfig::new(broker.local_addr().to_string());
    config.launcher = "embedded".into();
    let results = engine::run(&catalog, &config, |_| {})
        .await
        .expect("reachable");
    let not_passed: Vec<_> = results
        .cases
        .iter()
        .filter(|c| c.outcome != Outcome::Pass)
        .map(|c| {
            format!(
                "{} [{}]: {:?} {}",
                c.id,
                c.protocol,
                c.outcome,
                c.message.clone().unwrap_or_default()
            )
        })
        .collect();
    assert!(not_passed.is_empty(), "{not_passed:#?}");
    assert!(results.cases.len() >= 40, "{} cases", results.cases.len());
    broker.shutdown().await;
}
