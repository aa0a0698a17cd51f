//! Running one program against the broker: the scenario engine's connections (every packet
//! from the broker decoded strictly and judged by [`crate::engine::oracle`]), the responses
//! turned into coverage features, then a liveness check and the clean-up of any session the
//! program left behind.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use bytes::Bytes;
use mqttspec_codec::{
    Connect, Disconnect, MqttString, Packet, Properties, ProtocolVersion, ReasonCode,
};
use mqttspec_report::TranscriptEntry;

use super::program::Program;
use crate::engine::client::{AliveProbe, Client, Down, Incoming, Transcript, check_alive};
use crate::engine::oracle::Violation;
use crate::engine::oracle::frames;
use crate::scenario::script::Action;

/// How executions talk to the broker.
#[derive(Clone, Debug)]
pub struct ExecOptions {
    pub address: String,
    /// After the last step on one connection and before a step on another: read the first
    /// one until it is quiet this long (bounded by `settle_max`), so the broker has acted
    /// on it.
    pub quiet: Duration,
    pub settle_max: Duration,
    /// At the end, every connection is read until quiet for this long (bounded by
    /// `end_max`).
    pub end_quiet: Duration,
    pub end_max: Duration,
    /// Bound on the liveness check's answers (the hang threshold).
    pub hang_timeout: Duration,
    /// Bound on any one step (a broker that stops reading cannot block a write forever).
    pub step_timeout: Duration,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl ExecOptions {
    pub fn new(address: impl Into<String>) -> Self {
        ExecOptions {
            address: address.into(),
            quiet: Duration::from_millis(3),
            settle_max: Duration::from_millis(40),
            end_quiet: Duration::from_millis(10),
            end_max: Duration::from_millis(150),
            hang_timeout: Duration::from_secs(3),
            step_timeout: Duration::from_secs(2),
            username: None,
            password: None,
        }
    }
}

/// A violation seen on one of the program's connections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub client: String,
    pub violation: Violation,
}

/// What one execution showed.
#[derive(Debug, Default)]
pub struct Execution {
    pub violations: Vec<Seen>,
    /// Response features: packet kinds and codes, transitions between them, and which
    /// sent packet they followed.
    pub features: Vec<u64>,
    /// The broker stopped serving (during the program or at the liveness check after it).
    pub down: Option<Down>,
    /// Which steps went out (a send on a connection the broker had closed does not).
    pub performed: Vec<bool>,
    pub transcript: Vec<TranscriptEntry>,
}

/// One connection of the execution, with what the features need.
struct Conn {
    client: Client,
    closed: bool,
    /// Type nibble of the last packet sent.
    last_sent: u8,
    /// Code of the last event received.
    last_event: u32,
}

/// Response features of one execution.
#[derive(Default)]
struct Features {
    seen: HashSet<u64>,
}

impl Features {
    fn event(&mut self, conn: &mut Conn, code: u32) {
        let code = u64::from(code);
        self.seen.insert(code);
        self.seen
            .insert((1 << 62) | (u64::from(conn.last_event) << 24) | code);
        self.seen
            .insert((2 << 62) | (u64::from(conn.last_sent) << 24) | code);
        conn.last_event = code as u32;
    }
}

/// A response as a number: packet type, first reason code, flags; or how it ended.
fn event_code(incoming: &Incoming) -> u32 {
    match incoming {
        Incoming::Packet(p) => {
            let t = u32::from(p.packet_type() as u8);
            let (code, flags) = match p {
                Packet::ConnAck(a) => (a.reason_code.0, u8::from(a.session_present)),
                Packet::Publish(x) => (0, x.qos.as_u8() | (u8::from(x.retain) << 2)),
                Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
                    (a.reason_code.0, 0)
                }
                Packet::SubAck(a) => (a.reason_codes.first().map_or(0xEE, |c| c.0), 0),
                Packet::UnsubAck(a) => (a.reason_codes.first().map_or(0xEE, |c| c.0), 0),
                Packet::Disconnect(d) => (d.reason_code.0, 0),
                Packet::Auth(a) => (a.reason_code.0, 0),
                _ => (0, 0),
            };
            (t << 16) | (u32::from(code) << 8) | u32::from(flags)
        }
        Incoming::Malformed(e) => {
            let id = e.statement_id().unwrap_or("?");
            0x10_0000 | (fnv(id.as_bytes()) & 0xFFFF)
        }
        Incoming::Closed(_) => 0x20_0000,
        Incoming::Flood => 0x30_0000,
        Incoming::TooLarge { .. } => 0x40_0000,
    }
}

fn fnv(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811C_9DC5u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Reads `conn` until it has been quiet for `quiet`, or `max` has passed, or it closed.
async fn settle(conn: &mut Conn, features: &mut Features, quiet: Duration, max: Duration) {
    let deadline = tokio::time::Instant::now() + max;
    while !conn.closed {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            break;
        }
        let Some(incoming) = conn.client.next(quiet.min(left)).await else {
            break;
        };
        features.event(conn, event_code(&incoming));
        if matches!(
            incoming,
            Incoming::Closed(_)
                | Incoming::Malformed(_)
                | Incoming::Flood
                | Incoming::TooLarge { .. }
        ) {
            conn.closed = true;
        }
    }
}

fn collect(name: &str, conn: &Conn, out: &mut Vec<Seen>) {
    for violation in conn.client.violations() {
        let seen = Seen {
            client: name.to_owned(),
            violation,
        };
        if !out.contains(&seen) {
            out.push(seen);
        }
    }
}

/// One execution in progress.
struct Run<'a> {
    opts: &'a ExecOptions,
    version: ProtocolVersion,
    transcript: Transcript,
    conns: HashMap<String, Conn>,
    features: Features,
    out: Execution,
}

/// Runs `program` (already instantiated with its token; `alive_id` is the liveness
/// check's client identifier) and judges what came back.
pub async fn execute(program: &Program, alive_id: &str, opts: &ExecOptions) -> Execution {
    let mut run = Run {
        opts,
        version: program.version.protocol(),
        transcript: Transcript::new(),
        conns: HashMap::new(),
        features: Features::default(),
        out: Execution {
            performed: vec![false; program.steps.len()],
            ..Execution::default()
        },
    };
    let mut last: Option<String> = None;
    for (i, step) in program.steps.iter().enumerate() {
        if let Some(prev) = &last
            && *prev != step.client
            && let Some(conn) = run.conns.get_mut(prev)
        {
            settle(conn, &mut run.features, opts.quiet, opts.settle_max).await;
        }
        if !step.client.is_empty() {
            last = Some(step.client.clone());
        }
        let done =
            tokio::time::timeout(opts.step_timeout, run.perform(&step.client, &step.action)).await;
        match done {
            Ok(Ok(performed)) => run.out.performed[i] = performed,
            Ok(Err(down)) => {
                run.out.down = Some(down);
                break;
            }
            // A write the broker does not take: judged by the liveness check below.
            Err(_) => {}
        }
    }
    let Run {
        transcript,
        mut conns,
        mut features,
        mut out,
        ..
    } = run;
    for (name, conn) in &mut conns {
        settle(conn, &mut features, opts.end_quiet, opts.end_max).await;
        collect(name, conn, &mut out.violations);
    }
    drop(conns);
    if out.down.is_none() {
        let probe = AliveProbe {
            address: &opts.address,
            version: program.version.protocol(),
            client_id: alive_id.to_owned(),
            username: opts.username.clone(),
            password: opts.password.clone(),
            within: opts.hang_timeout,
        };
        out.down = check_alive(&probe, &transcript).await.err();
    }
    if out.down.is_none() {
        clean_up(program, opts, &transcript).await;
    }
    out.features = features.seen.into_iter().collect();
    out.transcript = transcript.take();
    out
}

impl Run<'_> {
    /// One step. `Ok(false)`: nothing to do (a send on a connection already closed);
    /// `Err`: a connection could not be opened.
    async fn perform(&mut self, name: &str, action: &Action) -> Result<bool, Down> {
        match action {
            Action::Open => {
                if let Some(old) = self.conns.remove(name) {
                    collect(name, &old, &mut self.out.violations);
                    old.client.drop_connection().await;
                }
                self.open(name).await?;
                Ok(true)
            }
            Action::Send { bytes, repeat } => {
                if !self.conns.contains_key(name) {
                    self.open(name).await?;
                }
                let Some(conn) = self.conns.get_mut(name) else {
                    return Ok(false);
                };
                // Take in what already arrived: a close means the send has nowhere to go.
                settle(
                    conn,
                    &mut self.features,
                    Duration::ZERO,
                    self.opts.step_timeout,
                )
                .await;
                if conn.closed {
                    return Ok(false);
                }
                conn.last_sent = bytes.first().map_or(0, |b| b >> 4);
                if conn.client.send(bytes).await.is_err() {
                    conn.closed = true;
                    return Ok(true);
                }
                for _ in 1..*repeat {
                    if conn.client.send_quiet(bytes).await.is_err() {
                        break;
                    }
                }
                if *repeat > 1 {
                    self.transcript
                        .event(name, format!("sent the packet above {repeat} times"));
                }
                Ok(true)
            }
            Action::Close(disconnect) => {
                let Some(mut conn) = self.conns.remove(name) else {
                    return Ok(false);
                };
                if let Some(bytes) = disconnect
                    && !conn.closed
                {
                    let _ = conn.client.send(bytes).await;
                }
                collect(name, &conn, &mut self.out.violations);
                conn.client.drop_connection().await;
                Ok(true)
            }
            Action::Wait(d) => {
                tokio::time::sleep(*d).await;
                Ok(true)
            }
        }
    }

    async fn open(&mut self, name: &str) -> Result<(), Down> {
        let client = Client::connect(
            name,
            &self.opts.address,
            self.version,
            &self.transcript,
            self.opts.step_timeout,
        )
        .await
        .map_err(Down::Refused)?;
        self.conns.insert(
            name.to_owned(),
            Conn {
                client,
                closed: false,
                last_sent: 0,
                last_event: 0,
            },
        );
        Ok(())
    }
}

/// Client identifiers whose CONNECT asked the broker to keep the session.
fn persistent_sessions(program: &Program) -> Vec<(String, ProtocolVersion)> {
    let mut ids = Vec::new();
    for step in &program.steps {
        let Action::Send { bytes, .. } = &step.action else {
            continue;
        };
        for range in frames(bytes) {
            if bytes[range.start] >> 4 != 1 {
                continue;
            }
            let frame = bytes.slice(range);
            if let Ok(Packet::Connect(c)) = Packet::decode(&frame, program.version.protocol()) {
                let kept = !c.clean_start
                    || c.properties
                        .session_expiry_interval()
                        .is_some_and(|e| e > 0);
                let id = (c.client_id.as_str().to_owned(), c.protocol);
                if kept && !c.client_id.is_empty() && !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
    }
    ids
}

/// Ends the sessions the program asked the broker to keep (a Clean Start connection with
/// no Session Expiry, then DISCONNECT), so a long run does not fill the broker with them.
async fn clean_up(program: &Program, opts: &ExecOptions, transcript: &Transcript) {
    for (id, v) in persistent_sessions(program) {
        let Ok(mut c) =
            Client::connect("cleanup", &opts.address, v, transcript, opts.step_timeout).await
        else {
            return;
        };
        let connect = Packet::Connect(Connect {
            protocol: v,
            clean_start: true,
            keep_alive: 30,
            properties: Properties::new(),
            client_id: MqttString::from(id),
            will: None,
            username: opts.username.as_deref().map(MqttString::from),
            password: opts.password.clone().map(Bytes::from),
        });
        let (Ok(connect), Ok(bye)) = (
            connect.to_bytes(v),
            Packet::Disconnect(Disconnect::new(ReasonCode(0))).to_bytes(v),
        ) else {
            continue;
        };
        if c.send(&connect).await.is_ok() && c.next(opts.step_timeout).await.is_some() {
            let _ = c.send(&bye).await;
            c.close_and_wait(Duration::from_millis(200)).await;
        }
    }
}
