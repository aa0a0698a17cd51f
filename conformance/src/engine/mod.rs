//! The scenario engine: probes the broker, then runs every selected (scenario, version)
//! case concurrently, each isolated by its own client ids and topic prefix.

mod case;
pub mod client;
pub mod oracle;
mod probe;
pub use probe::CHALLENGE_METHOD;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mqttspec_report::{BrokerInfo, CaseResult, Outcome, RunResults, Summary, ToolInfo};
use tokio::sync::Semaphore;

use crate::scenario::{Capability, Catalog, Scenario, Version};
pub use probe::{Capabilities, probe};

/// Everything a run needs, validated (the CLI builds it; the engine never sees clap).
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// `host:port` of the broker under test.
    pub address: String,
    /// How the broker was reached, for the report (`embedded`, `address`).
    pub launcher: String,
    /// Glob patterns on scenario ids; empty selects everything.
    pub filters: Vec<String>,
    pub versions: Vec<Version>,
    pub jobs: usize,
    pub strict: bool,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Capabilities declared missing, on top of what the probe finds.
    pub lacks: BTreeSet<Capability>,
    pub case_timeout: Duration,
    /// Bound on the whole run; cases still running then become `timeout`.
    pub run_timeout: Duration,
    /// A broker the run started itself, watched for crashes between and during cases.
    pub supervisor: Option<Supervision>,
}

/// A broker process the run is responsible for (`--spawn`): the engine asks it whether it
/// crashed, and may restart it.
pub trait Supervised: Send + Sync + std::fmt::Debug {
    /// `Some(why)` (exit status, last standard error lines) if it exited on its own.
    fn crashed(&self) -> Option<String>;
    /// The last crash seen, even after a restart.
    fn last_crash(&self) -> Option<String>;
    /// Counts (re)starts: a case that sees it change ran across a crash.
    fn generation(&self) -> u64;
    /// Starts it again and waits until it is ready (blocking, bounded).
    fn restart(&self) -> Result<(), String>;
    /// Kills it at once (SIGKILL) without taking it out of supervision, so that
    /// [`Supervised::restart`] starts it again: for a broker that hangs (blocking, bounded).
    fn kill(&self);
}

#[derive(Clone, Debug)]
pub struct Supervision {
    pub broker: Arc<dyn Supervised>,
    /// Start it again after a crash, for the cases that follow.
    pub restart_on_crash: bool,
}

/// Cases run at once by default: each is mostly idle, waiting on the broker, so a wide
/// window keeps a broker that lets many steps run into their bounds quick to test (128
/// cases hold at most about 500 connections).
pub const DEFAULT_JOBS: usize = 128;

impl RunConfig {
    pub fn new(address: impl Into<String>) -> Self {
        RunConfig {
            address: address.into(),
            launcher: "address".into(),
            filters: Vec::new(),
            versions: vec![Version::V3_1_1, Version::V5],
            jobs: DEFAULT_JOBS,
            strict: false,
            username: None,
            password: None,
            lacks: BTreeSet::new(),
            case_timeout: Duration::from_secs(30),
            run_timeout: Duration::from_secs(600),
            supervisor: None,
        }
    }
}

/// Does `id` match the glob `pattern` (`*` any run of characters, `?` one)?
pub fn glob_match(pattern: &str, id: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], s) || (!s.is_empty() && go(p, &s[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &s[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), id.as_bytes())
}

/// The scenarios a filter list selects (a pattern without wildcards also selects the
/// scenarios below it: `publish` selects `publish/qos1/puback`).
pub fn select<'a>(catalog: &'a Catalog, filters: &[String]) -> Vec<&'a Scenario> {
    catalog
        .scenarios
        .iter()
        .filter(|s| {
            filters.is_empty()
                || filters.iter().any(|f| {
                    glob_match(f, &s.id)
                        || glob_match(&format!("{}/*", f.trim_end_matches('/')), &s.id)
                })
        })
        .collect()
}

/// Why a run could not happen at all.
#[derive(Debug)]
pub enum RunError {
    /// The broker did not accept a connection.
    Unreachable(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Unreachable(why) => write!(f, "broker unreachable: {why}"),
        }
    }
}

impl std::error::Error for RunError {}

/// Runs the selected scenarios; `on_case` sees each result as it completes.
pub async fn run(
    catalog: &Catalog,
    config: &RunConfig,
    on_case: impl Fn(&CaseResult) + Send + Sync + 'static,
) -> Result<RunResults, RunError> {
    let started = Instant::now();
    let started_at = rfc3339_now();
    let caps = probe(config).await.map_err(RunError::Unreachable)?;
    let run_id = std::process::id() ^ (started_at.len() as u32).rotate_left(7) ^ (nanos() as u32);
    let run_id = run_id & 0xFF_FFFF;

    let mut cases: Vec<(Scenario, Version)> = Vec::new();
    for s in select(catalog, &config.filters) {
        for &v in &s.versions {
            if config.versions.contains(&v) {
                cases.push((s.clone(), v));
            }
        }
    }
    let total = cases.len();
    let config = Arc::new(config.clone());
    let caps = Arc::new(caps);
    let on_case = Arc::new(on_case);
    let semaphore = Arc::new(Semaphore::new(config.jobs.max(1)));
    // Held while restarting a crashed broker; `true` once a restart failed (no more tries).
    let restarting = Arc::new(tokio::sync::Mutex::new(false));
    let mut set = tokio::task::JoinSet::new();
    // Cases start in catalog order: one dispatcher hands out the `jobs` permits in turn
    // (tasks racing for them would start in whatever order the workers poll them).
    let mut turns = Vec::with_capacity(total);
    for (index, (scenario, version)) in cases.into_iter().enumerate() {
        let (config, caps, on_case, restarting) = (
            config.clone(),
            caps.clone(),
            on_case.clone(),
            restarting.clone(),
        );
        let (turn, my_turn) = tokio::sync::oneshot::channel();
        turns.push(turn);
        set.spawn(async move {
            let Ok(_permit) = my_turn.await else {
                return (index, None);
            };
            let result = match missing_capability(&scenario, version, &caps, &config) {
                Some(why) => skipped(&scenario, version, why),
                None => match broker_up(config.supervisor.as_ref(), &restarting).await {
                    Err(why) => crashed(&scenario, version, why),
                    Ok(generation) => {
                        let mut result = case::run(case::CaseSetup {
                            scenario: &scenario,
                            version,
                            index,
                            run_id,
                            config: &config,
                        })
                        .await;
                        if let (Some(s), Some(generation)) = (&config.supervisor, generation) {
                            mark_crash(&mut result, &scenario, s, generation);
                        }
                        result
                    }
                },
            };
            on_case(&result);
            (index, Some(result))
        });
    }
    let dispatcher = tokio::spawn(async move {
        for turn in turns {
            let Ok(permit) = semaphore.clone().acquire_owned().await else {
                return;
            };
            // A case gone before its turn (the run's bound) hands the permit straight back.
            let _ = turn.send(permit);
        }
    });
    let mut results: Vec<Option<CaseResult>> = vec![None; total];
    let deadline = tokio::time::Instant::now() + config.run_timeout;
    loop {
        match tokio::time::timeout_at(deadline, set.join_next()).await {
            Ok(Some(Ok((index, result)))) => results[index] = result,
            Ok(Some(Err(_panicked))) => {}
            Ok(None) => break,
            Err(_) => {
                set.abort_all();
                break;
            }
        }
    }
    dispatcher.abort();
    let mut cases: Vec<CaseResult> = Vec::with_capacity(total);
    for (slot, result) in results.into_iter().enumerate() {
        cases.push(result.unwrap_or_else(|| CaseResult {
            id: format!("case-{slot}"),
            title: String::new(),
            protocol: String::new(),
            level: "must".into(),
            statements: Vec::new(),
            tags: Vec::new(),
            outcome: Outcome::Timeout,
            duration_ms: 0,
            message: Some("the run's time bound ended before this case finished".into()),
            step: None,
            expected: None,
            actual: None,
            failed_statement: None,
            transcript: Vec::new(),
        }));
    }
    cases.sort_by(|a, b| {
        (a.id.as_str(), a.protocol.as_str()).cmp(&(b.id.as_str(), b.protocol.as_str()))
    });
    Ok(RunResults {
        schema_version: mqttspec_report::model::SCHEMA_VERSION,
        tool: ToolInfo {
            name: "mqttspec".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        broker: BrokerInfo {
            address: config.address.clone(),
            launcher: config.launcher.clone(),
            capabilities: caps.report(),
            log: None,
        },
        started_at,
        duration_ms: started.elapsed().as_millis() as u64,
        strict: config.strict,
        summary: Summary::of(&cases),
        cases,
    })
}

/// Before a case: is the supervised broker (if any) up? Restarts it after a crash when asked
/// to. `Ok(generation)` to compare after the case; `Err(why)` makes the case an error.
async fn broker_up(
    supervisor: Option<&Supervision>,
    restarting: &tokio::sync::Mutex<bool>,
) -> Result<Option<u64>, String> {
    let Some(s) = supervisor else {
        return Ok(None);
    };
    let Some(why) = s.broker.crashed() else {
        return Ok(Some(s.broker.generation()));
    };
    if !s.restart_on_crash {
        return Err(format!("the broker is down: {why}"));
    }
    let mut failed = restarting.lock().await;
    if *failed {
        return Err(format!(
            "the broker is down and could not be restarted: {why}"
        ));
    }
    // Another case may have restarted it while this one waited for the lock.
    if s.broker.crashed().is_some() {
        let broker = s.broker.clone();
        let restarted = tokio::task::spawn_blocking(move || broker.restart())
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
        if let Err(e) = restarted {
            *failed = true;
            return Err(format!(
                "the broker is down ({why}) and restarting it failed: {e}"
            ));
        }
    }
    Ok(Some(s.broker.generation()))
}

/// After a case: if the broker crashed while it ran, the verdict is an error, not the
/// broker's behaviour — unless the case failed at an `expect_alive` step, which checks
/// exactly that: then the crash is the verdict, and its exit status and last words are
/// added to the message.
fn mark_crash(result: &mut CaseResult, scenario: &Scenario, s: &Supervision, generation: u64) {
    let why = match s.broker.crashed() {
        Some(why) => why,
        None if s.broker.generation() != generation => s
            .broker
            .last_crash()
            .unwrap_or_else(|| "the broker was restarted".into()),
        None => return,
    };
    let failed_at_alive = result.outcome == Outcome::Fail
        && result
            .step
            .and_then(|n| scenario.steps.get(n.wrapping_sub(1)))
            .is_some_and(|step| matches!(step, crate::scenario::Step::ExpectAlive(_)));
    if failed_at_alive {
        let message = result.message.take().unwrap_or_default();
        result.message = Some(format!("{message}; the broker crashed: {why}"));
        return;
    }
    let before = result
        .message
        .take()
        .map(|m| format!(" (the case saw: {m})"))
        .unwrap_or_default();
    result.outcome = Outcome::Error;
    result.message = Some(format!(
        "the broker crashed during this case{before}: {why}"
    ));
}

fn crashed(s: &Scenario, v: Version, why: String) -> CaseResult {
    CaseResult {
        outcome: Outcome::Error,
        ..skipped(s, v, why)
    }
}

fn missing_capability(
    s: &Scenario,
    v: Version,
    caps: &Capabilities,
    config: &RunConfig,
) -> Option<String> {
    let offered = |c: &Capability| !config.lacks.contains(c) && caps.has(v, *c);
    let missing = s.requires.iter().find_map(|c| {
        if config.lacks.contains(c) {
            Some(format!("declared missing: {}", c.name()))
        } else if !caps.has(v, *c) {
            Some(format!(
                "the broker does not offer {} (probed under {v})",
                c.name()
            ))
        } else {
            None
        }
    });
    missing.or_else(|| {
        s.lacks.iter().find(|c| offered(c)).map(|c| {
            format!(
                "for brokers without {}: this one offers it (--lacks {} to declare otherwise)",
                c.name(),
                c.name()
            )
        })
    })
}

fn skipped(s: &Scenario, v: Version, why: String) -> CaseResult {
    CaseResult {
        id: s.id.clone(),
        title: s.title.clone(),
        protocol: v.as_str().into(),
        level: s.level.as_str().into(),
        statements: s
            .statements
            .for_version(v)
            .iter()
            .map(|id| mqttspec_report::StatementCitation {
                id: id.clone(),
                spec: v.spec().as_str().into(),
            })
            .collect(),
        tags: s.tags.clone(),
        outcome: Outcome::Skipped,
        duration_ms: 0,
        message: Some(why),
        step: None,
        expected: None,
        actual: None,
        failed_statement: None,
        transcript: Vec::new(),
    }
}

/// Did the run pass? Every case passed or was skipped (`warn` too, unless strict).
pub fn passed(results: &RunResults) -> bool {
    results.cases.iter().all(|c| match c.outcome {
        Outcome::Pass | Outcome::Skipped => true,
        Outcome::Warn => !results.strict,
        _ => false,
    })
}

/// Counts by (protocol, outcome), for summaries.
pub fn tally(results: &RunResults) -> BTreeMap<(String, Outcome), usize> {
    let mut t = BTreeMap::new();
    for c in &results.cases {
        *t.entry((c.protocol.clone(), c.outcome)).or_insert(0) += 1;
    }
    t
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// The current UTC time as RFC 3339 (`2026-11-22T03:04:05Z`).
pub fn rfc3339_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_ids() {
        assert!(glob_match("publish/*", "publish/qos1/puback"));
        assert!(glob_match("*/puback", "publish/qos1/puback"));
        assert!(glob_match("publish/qos?/puback", "publish/qos1/puback"));
        assert!(!glob_match("connect/*", "publish/qos1/puback"));
    }

    #[test]
    fn rfc3339_has_the_right_shape() {
        let t = rfc3339_now();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z'), "{t}");
    }
}
