//! `mqttspec`: parse the command line, run, exit with the documented code.

mod cli;

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use cli::{Cli, Command, ProtocolArg, RunArgs, TargetArgs};
use indicatif::{ProgressBar, ProgressStyle};
use mqttspec::engine::{self, RunConfig, Supervision};
use mqttspec::launch::{LaunchError, Launched, SpawnSpec, Spawned};
use mqttspec::scenario::{Capability, Catalog, Version};
use mqttspec_codec::{Packet, ProtocolVersion, render, spec};
use mqttspec_report::{CaseResult, Format, Outcome};

/// `println!` that exits quietly when standard output is closed (`mqttspec list | head`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}

mod fuzz_cmd;
mod probe_cmd;

const USAGE: u8 = 2;
const UNREACHABLE: u8 = 3;
/// Stopped by Ctrl-C (128 + SIGINT, as shells report it).
const INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run(args),
        Command::Probe(args) => probe_cmd::main(args),
        Command::Fuzz(args) => fuzz_cmd::main(args),
        Command::List { filter, scenarios } => list(&filter, scenarios.as_deref()),
        Command::Show { id, scenarios } => show(&id, scenarios.as_deref()),
        Command::Report {
            results,
            format,
            labels,
            output,
        } => report(&results, &format, &labels, output.as_deref()),
        Command::Broker {
            listen,
            #[cfg(feature = "planted-bugs")]
            planted_bug,
        } => broker(mqttspec_broker::Config {
            listen,
            #[cfg(feature = "planted-bugs")]
            planted_bug,
            ..Default::default()
        }),
        Command::Decode { hex, protocol } => decode(&hex.join(" "), protocol.into()),
        Command::Spec { id } => show_statement(&id),
        Command::Coverage { json } => coverage(json),
    }
}

fn load(dir: Option<&std::path::Path>) -> Result<Catalog, ExitCode> {
    let loaded = match dir {
        Some(d) => mqttspec::scenario::load_dir(d),
        None => mqttspec::builtin::catalog(),
    };
    loaded.map_err(|errors| {
        for e in errors {
            eprintln!("mqttspec: {e}");
        }
        ExitCode::from(USAGE)
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn run(args: RunArgs) -> ExitCode {
    let catalog = match load(args.scenarios.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut lacks = BTreeSet::new();
    for name in &args.lacks {
        match Capability::parse(name.trim()) {
            Some(c) => {
                lacks.insert(c);
            }
            None => {
                eprintln!("mqttspec: --lacks {name}: not a capability (see --help)");
                return ExitCode::from(USAGE);
            }
        }
    }
    let mut formats = Vec::new();
    for f in &args.format {
        match Format::parse(f) {
            Some(format) => formats.push(format),
            None => {
                eprintln!("mqttspec: --format {f}: use json, junit, markdown or html");
                return ExitCode::from(USAGE);
            }
        }
    }
    if engine::select(&catalog, &args.filter).is_empty() {
        eprintln!("mqttspec: no scenario matches {:?}", args.filter);
        return ExitCode::from(USAGE);
    }
    let spawned = match spawn(&args.target) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let rt = runtime();
    rt.block_on(async move {
        let (address, launcher, embedded) = match connect_target(&args.target, &spawned).await {
            Ok(t) => t,
            Err(code) => return code,
        };
        let config = RunConfig {
            address,
            launcher,
            filters: args.filter.clone(),
            versions: match args.protocol {
                ProtocolArg::V3_1_1 => vec![Version::V3_1_1],
                ProtocolArg::V5 => vec![Version::V5],
                ProtocolArg::All => vec![Version::V3_1_1, Version::V5],
            },
            jobs: args.jobs,
            strict: args.strict,
            username: args.username.clone(),
            password: args.password.clone(),
            lacks,
            case_timeout: Duration::from_secs(30),
            run_timeout: Duration::from_secs(args.timeout),
            supervisor: spawned.as_ref().map(|s| Supervision {
                broker: s.clone(),
                restart_on_crash: args.restart_on_crash,
            }),
        };
        let total: usize = engine::select(&catalog, &config.filters)
            .iter()
            .map(|s| {
                s.versions
                    .iter()
                    .filter(|v| config.versions.contains(v))
                    .count()
            })
            .sum();
        eprintln!(
            "mqttspec: {total} cases against {} ({})",
            config.address, config.launcher
        );
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        let printer = Arc::new(Printer {
            bar: bar.clone(),
            verbose: args.verbose,
        });
        let on_case = {
            let printer = printer.clone();
            move |c: &CaseResult| printer.case(c)
        };
        // Ctrl-C stops a spawned broker (or container) too, instead of leaving it running.
        let outcome = tokio::select! {
            r = engine::run(&catalog, &config, on_case) => r,
            _ = tokio::signal::ctrl_c() => {
                if let Some(bar) = &bar {
                    bar.abandon();
                }
                if let Some(s) = &spawned {
                    s.stop();
                }
                eprintln!("mqttspec: interrupted");
                return ExitCode::from(INTERRUPTED);
            }
        };
        let mut results = match outcome {
            Ok(r) => r,
            Err(e) => {
                if let Some(bar) = &bar {
                    bar.abandon();
                }
                eprintln!("mqttspec: {e}");
                if let Some(s) = &spawned {
                    s.stop();
                    eprintln!("mqttspec: the broker's last output:\n{}", s.stderr_tail());
                }
                return ExitCode::from(UNREACHABLE);
            }
        };
        if let Some(s) = &spawned {
            s.stop();
            results.broker.log = Some(s.log());
        }
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        if let Some(b) = embedded {
            b.shutdown().await;
        }
        if args.transcripts == cli::Transcripts::Failures {
            for case in &mut results.cases {
                if matches!(case.outcome, Outcome::Pass | Outcome::Skipped) {
                    case.transcript.clear();
                }
            }
        }
        if let Err(e) = write_reports(&results, &args, &formats) {
            eprintln!("mqttspec: cannot write the report: {e}");
            return ExitCode::from(USAGE);
        }
        summary(&results, &args);
        if engine::passed(&results) {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    })
}

/// Starts the `--spawn` or `--image` broker, if any (before the runtime: it blocks until
/// ready).
fn spawn(target: &TargetArgs) -> Result<Option<Arc<Launched>>, ExitCode> {
    let launched = match (&target.spawn, &target.image) {
        (Some(command), _) => Spawned::start(&SpawnSpec {
            command: command.clone(),
            config_template: target.config_template.clone(),
            ready_timeout: Duration::from_secs(target.spawn_timeout),
        })
        .map(Launched::Process),
        (None, Some(image)) => start_container(target, image),
        (None, None) => return Ok(None),
    };
    match launched {
        Ok(l) => {
            eprintln!("mqttspec: {}", l.started());
            Ok(Some(Arc::new(l)))
        }
        Err(LaunchError::Usage(e)) => {
            eprintln!("mqttspec: {e}");
            Err(ExitCode::from(USAGE))
        }
        Err(LaunchError::NotReady(e)) => {
            eprintln!("mqttspec: the broker under test is not ready: {e}");
            Err(ExitCode::from(UNREACHABLE))
        }
    }
}

#[cfg(feature = "containers")]
fn start_container(target: &TargetArgs, image: &str) -> Result<Launched, LaunchError> {
    use mqttspec::launch::container::{Container, ImageSpec};
    Container::start(&ImageSpec {
        image: image.to_owned(),
        container_port: target.container_port,
        env: target.env.clone(),
        cmd: target.cmd.clone(),
        ready_timeout: Duration::from_secs(target.spawn_timeout),
    })
    .map(Launched::Container)
}

#[cfg(not(feature = "containers"))]
fn start_container(_: &TargetArgs, _: &str) -> Result<Launched, LaunchError> {
    Err(LaunchError::Usage(
        "--image needs mqttspec built with the `containers` feature (on by default)".into(),
    ))
}

/// The broker's address and launcher: the spawned one, the one named, or the embedded
/// reference broker (started here; shut it down at the end).
async fn connect_target(
    target: &TargetArgs,
    spawned: &Option<Arc<Launched>>,
) -> Result<(String, String, Option<mqttspec_broker::BrokerHandle>), ExitCode> {
    if let Some(s) = spawned {
        return Ok((s.address(), s.launcher(), None));
    }
    match &target.broker {
        Some(url) => match cli::parse_broker(url) {
            Ok(a) => Ok((a, "address".to_owned(), None)),
            Err(e) => {
                eprintln!("mqttspec: --broker {e}");
                Err(ExitCode::from(USAGE))
            }
        },
        None => match mqttspec_broker::start(mqttspec_broker::Config::default()).await {
            Ok(b) => Ok((b.local_addr().to_string(), "embedded".to_owned(), Some(b))),
            Err(e) => {
                eprintln!("mqttspec: cannot start the embedded broker: {e}");
                Err(ExitCode::from(UNREACHABLE))
            }
        },
    }
}

struct Printer {
    bar: Option<ProgressBar>,
    verbose: bool,
}

impl Printer {
    fn case(&self, c: &CaseResult) {
        let line = format!(
            "{:<7} {} [{}] ({} ms){}",
            c.outcome.as_str().to_uppercase(),
            c.id,
            c.protocol,
            c.duration_ms,
            c.message
                .as_ref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        );
        let show = self.verbose || !matches!(c.outcome, Outcome::Pass | Outcome::Skipped);
        match &self.bar {
            Some(bar) => {
                if show {
                    bar.println(line);
                }
                bar.inc(1);
            }
            None => {
                if show {
                    eprintln!("{line}");
                }
            }
        }
    }
}

fn write_reports(
    results: &mqttspec_report::RunResults,
    args: &RunArgs,
    formats: &[Format],
) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(&args.report_dir)?;
    for &format in formats {
        let path = args.report_dir.join(format.file_name());
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
        mqttspec_report::render(format, results, &mut file)?;
        file.flush()?;
        eprintln!("mqttspec: wrote {}", path.display());
    }
    Ok(())
}

fn report(
    inputs: &[std::path::PathBuf],
    format: &str,
    labels: &[String],
    output: Option<&std::path::Path>,
) -> ExitCode {
    use std::io::Write;
    let Some(format) = Format::parse(format) else {
        eprintln!("mqttspec: --format {format}: use json, junit, markdown or html");
        return ExitCode::from(USAGE);
    };
    let mut runs = Vec::new();
    for path in inputs {
        let loaded = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| mqttspec_report::json::read(&text).map_err(|e| e.to_string()));
        match loaded {
            Ok(run) => runs.push(run),
            Err(e) => {
                eprintln!("mqttspec: {}: {e}", path.display());
                return ExitCode::from(USAGE);
            }
        }
    }
    if runs.len() > 1 && format != Format::Html {
        eprintln!("mqttspec: several results files render only as html (the side-by-side matrix)");
        return ExitCode::from(USAGE);
    }
    if !labels.is_empty() && labels.len() != runs.len() {
        eprintln!("mqttspec: --labels needs one label per results file");
        return ExitCode::from(USAGE);
    }
    let mut out: Box<dyn Write> = match output {
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Box::new(std::io::BufWriter::new(f)),
            Err(e) => {
                eprintln!("mqttspec: {}: {e}", path.display());
                return ExitCode::from(USAGE);
            }
        },
        None => Box::new(std::io::stdout().lock()),
    };
    let written = match (runs.as_slice(), labels.is_empty()) {
        ([single], _) => mqttspec_report::render(format, single, &mut out),
        (many, true) => mqttspec_report::html::write_matrix(many, &mut out),
        (many, false) => mqttspec_report::html::write_matrix_labeled(many, labels, &mut out),
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mqttspec: cannot write the report: {e}");
            ExitCode::from(USAGE)
        }
    }
}

fn summary(results: &mqttspec_report::RunResults, _args: &RunArgs) {
    let s = &results.summary;
    for ((protocol, outcome), n) in engine::tally(results) {
        eprintln!("  {protocol:<6} {:<8} {n}", outcome.as_str());
    }
    eprintln!(
        "mqttspec: {} passed, {} failed, {} warned, {} skipped, {} errors, {} timeouts in {:.1} s",
        s.pass,
        s.fail,
        s.warn,
        s.skipped,
        s.error,
        s.timeout,
        results.duration_ms as f64 / 1000.0
    );
}

fn list(filters: &[String], dir: Option<&std::path::Path>) -> ExitCode {
    let catalog = match load(dir) {
        Ok(c) => c,
        Err(code) => return code,
    };
    for s in engine::select(&catalog, filters) {
        let versions: Vec<_> = s.versions.iter().map(|v| v.as_str()).collect();
        let mut ids: Vec<&str> = s
            .versions
            .iter()
            .flat_map(|v| s.statements.for_version(*v))
            .map(String::as_str)
            .collect();
        ids.dedup();
        outln!(
            "{:<48} {:<10} {:<40} {}",
            s.id,
            versions.join(","),
            ids.join(","),
            s.title
        );
    }
    ExitCode::SUCCESS
}

fn show(id: &str, dir: Option<&std::path::Path>) -> ExitCode {
    let catalog = match load(dir) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(s) = catalog.get(id) else {
        eprintln!("mqttspec: no scenario `{id}` (see `mqttspec list`)");
        return ExitCode::from(USAGE);
    };
    outln!("{}", s.text.trim_end());
    outln!();
    for &v in &s.versions {
        for id in s.statements.for_version(v) {
            if let Some(st) = spec::statement(v.spec(), id) {
                outln!(
                    "{} (MQTT {}) §{} {} [{}]\n  {}\n",
                    st.id,
                    st.version,
                    st.section,
                    st.title,
                    st.level.as_str(),
                    st.text
                );
            }
        }
    }
    ExitCode::SUCCESS
}

fn broker(config: mqttspec_broker::Config) -> ExitCode {
    let listen = config.listen;
    runtime().block_on(async move {
        match mqttspec_broker::start(config).await {
            Ok(b) => {
                outln!("mqttspec reference broker listening on {}", b.local_addr());
                let _ = tokio::signal::ctrl_c().await;
                b.shutdown().await;
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("mqttspec: cannot listen on {listen}: {e}");
                ExitCode::from(UNREACHABLE)
            }
        }
    })
}

fn decode(hex: &str, version: ProtocolVersion) -> ExitCode {
    let bytes = match render::parse_hex(hex) {
        Ok(b) => bytes::Bytes::from(b),
        Err(e) => {
            eprintln!("mqttspec: {e}");
            return ExitCode::from(USAGE);
        }
    };
    match Packet::decode(&bytes, version) {
        Ok(packet) => {
            outln!("{}", render::packet(&packet));
            ExitCode::SUCCESS
        }
        Err(e) => {
            outln!("{e}");
            if let Some(s) = e.statement.and_then(|s| s.statement()) {
                outln!("  {} [{} {}] {}", s.id, s.level.as_str(), s.section, s.text);
            }
            ExitCode::from(1)
        }
    }
}

fn show_statement(id: &str) -> ExitCode {
    let mut found = false;
    for s in spec::statements(id) {
        found = true;
        outln!(
            "{} (MQTT {}) §{} {} — {}\n  {}\n",
            s.id,
            s.version,
            s.section,
            s.title,
            s.level.as_str(),
            s.text
        );
    }
    if found {
        ExitCode::SUCCESS
    } else {
        eprintln!("mqttspec: no statement {id} in MQTT 3.1.1 or 5.0");
        ExitCode::from(USAGE)
    }
}

fn coverage(json: bool) -> ExitCode {
    use mqttspec::coverage;
    let entries = match coverage::table() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("mqttspec: {e}");
            return ExitCode::from(USAGE);
        }
    };
    let summary = coverage::summarize(&entries);
    let mut out = std::io::stdout().lock();
    let written = if json {
        coverage::write_json(&summary, &mut out)
    } else {
        coverage::write_text(&summary, &mut out)
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mqttspec: {e}");
            ExitCode::from(USAGE)
        }
    }
}
