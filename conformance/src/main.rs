//! `mqttspec`: the command-line entry point.
//!
//! Today it offers the codec's tools (`decode`, `spec`); `run`, `list`, `show` and `broker`
//! arrive with the scenario engine and the reference broker.

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use mqttspec_codec::{Packet, ProtocolVersion, render, spec};

/// MQTT conformance and fuzz testing.
#[derive(Parser, Debug)]
#[command(name = "mqttspec", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Decode one packet given as hex; print it, or the error and the statement it breaks.
    ///
    /// Exit code 0 when the bytes are one valid packet, 1 when they are not, 2 on bad input.
    Decode {
        /// The packet bytes in hex (spaces, `0x` and `:` allowed).
        hex: Vec<String>,
        /// Protocol version to decode under (CONNECT always uses its own).
        #[arg(long, short = 'p', value_enum, default_value_t = Version::V5)]
        protocol: Version,
    },
    /// Print a normative statement of MQTT 3.1.1 and/or 5.0 by id, e.g. MQTT-3.3.1-4.
    Spec { id: String },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Version {
    #[value(name = "3.1")]
    V3_1,
    #[value(name = "3.1.1")]
    V3_1_1,
    #[value(name = "5")]
    V5,
}

impl From<Version> for ProtocolVersion {
    fn from(v: Version) -> Self {
        match v {
            Version::V3_1 => ProtocolVersion::V3_1,
            Version::V3_1_1 => ProtocolVersion::V3_1_1,
            Version::V5 => ProtocolVersion::V5,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Decode { hex, protocol } => decode(&hex.join(" "), protocol.into()),
        Command::Spec { id } => show_statement(&id),
    }
}

fn decode(hex: &str, version: ProtocolVersion) -> ExitCode {
    let bytes = match render::parse_hex(hex) {
        Ok(b) => bytes::Bytes::from(b),
        Err(e) => {
            eprintln!("mqttspec: {e}");
            return ExitCode::from(2);
        }
    };
    match Packet::decode(&bytes, version) {
        Ok(packet) => {
            println!("{}", render::packet(&packet));
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{e}");
            if let Some(s) = e.statement.and_then(|s| s.statement()) {
                println!("  {} [{} {}] {}", s.id, s.level.as_str(), s.section, s.text);
            }
            ExitCode::from(1)
        }
    }
}

fn show_statement(id: &str) -> ExitCode {
    let mut found = false;
    for s in spec::statements(id) {
        found = true;
        println!(
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
        ExitCode::from(2)
    }
}
