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
    // The reference broker offers everything: only scenarios for brokers that lack
    // something are skipped.
    let for_lesser_brokers: Vec<&str> = catalog
        .scenarios
        .iter()
        .filter(|s| !s.lacks.is_empty())
        .map(|s| s.id.as_str())
        .collect();
    let not_passed: Vec<_> = results
        .cases
        .iter()
        .filter(|c| {
            c.outcome != Outcome::Pass
                && !(c.outcome == Outcome::Skipped && for_lesser_brokers.contains(&c.id.as_str()))
        })
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

/// Scenarios gated on capabilities (`requires`, `lacks`) against a reference broker that
/// offers less: every case that runs passes, and the ones for brokers without wildcard
/// subscriptions do run.
#[tokio::test]
async fn the_built_in_set_passes_against_a_reference_broker_without_wildcards() {
    let broker = mqttspec_broker::start(mqttspec_broker::Config {
        wildcard_subscriptions: false,
        ..mqttspec_broker::Config::default()
    })
    .await
    .expect("starts");
    let catalog = mqttspec::builtin::catalog().expect("loads");
    let mut config = RunConfig::new(broker.local_addr().to_string());
    config.launcher = "embedded, no wildcards".into();
    // 3.1.1 has no CONNACK property to say so.
    config
        .lacks
        .insert(mqttspec::scenario::Capability::Wildcard);
    let results = engine::run(&catalog, &config, |_| {})
        .await
        .expect("reachable");
    let wrong: Vec<_> = results
        .cases
        .iter()
        .filter(|c| !matches!(c.outcome, Outcome::Pass | Outcome::Skipped))
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
    assert!(wrong.is_empty(), "{wrong:#?}");
    for protocol in ["3.1.1", "5.0"] {
        let case = results
            .cases
            .iter()
            .find(|c| {
                c.id == "subscribe/wildcards/refused-when-unsupported" && c.protocol == protocol
            })
            .expect("the lacks-wildcard scenario is in the set");
        assert_eq!(
            case.outcome,
            Outcome::Pass,
            "{protocol}: {:?}",
            case.message
        );
    }
    broker.shutdown().await;
}
