//! `mqttspec fuzz`: the command around [`mqttspec::fuzz`] — target, bounds, progress,
//! summary, exit code.

use std::io::Write as _;
use std::net::ToSocketAddrs;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use mqttspec::engine::Supervised;
use mqttspec::fuzz::{self, FuzzConfig, Progress, Summary};
use mqttspec::scenario::Version;
use serde::Serialize;

use crate::cli::{FuzzArgs, ProtocolArg};

const FINDINGS: u8 = 1;

pub fn main(args: FuzzArgs) -> ExitCode {
    if args.duration.is_none() && args.iterations.is_none() {
        eprintln!("mqttspec: fuzz needs a bound: --duration and/or --iterations");
        return ExitCode::from(crate::USAGE);
    }
    if args.jobs == 0 || args.jobs > 256 {
        eprintln!("mqttspec: --jobs must be 1..=256");
        return ExitCode::from(crate::USAGE);
    }
    let catalog = match crate::load(args.scenarios.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let spawned = match crate::spawn(&args.target) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let code = crate::runtime().block_on(async {
        let (address, launcher, embedded) =
            match crate::connect_target(&args.target, &spawned).await {
                Ok(t) => t,
                Err(code) => return code,
            };
        if let Err(why) = loopback_only(&address) {
            eprintln!("mqttspec: {why}");
            return ExitCode::from(crate::UNREACHABLE);
        }
        let mut config = FuzzConfig::new(address.clone(), args.out.clone());
        config.target = format!("{address} ({launcher})");
        config.versions = match args.protocol {
            ProtocolArg::V3_1_1 => vec![Version::V3_1_1],
            ProtocolArg::V5 => vec![Version::V5],
            ProtocolArg::All => vec![Version::V3_1_1, Version::V5],
        };
        config.filters = args.filter.clone();
        config.duration = args.duration;
        config.iterations = args.iterations;
        config.jobs = args.jobs;
        config.seed = seed;
        config.exec.hang_timeout = Duration::from_millis(args.hang_timeout.max(100));
        config.exec.username = args.username.clone();
        config.exec.password = args.password.clone();
        config.minimize_budget = args.minimize_budget;
        config.max_findings = args.max_findings;
        config.minimize_budget_down = (args.minimize_budget / 4).max(1);
        config.supervisor = spawned
            .as_ref()
            .map(|s| s.clone() as Arc<dyn Supervised>);
        eprintln!(
            "mqttspec: fuzzing {address} ({launcher}), seed {seed}, {} jobs, {}",
            args.jobs,
            bounds(&args)
        );
        if spawned.is_none() {
            eprintln!(
                "mqttspec: the run cannot restart this broker: a crash or hang ends it, unminimized (use --spawn or --image to have it pinned and minimized)"
            );
        }
        let outcome = tokio::select! {
            r = fuzz::run(&catalog, config, Duration::from_secs(5), print_progress) => r,
            _ = tokio::signal::ctrl_c() => {
                if let Some(s) = &spawned {
                    s.stop();
                }
                eprintln!("mqttspec: interrupted");
                return ExitCode::from(crate::INTERRUPTED);
            }
        };
        if let Some(b) = embedded {
            b.shutdown().await;
        }
        let summary = match outcome {
            Ok(s) => s,
            Err(e) => {
                eprintln!("mqttspec: {e}");
                return ExitCode::from(crate::UNREACHABLE);
            }
        };
        print_summary(&summary, seed);
        if let Err(e) = write_summary(&args.out, &summary, seed, &address) {
            eprintln!("mqttspec: cannot write the summary: {e}");
            return ExitCode::from(crate::USAGE);
        }
        if summary.findings.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(FINDINGS)
        }
    });
    if let Some(s) = &spawned {
        s.stop();
    }
    code
}

fn bounds(args: &FuzzArgs) -> String {
    match (args.duration, args.iterations) {
        (Some(d), Some(n)) => format!("for {} s or {n} executions", d.as_secs()),
        (Some(d), None) => format!("for {} s", d.as_secs()),
        (None, Some(n)) => format!("for {n} executions"),
        (None, None) => String::new(),
    }
}

/// Fuzzing sends deliberately broken traffic: only to this machine.
fn loopback_only(address: &str) -> Result<(), String> {
    let addrs: Vec<_> = address
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {address}: {e}"))?
        .collect();
    if addrs.is_empty() || addrs.iter().any(|a| !a.ip().is_loopback()) {
        return Err(format!(
            "{address} is not a loopback address: mqttspec fuzz only targets brokers on this machine"
        ));
    }
    Ok(())
}

fn print_progress(p: &Progress) {
    eprintln!(
        "mqttspec fuzz: {} execs ({:.0}/s), {} distinct responses, corpus {}, {} findings",
        p.executions,
        p.executions as f64 / p.elapsed.as_secs_f64().max(1e-9),
        p.distinct_responses,
        p.corpus,
        p.findings
    );
}

fn print_summary(s: &Summary, seed: u64) {
    eprintln!(
        "mqttspec: {} executions in {:.1} s ({:.0}/s), {} distinct responses, corpus {} ({} seeds), seed {seed}",
        s.executions,
        s.elapsed.as_secs_f64(),
        s.execs_per_sec(),
        s.distinct_responses,
        s.corpus,
        s.seeds
    );
    if s.unreproduced > 0 {
        eprintln!(
            "mqttspec: {} crash or hang signals that no input reproduced alone",
            s.unreproduced
        );
    }
    if let Some(why) = &s.halted {
        eprintln!("mqttspec: stopped early: {why}");
    }
    if s.findings.is_empty() {
        eprintln!("mqttspec: no findings");
    }
    for f in &s.findings {
        let mut out = std::io::stderr().lock();
        let _ = writeln!(
            out,
            "FINDING {} [{}] {}{}{}",
            f.rule,
            f.version,
            f.description,
            if f.repeats > 0 {
                format!(" (seen {} more times)", f.repeats)
            } else {
                String::new()
            },
            if f.unconfirmed { " (unconfirmed)" } else { "" }
        );
        if let Some(p) = &f.path {
            let _ = writeln!(out, "  replay: mqttspec run --scenarios {}", p.display());
        }
    }
}

#[derive(Serialize)]
struct SummaryJson<'a> {
    tool: String,
    broker: &'a str,
    seed: u64,
    executions: u64,
    seconds: f64,
    executions_per_second: f64,
    distinct_responses: usize,
    corpus: usize,
    seeds: usize,
    unreproduced: u64,
    halted: Option<&'a str>,
    findings: Vec<FindingJson<'a>>,
    /// Per mutation: how often applied, and how often its input was kept.
    mutations: std::collections::BTreeMap<&'a str, [u64; 2]>,
}

#[derive(Serialize)]
struct FindingJson<'a> {
    id: &'a str,
    rule: &'a str,
    statement: Option<&'a str>,
    protocol: &'a str,
    description: &'a str,
    scenario: Option<String>,
    repeats: u64,
    unconfirmed: bool,
}

fn write_summary(
    dir: &std::path::Path,
    s: &Summary,
    seed: u64,
    broker: &str,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = SummaryJson {
        tool: format!("mqttspec {}", env!("CARGO_PKG_VERSION")),
        broker,
        seed,
        executions: s.executions,
        seconds: s.elapsed.as_secs_f64(),
        executions_per_second: s.execs_per_sec(),
        distinct_responses: s.distinct_responses,
        corpus: s.corpus,
        seeds: s.seeds,
        unreproduced: s.unreproduced,
        halted: s.halted.as_deref(),
        findings: s
            .findings
            .iter()
            .map(|f| FindingJson {
                id: &f.id,
                rule: &f.rule,
                statement: f.statement.as_deref(),
                protocol: f.version.as_str(),
                description: &f.description,
                scenario: f.path.as_ref().map(|p| p.display().to_string()),
                repeats: f.repeats,
                unconfirmed: f.unconfirmed,
            })
            .collect(),
        mutations: s
            .mutations
            .iter()
            .map(|(k, (applied, kept))| (*k, [*applied, *kept]))
            .collect(),
    };
    let text = serde_json::to_string_pretty(&json).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("summary.json"), text + "\n")
}
