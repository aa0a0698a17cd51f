//! Running one scenario under one protocol version against the broker.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use mqttspec_codec::{Disconnect, Packet, ReasonCode, render};
use mqttspec_report::{CaseResult, Outcome, StatementCitation};
use serde_yaml::{Mapping, Value};

use super::RunConfig;
use super::client::{AliveProbe, Client, Down, Incoming, Transcript, check_alive};
use crate::scenario::packet::{ConnectSpec, PropertySpec, Resolve, encode, properties};
use crate::scenario::pattern::{Matcher, Vars, View, kind, view};
use crate::scenario::script::Names;
use crate::scenario::{
    ConnectStep, ExpectAliveStep, ExpectAllStep, ExpectClosedStep, ExpectStep, ExpectValidStep,
    Level, Scenario, SkipUnlessStep, Step, Version,
};

/// Default bound on one `expect`.
pub const DEFAULT_WITHIN: Duration = Duration::from_secs(3);

/// How a case stopped early.
struct Stop {
    outcome: Outcome,
    message: String,
    expected: Option<String>,
    actual: Option<String>,
    statement: Option<String>,
}

impl Stop {
    fn fail(message: impl Into<String>) -> Stop {
        Stop {
            outcome: Outcome::Fail,
            message: message.into(),
            expected: None,
            actual: None,
            statement: None,
        }
    }

    fn error(message: impl Into<String>) -> Stop {
        Stop {
            outcome: Outcome::Error,
            ..Stop::fail(message)
        }
    }

    fn timeout(message: impl Into<String>, expected: String) -> Stop {
        Stop {
            outcome: Outcome::Timeout,
            expected: Some(expected),
            ..Stop::fail(message)
        }
    }

    fn mismatch(expected: String, actual: String, message: String) -> Stop {
        Stop {
            expected: Some(expected),
            actual: Some(actual),
            ..Stop::fail(message)
        }
    }
}

/// Names and variables of one case.
struct Context {
    names: Names,
    vars: Vars,
}

impl Context {
    fn client_id(&self, client: &str) -> String {
        self.names.client_id(client)
    }
}

impl Resolve for Context {
    fn interpolate(&self, text: &str) -> String {
        self.names.interpolate(text)
    }

    fn var(&self, name: &str) -> Result<u64, String> {
        match self.vars.get(name) {
            Some(View::Int(v)) => u64::try_from(*v).map_err(|_| format!("${name} is negative")),
            Some(other) => Err(format!("${name} is {other}, not a number")),
            None => Err(format!("${name} was never captured")),
        }
    }

    fn bytes_var(&self, name: &str) -> Result<Vec<u8>, String> {
        match self.vars.get(name) {
            Some(View::Bytes(b)) => Ok(b.clone()),
            Some(View::Str(s)) => Ok(s.as_bytes().to_vec()),
            Some(other) => Err(format!("${name} is {other}, not binary data")),
            None => Err(format!("${name} was never captured")),
        }
    }
}

pub struct CaseSetup<'a> {
    pub scenario: &'a Scenario,
    pub version: Version,
    pub index: usize,
    pub run_id: u32,
    pub config: &'a RunConfig,
}

/// Runs the case and gives its result (never panics on broker behaviour; bounded in time).
pub async fn run(setup: CaseSetup<'_>) -> CaseResult {
    let s = setup.scenario;
    let started = Instant::now();
    let transcript = Transcript::new();
    let mut step_reached = None;
    let outcome = tokio::time::timeout(
        setup.config.case_timeout,
        run_steps(&setup, &transcript, &mut step_reached),
    )
    .await
    .unwrap_or_else(|_| {
        Err(Stop {
            outcome: Outcome::Timeout,
            message: format!(
                "the case did not finish within {:?}",
                setup.config.case_timeout
            ),
            ..Stop::fail("")
        })
    });
    let statements = s
        .statements
        .for_version(setup.version)
        .iter()
        .map(|id| StatementCitation {
            id: id.clone(),
            spec: setup.version.spec().as_str().to_owned(),
        })
        .collect();
    let mut result = CaseResult {
        id: s.id.clone(),
        title: s.title.clone(),
        protocol: setup.version.as_str().to_owned(),
        level: s.level.as_str().to_owned(),
        statements,
        tags: s.tags.clone(),
        outcome: Outcome::Pass,
        duration_ms: 0,
        message: None,
        step: None,
        expected: None,
        actual: None,
        failed_statement: None,
        transcript: Vec::new(),
    };
    if let Err(stop) = outcome {
        // A missed SHOULD or MAY warns; only a MUST fails.
        result.outcome = match (stop.outcome, s.level) {
            (Outcome::Fail, Level::Should | Level::May) => Outcome::Warn,
            (o, _) => o,
        };
        result.message = Some(stop.message);
        result.step = step_reached;
        result.expected = stop.expected;
        result.actual = stop.actual;
        result.failed_statement = stop.statement;
    }
    result.duration_ms = started.elapsed().as_millis() as u64;
    result.transcript = transcript.take();
    result
}

async fn run_steps(
    setup: &CaseSetup<'_>,
    transcript: &Transcript,
    step_reached: &mut Option<usize>,
) -> Result<(), Stop> {
    let v = setup.version;
    let mut ctx = Context {
        names: Names {
            prefix: format!("mqttspec/{:06x}/{}", setup.run_id, setup.index),
            id_stem: format!("ms{:06x}x{:x}", setup.run_id, setup.index),
        },
        vars: Vars::new(),
    };
    let mut clients: HashMap<String, Client> = HashMap::new();
    for (i, step) in setup.scenario.steps.iter().enumerate() {
        if !step.applies_to(v) {
            continue;
        }
        *step_reached = Some(i + 1);
        let result = run_step(setup, step, &mut ctx, &mut clients, transcript).await;
        if let Err(mut stop) = result {
            if stop.statement.is_none() {
                stop.statement = step.statement().map(str::to_owned);
            }
            return Err(stop);
        }
    }
    Ok(())
}

fn client<'a>(
    clients: &'a mut HashMap<String, Client>,
    name: &str,
) -> Result<&'a mut Client, Stop> {
    clients
        .get_mut(name)
        .ok_or_else(|| Stop::error(format!("client `{name}` is not connected (scenario error)")))
}

async fn run_step(
    setup: &CaseSetup<'_>,
    step: &Step,
    ctx: &mut Context,
    clients: &mut HashMap<String, Client>,
    transcript: &Transcript,
) -> Result<(), Stop> {
    let v = setup.version.protocol();
    match step {
        Step::Connect(c) => connect(setup, c, ctx, clients, transcript).await,
        Step::Send(send) => {
            let bytes = send
                .bytes(ctx, v)
                .map_err(|e| Stop::error(format!("cannot build the packet: {e}")))?;
            let c = client(clients, &send.client)?;
            let repeat = send.repeat.unwrap_or(1);
            c.send(&bytes).await.map_err(Stop::error)?;
            for _ in 1..repeat {
                // A broker may close mid-flood: that ends the sending, not the case.
                if c.send_quiet(&bytes).await.is_err() {
                    break;
                }
            }
            if repeat > 1 {
                transcript.event(
                    &send.client,
                    format!("sent the packet above {repeat} times"),
                );
            }
            Ok(())
        }
        Step::Expect(e) => expect(e, ctx, clients).await,
        Step::ExpectAll(e) => expect_all(e, ctx, clients).await,
        Step::ExpectClosed(e) => expect_closed(e, clients).await,
        Step::ExpectValid(e) => expect_valid(e, clients).await,
        Step::ExpectAlive(e) => expect_alive(setup, e, ctx, transcript).await,
        Step::ExpectNothing(e) => {
            let c = client(clients, &e.client)?;
            match c.next(Duration::from_millis(e.for_ms)).await {
                None => Ok(()),
                Some(Incoming::Packet(p)) => Err(Stop::mismatch(
                    format!("nothing for {} ms", e.for_ms),
                    render::packet(&p),
                    format!(
                        "expected no packet for {} ms, got {}",
                        e.for_ms,
                        kind(&p).to_uppercase()
                    ),
                )),
                Some(other) => Err(incoming_stop(
                    other,
                    &format!("nothing for {} ms", e.for_ms),
                )),
            }
        }
        Step::Wait(w) => {
            tokio::time::sleep(Duration::from_millis(w.ms)).await;
            Ok(())
        }
        Step::SkipUnless(k) => skip_unless(k, ctx),
        Step::Disconnect(d) => {
            let mut c = clients
                .remove(&d.client)
                .ok_or_else(|| Stop::error(format!("client `{}` is not connected", d.client)))?;
            let packet = Packet::Disconnect(Disconnect {
                reason_code: ReasonCode(d.reason_code.unwrap_or(0)),
                properties: properties(&d.properties, ctx).map_err(Stop::error)?,
            });
            let bytes = encode(&packet, c.version, &[], ctx).map_err(Stop::error)?;
            c.send(&bytes).await.map_err(Stop::error)?;
            // Wait (bounded) for the broker to close its side: it has then processed the
            // DISCONNECT, so a reconnection that follows cannot overtake it.
            c.close_and_wait(Duration::from_secs(2)).await;
            Ok(())
        }
        Step::Drop(d) => {
            let c = clients
                .remove(&d.client)
                .ok_or_else(|| Stop::error(format!("client `{}` is not connected", d.client)))?;
            c.drop_connection().await;
            Ok(())
        }
    }
}

async fn connect(
    setup: &CaseSetup<'_>,
    c: &ConnectStep,
    ctx: &mut Context,
    clients: &mut HashMap<String, Client>,
    transcript: &Transcript,
) -> Result<(), Stop> {
    let v = setup.version.protocol();
    let spec = ConnectSpec {
        client_id: c.client_id.clone(),
        clean_start: c.clean_start,
        keep_alive: c.keep_alive,
        username: c.username.clone().or_else(|| setup.config.username.clone()),
        password: c.password.clone().or_else(|| {
            setup
                .config
                .password
                .clone()
                .map(|p| crate::scenario::Bin(p.into_bytes()))
        }),
        will: c.will.clone(),
        properties: c.properties.clone(),
        protocol: c.protocol,
    };
    let connect = spec
        .build(ctx, v, &ctx.client_id(&c.client))
        .map_err(Stop::error)?;
    let wire_version = connect.protocol;
    let bytes =
        encode(&Packet::Connect(connect), wire_version, &c.tamper, ctx).map_err(Stop::error)?;
    // A client of the same name is replaced (its connection dropped).
    if let Some(old) = clients.remove(&c.client) {
        old.drop_connection().await;
    }
    let mut client = Client::connect(
        &c.client,
        &setup.config.address,
        wire_version,
        transcript,
        DEFAULT_WITHIN,
    )
    .await
    .map_err(Stop::error)?;
    if c.open_only {
        clients.insert(c.client.clone(), client);
        return Ok(());
    }
    if wire_version.is_v5()
        && let Some(max) = c.properties.iter().find_map(|p| match p {
            PropertySpec::MaximumPacketSize(max) => Some(*max),
            _ => None,
        })
    {
        client.declare_maximum_packet_size(max);
    }
    if c.connack_layout.is_some() {
        client.accept_connack_in_any_layout();
    }
    client.send(&bytes).await.map_err(Stop::error)?;
    clients.insert(c.client.clone(), client);
    let wanted = match &c.expect {
        Some(Value::String(s)) if s == "none" => return Ok(()),
        Some(Value::Mapping(m)) => m.clone(),
        Some(other) => {
            return Err(Stop::error(format!(
                "connect.expect: `none` or a pattern, not {other:?}"
            )));
        }
        None => {
            let code = if wire_version.is_v5() {
                "reason_code"
            } else {
                "return_code"
            };
            let mut fields = Mapping::new();
            fields.insert(code.into(), 0.into());
            let mut m = Mapping::new();
            m.insert("connack".into(), Value::Mapping(fields));
            m
        }
    };
    let e = ExpectStep {
        client: c.client.clone(),
        connack: None,
        publish: None,
        puback: None,
        pubrec: None,
        pubrel: None,
        pubcomp: None,
        suback: None,
        unsuback: None,
        pingresp: None,
        disconnect: None,
        auth: None,
        one_of: Some(vec![wanted]),
        within_ms: None,
        statement: c.statement.clone(),
        only: None,
    };
    expect(&e, ctx, clients).await
}

fn describe(alternatives: &[Mapping]) -> String {
    alternatives
        .iter()
        .map(|m| {
            serde_yaml::to_string(m)
                .unwrap_or_default()
                .trim()
                .replace('\n', " ")
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

fn incoming_stop(incoming: Incoming, expected: &str) -> Stop {
    match incoming {
        Incoming::Packet(p) => Stop::mismatch(
            expected.to_owned(),
            render::packet(&p),
            format!("unexpected {}", kind(&p).to_uppercase()),
        ),
        Incoming::Malformed(e) => Stop {
            statement: e.statement_id().map(str::to_owned),
            ..Stop::mismatch(
                expected.to_owned(),
                format!("undecodable bytes: {e}"),
                format!("the broker sent a malformed packet: {e}"),
            )
        },
        Incoming::Closed(why) => Stop::mismatch(
            expected.to_owned(),
            why.clone(),
            format!("connection {why}"),
        ),
        Incoming::Flood => Stop::fail(format!(
            "the broker flooded the connection (expected {expected})"
        )),
        Incoming::TooLarge {
            packet_type,
            size,
            max,
        } => Stop {
            statement: Some("MQTT-3.1.2-24".into()),
            ..Stop::mismatch(
                expected.to_owned(),
                format!("a {size}-byte {packet_type}"),
                format!(
                    "the broker sent a {size}-byte {packet_type}, over the Maximum Packet Size of {max} bytes this client declared in CONNECT"
                ),
            )
        },
    }
}

async fn expect(
    e: &ExpectStep,
    ctx: &mut Context,
    clients: &mut HashMap<String, Client>,
) -> Result<(), Stop> {
    let alternatives = e.alternatives();
    let expected = describe(&alternatives);
    let within = e.within_ms.map_or(DEFAULT_WITHIN, Duration::from_millis);
    let c = client(clients, &e.client)?;
    let version = c.version;
    let Some(incoming) = c.next(within).await else {
        return Err(Stop::timeout(
            format!("nothing arrived within {} ms", within.as_millis()),
            expected,
        ));
    };
    let interpolate = |s: &str| ctx.interpolate(s);
    let mut vars = ctx.vars.clone();
    let mut reasons = Vec::new();
    let accepted = {
        let mut matcher = Matcher {
            vars: &mut vars,
            interpolate: &interpolate,
        };
        alternatives.iter().any(|alt| {
            let Some((k, pattern)) = alt.iter().next() else {
                return false;
            };
            let k = k.as_str().unwrap_or_default();
            match (&incoming, k) {
                (Incoming::Closed(_), "closed") => true,
                (Incoming::Packet(p), k) if kind(p) == k => {
                    match matcher.matches(k, pattern, &view(p, version)) {
                        Ok(()) => true,
                        Err(why) => {
                            reasons.push(why);
                            false
                        }
                    }
                }
                _ => false,
            }
        })
    };
    if accepted {
        ctx.vars = vars;
        return Ok(());
    }
    match incoming {
        Incoming::Packet(p) => {
            let message = if reasons.is_empty() {
                format!("expected {expected}, got {}", kind(&p).to_uppercase())
            } else {
                reasons.join("; ")
            };
            Err(Stop::mismatch(expected, render::packet(&p), message))
        }
        other => Err(incoming_stop(other, &expected)),
    }
}

/// Goes on if every named variable matches its pattern; else the case is skipped.
fn skip_unless(k: &SkipUnlessStep, ctx: &Context) -> Result<(), Stop> {
    let interpolate = |s: &str| ctx.interpolate(s);
    let mut vars = ctx.vars.clone();
    for (name, pattern) in &k.vars {
        let name = name.as_str().unwrap_or_default();
        let Some(value) = ctx.vars.get(name).cloned() else {
            return Err(Stop::error(format!(
                "skip_unless: ${name} was never captured (scenario error)"
            )));
        };
        let mut matcher = Matcher {
            vars: &mut vars,
            interpolate: &interpolate,
        };
        if matcher.matches(name, pattern, &value).is_err() {
            return Err(Stop {
                outcome: Outcome::Skipped,
                ..Stop::fail(format!("{} (${name} = {value})", k.reason))
            });
        }
    }
    Ok(())
}

/// One way `expect_all` may still come true: a set, which of its required and optional
/// packets have arrived, and the captures made on the way.
#[derive(Clone)]
struct Partial {
    set: usize,
    required: Vec<bool>,
    optional: Vec<bool>,
    vars: Vars,
}

impl Partial {
    fn complete(&self) -> bool {
        self.required.iter().all(|&seen| seen)
    }
}

/// Does `packet` match the single-key pattern `alt`? Captures go into `vars`.
fn matches_pattern(
    alt: &Mapping,
    packet: &Packet,
    version: mqttspec_codec::ProtocolVersion,
    vars: &mut Vars,
    interpolate: &dyn Fn(&str) -> String,
) -> Result<(), String> {
    let Some((k, pattern)) = alt.iter().next() else {
        return Err("empty pattern".into());
    };
    let k = k.as_str().unwrap_or_default();
    if kind(packet) != k {
        return Err(format!(
            "expected {}, got {}",
            k.to_uppercase(),
            kind(packet).to_uppercase()
        ));
    }
    Matcher { vars, interpolate }.matches(k, pattern, &view(packet, version))
}

/// Packets in any order: every packet that arrives advances each way the step may still
/// come true (a packet can fit several patterns, so all assignments are kept; sets are
/// small). The step passes once one way has all its required packets and, for
/// `settle_ms` after that, nothing arrives that its optional patterns do not take.
async fn expect_all(
    e: &ExpectAllStep,
    ctx: &mut Context,
    clients: &mut HashMap<String, Client>,
) -> Result<(), Stop> {
    const MAX_PARTIALS: usize = 4096;
    let sets = e.sets();
    let expected = sets
        .iter()
        .map(|set| {
            let mut text = format!("any order: {}", describe(&set.packets));
            if !set.optional.is_empty() {
                text.push_str(&format!(" (optional: {})", describe(&set.optional)));
            }
            text
        })
        .collect::<Vec<_>>()
        .join(" || ");
    let within = e.within_ms.map_or(DEFAULT_WITHIN, Duration::from_millis);
    let settle = Duration::from_millis(e.settle_ms.unwrap_or(0));
    let c = client(clients, &e.client)?;
    let version = c.version;
    let interpolate = |s: &str| ctx.interpolate(s);
    let mut partials: Vec<Partial> = sets
        .iter()
        .enumerate()
        .map(|(i, set)| Partial {
            set: i,
            required: vec![false; set.packets.len()],
            optional: vec![false; set.optional.len()],
            vars: ctx.vars.clone(),
        })
        .collect();
    let start = tokio::time::Instant::now();
    let mut settle_until: Option<tokio::time::Instant> = None;
    let mut arrived = Vec::new();
    loop {
        let deadline = settle_until.unwrap_or(start + within);
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let incoming = match c.next(left).await {
            Some(incoming) => incoming,
            None if settle_until.is_some() => break,
            None if arrived.is_empty() => {
                return Err(Stop::timeout(
                    format!("nothing arrived within {} ms", within.as_millis()),
                    expected,
                ));
            }
            // Something came, but not all: what came is the broker's answer.
            None => {
                return Err(Stop::mismatch(
                    expected,
                    arrived.join("\n"),
                    format!(
                        "within {} ms only {} of the packets expected arrived",
                        within.as_millis(),
                        arrived.len()
                    ),
                ));
            }
        };
        let Incoming::Packet(packet) = incoming else {
            return Err(incoming_stop(incoming, &expected));
        };
        arrived.push(render::packet(&packet));
        let mut next = Vec::new();
        let mut reasons = Vec::new();
        for p in &partials {
            // Once complete, only optional packets may still come.
            let set = &sets[p.set];
            let slots = set
                .packets
                .iter()
                .zip(&p.required)
                .map(|(alt, seen)| (alt, *seen, true))
                .chain(
                    set.optional
                        .iter()
                        .zip(&p.optional)
                        .map(|(alt, seen)| (alt, *seen, false)),
                )
                .enumerate();
            for (i, (alt, seen, required)) in slots {
                if seen || (settle_until.is_some() && required) {
                    continue;
                }
                let mut vars = p.vars.clone();
                match matches_pattern(alt, &packet, version, &mut vars, &interpolate) {
                    Ok(()) => {
                        let mut q = p.clone();
                        q.vars = vars;
                        if required {
                            q.required[i] = true;
                        } else {
                            q.optional[i - set.packets.len()] = true;
                        }
                        next.push(q);
                    }
                    Err(why) => reasons.push(why),
                }
            }
        }
        if next.is_empty() {
            reasons.sort();
            reasons.dedup();
            let message = format!(
                "{} fits none of the packets still expected: {}",
                kind(&packet).to_uppercase(),
                reasons.join("; ")
            );
            return Err(Stop::mismatch(expected, render::packet(&packet), message));
        }
        next.truncate(MAX_PARTIALS);
        partials = next;
        if settle_until.is_none() {
            let done: Vec<Partial> = partials.iter().filter(|p| p.complete()).cloned().collect();
            if !done.is_empty() {
                partials = done;
                if settle.is_zero() {
                    break;
                }
                settle_until = Some(tokio::time::Instant::now() + settle);
            }
        }
    }
    if let Some(p) = partials.into_iter().find(Partial::complete) {
        ctx.vars = p.vars;
    }
    Ok(())
}

/// The connection must close; 5.0 lets a DISCONNECT (or, for a CONNECT, a CONNACK) with
/// an allowed reason code come first (§4.13).
async fn expect_closed(
    e: &ExpectClosedStep,
    clients: &mut HashMap<String, Client>,
) -> Result<(), Stop> {
    let within = e.within_ms.map_or(DEFAULT_WITHIN, Duration::from_millis);
    let deadline = tokio::time::Instant::now() + within;
    let c = client(clients, &e.client)?;
    let expected = match (&e.disconnect, &e.connack) {
        (Some(codes), _) => format!("close (after DISCONNECT with one of {})", hex_list(codes)),
        (None, Some(codes)) => format!("close (after CONNACK with one of {})", hex_list(codes)),
        (None, None) => "close (a DISCONNECT first is allowed)".to_owned(),
    };
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(incoming) = c.next(left).await else {
            return Err(Stop::mismatch(
                expected,
                "the connection stayed open".into(),
                format!(
                    "the broker did not close the connection within {} ms",
                    within.as_millis()
                ),
            ));
        };
        match incoming {
            Incoming::Closed(_) => {
                clients.remove(&e.client);
                return Ok(());
            }
            Incoming::Packet(Packet::Disconnect(d))
                if e.disconnect
                    .as_ref()
                    .is_none_or(|codes| codes.contains(&d.reason_code.0)) => {}
            Incoming::Packet(Packet::ConnAck(a))
                if e.connack.as_ref().is_some_and(|codes| {
                    codes.contains(&a.reason_code.0)
                        || a.reason_code
                            .to_v3_connack()
                            .is_some_and(|c| codes.contains(&c))
                }) => {}
            other => return Err(incoming_stop(other, &expected)),
        }
    }
}

fn hex_list(codes: &[u8]) -> String {
    codes
        .iter()
        .map(|c| format!("{c:#04x}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads the connection for the step's time (or until it closes), then fails on the first
/// violation the connection's conversation recorded since it opened.
async fn expect_valid(
    e: &ExpectValidStep,
    clients: &mut HashMap<String, Client>,
) -> Result<(), Stop> {
    let for_ms = Duration::from_millis(e.for_ms.unwrap_or(500));
    let deadline = tokio::time::Instant::now() + for_ms;
    let c = client(clients, &e.client)?;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match c.next(left).await {
            None | Some(Incoming::Closed(_) | Incoming::Flood) => break,
            // Packets, malformed bytes and oversized packets were judged as they arrived.
            Some(_) => {}
        }
    }
    match c.violations().into_iter().next() {
        None => Ok(()),
        Some(v) => Err(Stop {
            statement: v.statement.map(str::to_owned),
            ..Stop::fail(v.to_string())
        }),
    }
}

/// A new connection of its own gets a CONNACK and a PINGRESP within the bound: the broker
/// neither crashed (refused connection) nor hangs (no answer).
async fn expect_alive(
    setup: &CaseSetup<'_>,
    e: &ExpectAliveStep,
    ctx: &Context,
    transcript: &Transcript,
) -> Result<(), Stop> {
    let probe = AliveProbe {
        address: &setup.config.address,
        version: setup.version.protocol(),
        client_id: ctx.client_id("alive"),
        username: setup.config.username.clone(),
        password: setup.config.password.clone(),
        within: e.within_ms.map_or(DEFAULT_WITHIN, Duration::from_millis),
    };
    check_alive(&probe, transcript).await.map_err(|down| Stop {
        // What fails when a server hangs is the answer to PINGREQ.
        statement: matches!(down, Down::Hang(_)).then(|| "MQTT-3.12.4-1".to_owned()),
        ..Stop::fail(down.to_string())
    })
}
