//! The command line as the user types it (clap), and its validation into a run.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  every case passed (or was skipped)
  1  a case failed, timed out or errored (or warned, with --strict)
  2  usage, scenario or configuration error
  3  the broker could not be reached
  130  interrupted (Ctrl-C); a spawned broker is stopped first";

pub const FUZZ_EXIT_CODES: &str = "\
Exit codes:
  0  nothing found
  1  findings (written under --out)
  2  usage or configuration error
  3  the broker could not be reached, or is not on a loopback address
  130  interrupted (Ctrl-C); a spawned broker is stopped first";

/// MQTT conformance testing for brokers: every verdict traced to the normative statement it
/// tests.
#[derive(Parser, Debug)]
#[command(name = "mqttspec", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the scenarios against a broker (default: the embedded reference broker).
    #[command(after_help = EXIT_CODES)]
    Run(RunArgs),
    /// List scenarios: id, versions, statements, title.
    List {
        /// Glob on scenario ids (repeatable); `publish` also selects `publish/…`.
        #[arg(long)]
        filter: Vec<String>,
        /// Load these scenarios instead of the built-in set.
        #[arg(long)]
        scenarios: Option<PathBuf>,
    },
    /// Show one scenario and the text of the statements it tests.
    Show {
        id: String,
        #[arg(long)]
        scenarios: Option<PathBuf>,
    },
    /// Render saved results again, or several runs side by side (HTML matrix).
    Report {
        /// `results.json` files written by `mqttspec run`.
        #[arg(required = true)]
        results: Vec<PathBuf>,
        /// json, junit, markdown or html; several inputs need html (the matrix).
        #[arg(long, default_value = "html")]
        format: String,
        /// Column labels for the matrix, one per input (default: each broker's address).
        #[arg(long, value_delimiter = ',')]
        labels: Vec<String>,
        /// Output file (default: standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// What the broker supports and its limits, under 3.1, 3.1.1 and 5.0: every answer
    /// backed by the packets seen.
    #[command(after_help = EXIT_CODES)]
    Probe(ProbeArgs),
    /// Fuzz the broker over the network (loopback only): mutate the scenarios' packet
    /// sequences, watch for crashes, hangs and spec violations, and write each finding,
    /// minimized, as a scenario that `mqttspec run --scenarios DIR` replays.
    #[command(after_help = FUZZ_EXIT_CODES)]
    Fuzz(FuzzArgs),
    /// Run the reference broker in the foreground.
    Broker {
        #[arg(long, default_value = "127.0.0.1:1883")]
        listen: std::net::SocketAddr,
        /// Test only: misbehave with this deliberate bug (crash-on-empty-topic,
        /// hang-on-property-flood, wrong-puback-id).
        #[cfg(feature = "planted-bugs")]
        #[arg(
            long,
            hide = true,
            value_name = "NAME",
            value_parser = mqttspec_broker::PlantedBug::parse
        )]
        planted_bug: Option<mqttspec_broker::PlantedBug>,
    },
    /// Decode one packet given as hex; print it, or the error and the statement it breaks.
    Decode {
        /// The packet bytes in hex (spaces, `0x` and `:` allowed).
        hex: Vec<String>,
        /// Protocol version to decode under (CONNECT always uses its own).
        #[arg(long, short = 'p', value_enum, default_value_t = DecodeVersion::V5)]
        protocol: DecodeVersion,
    },
    /// Print a normative statement of MQTT 3.1.1 and/or 5.0 by id, e.g. MQTT-3.3.1-4.
    Spec { id: String },
    /// Summarise how the suite covers every normative statement (scenarios/traceability.yaml):
    /// tested, a Client duty, untestable, or pending; per version, level and section.
    Coverage {
        /// Print JSON: per version, the counts and every entry.
        #[arg(long)]
        json: bool,
    },
}

/// Which broker to test, and how to reach or start it.
#[derive(Args, Debug, Clone)]
pub struct TargetArgs {
    /// The broker under test, as mqtt://host:port (or host:port). Default: start the
    /// embedded reference broker on an ephemeral loopback port.
    #[arg(long, conflicts_with = "spawn")]
    pub broker: Option<String>,
    /// Start the broker under test as a child process: `{port}` in CMD becomes a free
    /// loopback port, `{config}` the path of the filled-in --config-template. Words split
    /// like sh (quotes, backslashes), no expansion. Ready once it answers CONNECT with a
    /// CONNACK; stopped (SIGTERM, then SIGKILL) at the end; its output goes in the report.
    /// E.g. --spawn 'mosquitto -c {config}'.
    #[arg(long, value_name = "CMD")]
    pub spawn: Option<String>,
    /// A broker configuration template for --spawn: `{port}` in it is replaced and the
    /// result written to a temporary file, whose path replaces `{config}` in CMD.
    #[arg(long, value_name = "FILE", requires = "spawn")]
    pub config_template: Option<PathBuf>,
    /// Run the broker under test in a container of this image, through testcontainers (the
    /// image must be in the local Docker engine: nothing is pulled if it is): its
    /// --container-port is published on a free port of 127.0.0.1, readiness and logs as for
    /// --spawn, and the container is removed at the end. No Docker engine: exit code 3.
    #[arg(long, value_name = "IMAGE[:TAG]", conflicts_with_all = ["broker", "spawn"])]
    pub image: Option<String>,
    /// The port the broker listens on inside the --image container.
    #[arg(long, value_name = "PORT", default_value_t = 1883, requires = "image")]
    pub container_port: u16,
    /// Environment for the --image container, K=V (repeatable).
    #[arg(long, value_name = "K=V", requires = "image")]
    pub env: Vec<String>,
    /// The command the --image container runs (split like sh), instead of the image's own.
    #[arg(long, value_name = "CMD", requires = "image")]
    pub cmd: Option<String>,
    /// Seconds a --spawn or --image broker has to become ready (else exit code 3).
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub spawn_timeout: u64,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// With --spawn or --image: if the broker crashes, start it again (same port) for the
    /// cases that follow. Without it, the cases after a crash are errors.
    #[arg(long)]
    pub restart_on_crash: bool,
    /// Glob on scenario ids (repeatable); `publish` also selects `publish/…`.
    #[arg(long)]
    pub filter: Vec<String>,
    /// Protocol versions to test.
    #[arg(long, value_enum, default_value_t = ProtocolArg::All)]
    pub protocol: ProtocolArg,
    /// Cases run at once. Most of a case's time is spent waiting on the broker (up to a
    /// step's bound when it does not answer), so many run side by side on few cores.
    #[arg(long, default_value_t = mqttspec::engine::DEFAULT_JOBS)]
    pub jobs: usize,
    /// Count SHOULD-level warnings as failures.
    #[arg(long)]
    pub strict: bool,
    #[arg(long)]
    pub username: Option<String>,
    #[arg(long)]
    pub password: Option<String>,
    /// Capabilities the broker lacks (comma-separated: qos1, qos2, retain, wildcard,
    /// shared_subscriptions, subscription_identifiers, topic_alias, empty_client_id);
    /// scenarios needing them are skipped.
    #[arg(long, value_delimiter = ',')]
    pub lacks: Vec<String>,
    /// Run the scenarios in this directory instead of the built-in set.
    #[arg(long)]
    pub scenarios: Option<PathBuf>,
    /// Where reports are written: results.json, junit.xml, summary.md, report.html.
    #[arg(long, default_value = "mqttspec-report")]
    pub report_dir: PathBuf,
    /// Report formats, comma-separated: json, junit, markdown (md), html.
    #[arg(long, value_delimiter = ',', default_value = "json,html")]
    pub format: Vec<String>,
    /// Bound on the whole run, in seconds.
    #[arg(long, default_value_t = 600)]
    pub timeout: u64,
    /// Print every case, not only those that did not pass.
    #[arg(long, short)]
    pub verbose: bool,
    /// Which cases keep their wire transcript in the reports: `all`, or `failures` (every
    /// case that did not pass) for smaller reports.
    #[arg(long, value_enum, default_value_t = Transcripts::All)]
    pub transcripts: Transcripts,
}

#[derive(Args, Debug)]
pub struct FuzzArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Stop after this long: seconds, or with a unit (90s, 10m, 1h).
    #[arg(long, value_name = "TIME", value_parser = parse_duration)]
    pub duration: Option<std::time::Duration>,
    /// Stop after this many executions.
    #[arg(long, value_name = "N")]
    pub iterations: Option<u64>,
    /// Executions at once (each on its own connections, client ids and topics).
    #[arg(long, default_value_t = 8)]
    pub jobs: usize,
    /// Seed of the mutations (default: from the clock; printed, so a run can be repeated).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Protocol versions of the inputs.
    #[arg(long, value_enum, default_value_t = ProtocolArg::All)]
    pub protocol: ProtocolArg,
    /// Start from the scenarios matching these globs only (repeatable).
    #[arg(long)]
    pub filter: Vec<String>,
    /// Start from the scenarios in this directory instead of the built-in set.
    #[arg(long)]
    pub scenarios: Option<PathBuf>,
    /// Where findings (DIR/fuzz/<rule>-<hash>.yaml) and summary.json are written.
    #[arg(long, default_value = "mqttspec-fuzz")]
    pub out: PathBuf,
    /// A new client's CONNECT or PINGREQ unanswered this long (milliseconds) is a hang.
    #[arg(long, value_name = "MS", default_value_t = 3000)]
    pub hang_timeout: u64,
    /// End the run once this many findings were written.
    #[arg(long, value_name = "N")]
    pub max_findings: Option<usize>,
    /// Runs a minimization may spend (crashes and hangs get a quarter of it: each of
    /// their runs may restart the broker).
    #[arg(long, value_name = "RUNS", default_value_t = 300)]
    pub minimize_budget: usize,
    #[arg(long)]
    pub username: Option<String>,
    #[arg(long)]
    pub password: Option<String>,
}

/// `600`, `90s`, `10m`, `1h`.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text}: expected a number of seconds, or 90s, 10m, 1h"))?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => return Err(format!("{text}: the unit is s, m or h")),
    };
    Ok(std::time::Duration::from_secs(secs))
}

#[derive(Args, Debug)]
pub struct ProbeArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[arg(long)]
    pub username: Option<String>,
    #[arg(long)]
    pub password: Option<String>,
    /// Print JSON (stable: answers with the packets behind them) instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Transcripts {
    All,
    Failures,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ProtocolArg {
    #[value(name = "3.1.1")]
    V3_1_1,
    #[value(name = "5")]
    V5,
    All,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DecodeVersion {
    #[value(name = "3.1")]
    V3_1,
    #[value(name = "3.1.1")]
    V3_1_1,
    #[value(name = "5")]
    V5,
}

impl From<DecodeVersion> for mqttspec_codec::ProtocolVersion {
    fn from(v: DecodeVersion) -> Self {
        match v {
            DecodeVersion::V3_1 => mqttspec_codec::ProtocolVersion::V3_1,
            DecodeVersion::V3_1_1 => mqttspec_codec::ProtocolVersion::V3_1_1,
            DecodeVersion::V5 => mqttspec_codec::ProtocolVersion::V5,
        }
    }
}

/// `mqtt://host:port`, `tcp://host:port` or `host:port` → `host:port`.
pub fn parse_broker(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
        .unwrap_or(url);
    let rest = rest.trim_end_matches('/');
    if rest.contains("://") {
        return Err(format!("{url}: only mqtt:// (plain TCP) is supported"));
    }
    match rest.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
            Ok(rest.to_owned())
        }
        _ if !rest.is_empty() && !rest.contains(':') => Ok(format!("{rest}:1883")),
        _ => Err(format!("{url}: expected mqtt://host:port")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls() {
        assert_eq!(
            parse_broker("mqtt://127.0.0.1:1883"),
            Ok("127.0.0.1:1883".into())
        );
        assert_eq!(
            parse_broker("localhost:18830"),
            Ok("localhost:18830".into())
        );
        assert_eq!(parse_broker("mqtt://broker"), Ok("broker:1883".into()));
        assert!(parse_broker("mqtts://x:8883").is_err());
        assert!(parse_broker("mqtt://x:port").is_err());
    }

    #[test]
    fn durations() {
        use std::time::Duration;
        assert_eq!(parse_duration("600"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("10 minutes").is_err());
        assert!(parse_duration("m").is_err());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
