//! The built-in scenario set: it loads, and every case passes against the reference broker
//! (the oracle: a failure here means a wrong scenario or a broker bug to fix).

use mqttspec::engine::{self, RunConfig};
use mqttspec::scenario::{Capability, Scenario};
use mqttspec_report::{Outcome, RunResults};

#[test]
fn built_in_scenarios_load_and_cite_known_statements() {
    let catalog = mqttspec::builtin::catalog().unwrap_or_else(|e| panic!("{e:#?}"));
    assert!(
        catalog.scenarios.len() >= 20,
        "{} scenarios",
        catalog.scenarios.len()
    );
}

/// Runs the built-in set against a reference broker with `broker_config`, declaring
/// `lacks`; returns the results and the cases that neither passed nor were skipped as
/// `skippable` allows.
async fn run_against_reference(
    broker_config: mqttspec_broker::Config,
    lacks: &[Capability],
    skippable: impl Fn(&Scenario) -> bool,
) -> (RunResults, Vec<String>) {
    let broker = mqttspec_broker::start(broker_config).await.expect("starts");
    let catalog = mqttspec::builtin::catalog().expect("loads");
    let mut config = RunConfig::new(broker.local_addr().to_string());
    config.launcher = "embedded".into();
    config.lacks.extend(lacks.iter().copied());
    let results = engine::run(&catalog, &config, |_| {})
        .await
        .expect("reachable");
    broker.shutdown().await;
    let may_skip: Vec<&str> = catalog
        .scenarios
        .iter()
        .filter(|s| skippable(s))
        .map(|s| s.id.as_str())
        .collect();
    let wrong = results
        .cases
        .iter()
        .filter(|c| {
            c.outcome != Outcome::Pass
                && !(c.outcome == Outcome::Skipped && may_skip.contains(&c.id.as_str()))
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
    (results, wrong)
}

#[tokio::test]
async fn the_built_in_set_passes_against_the_reference_broker() {
    // The reference broker offers everything: only scenarios for brokers that lack
    // something are skipped.
    let (results, wrong) = run_against_reference(mqttspec_broker::Config::default(), &[], |s| {
        !s.lacks.is_empty()
    })
    .await;
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(results.cases.len() >= 40, "{} cases", results.cases.len());
}

/// Scenarios gated on capabilities (`requires`, `lacks`) against a reference broker that
/// offers less: every case that runs passes (those needing wildcards are skipped), and
/// the ones for brokers without wildcard subscriptions do run.
#[tokio::test]
async fn the_built_in_set_passes_against_a_reference_broker_without_wildcards() {
    // 3.1.1 has no CONNACK property to say so: declared.
    let (results, wrong) = run_against_reference(
        mqttspec_broker::Config {
            wildcard_subscriptions: false,
            ..mqttspec_broker::Config::default()
        },
        &[Capability::Wildcard],
        |s| s.requires.contains(&Capability::Wildcard),
    )
    .await;
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
}
