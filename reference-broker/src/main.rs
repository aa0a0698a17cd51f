//! `mqttspec-broker`: run the reference broker.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mqttspec_broker::{Config, parse_users, start};
use mqttspec_codec::QoS;

/// A small, fully conformant MQTT 3.1, 3.1.1 and 5.0 broker (mqttspec's reference).
#[derive(Parser, Debug)]
#[command(name = "mqttspec-broker", version, about)]
struct Args {
    /// Address to listen on (port 0 picks a free one; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:1883")]
    listen: SocketAddr,
    /// Highest QoS accepted (0, 1 or 2).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(0..=2))]
    maximum_qos: u8,
    /// Turn retained messages off (5.0 Retain Available = 0).
    #[arg(long)]
    no_retain: bool,
    /// Largest packet accepted from a client, in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    maximum_packet_size: u32,
    /// Unacknowledged QoS 1/2 PUBLISHes a client may have in flight towards the broker.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..))]
    receive_maximum: u16,
    /// Highest Topic Alias a client may use (0: none).
    #[arg(long, default_value_t = 16)]
    topic_alias_maximum: u16,
    /// Override clients' Keep Alive with this many seconds (5.0 Server Keep Alive).
    #[arg(long)]
    server_keep_alive: Option<u16>,
    /// Cap on 5.0 Session Expiry Intervals, in seconds.
    #[arg(long)]
    session_expiry_cap: Option<u32>,
    /// Unacknowledged QoS 1/2 messages out to one client at most.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..))]
    max_inflight_messages: u16,
    /// Messages queued per session before new ones are dropped.
    #[arg(long, default_value_t = 1000)]
    max_queued_messages: usize,
    /// Sessions the broker holds at most.
    #[arg(long, default_value_t = 10_000)]
    max_sessions: usize,
    /// Turn wildcard subscriptions off.
    #[arg(long)]
    no_wildcards: bool,
    /// Turn subscription identifiers off.
    #[arg(long)]
    no_subscription_identifiers: bool,
    /// Turn shared subscriptions off.
    #[arg(long)]
    no_shared_subscriptions: bool,
    /// Require user name and password from this file (`name:password` per line).
    #[arg(long)]
    users: Option<PathBuf>,
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
}

fn main() -> ExitCode {
    let args = Args::parse();
    let users = match &args.users {
        None => None,
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| parse_users(&t))
        {
            Ok(users) => Some(users),
            Err(e) => {
                eprintln!("mqttspec-broker: {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
    };
    let config = Config {
        listen: args.listen,
        maximum_qos: QoS::from_u8(args.maximum_qos).unwrap_or(QoS::ExactlyOnce),
        retain_available: !args.no_retain,
        maximum_packet_size: args.maximum_packet_size,
        receive_maximum: args.receive_maximum,
        topic_alias_maximum: args.topic_alias_maximum,
        server_keep_alive: args.server_keep_alive,
        session_expiry_cap: args.session_expiry_cap,
        max_inflight_messages: args.max_inflight_messages,
        max_queued_messages: args.max_queued_messages,
        max_sessions: args.max_sessions,
        wildcard_subscriptions: !args.no_wildcards,
        subscription_identifiers: !args.no_subscription_identifiers,
        shared_subscriptions: !args.no_shared_subscriptions,
        users,
        #[cfg(feature = "planted-bugs")]
        planted_bug: args.planted_bug,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mqttspec-broker: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let broker = match start(config).await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("mqttspec-broker: cannot listen on {}: {e}", args.listen);
                return ExitCode::FAILURE;
            }
        };
        println!("mqttspec-broker listening on {}", broker.local_addr());
        let _ = tokio::signal::ctrl_c().await;
        broker.shutdown().await;
        ExitCode::SUCCESS
    })
}
