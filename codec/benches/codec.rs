//! Codec throughput: mqttspec-codec against rumqttc's codec, on the same mixed stream.
//!
//! One logical stream per protocol (3.1.1 and 5.0): SUBSCRIBE (three filters) and its
//! SUBACK; PUBLISH at QoS 0, 1 and 2 with payloads of 16 B, 1 KiB and 64 KiB, each with its
//! acknowledgements (PUBACK, or PUBREC/PUBREL/PUBCOMP); UNSUBSCRIBE and UNSUBACK; PINGREQ.
//! Under 5.0 every PUBLISH carries Message Expiry Interval, a User Property and Content Type,
//! and SUBSCRIBE a Subscription Identifier, on both sides alike.
//!
//! Before anything is timed, both codecs encode their version of the stream and the two
//! byte strings must be identical; then each codec decodes that stream back to exactly the
//! packets it started from. So both sides do the same work.
//!
//! * `decode/<protocol>`: take all packets off a fresh `BytesMut` copy of the stream with
//!   `PacketDecoder` / rumqttc's `Packet::read`, dropping each packet. Making the copy and
//!   freeing it afterwards are outside the timed region (a 200 KB buffer is `mmap`ed, and
//!   its `munmap` would otherwise cost more than the decoding itself).
//! * `encode/<protocol>`: append all packets to a cleared `BytesMut` whose capacity is kept.
//!
//! After criterion, a short self-timed run (best of 5, interleaved) prints the
//! mqttspec / rumqttc throughput ratio for each operation and protocol, against the goals
//! decode ≥ 1.5× and encode ≥ 3×, plus the same ratio for the stream without its 64 KiB
//! payloads (where per-packet work, not `memcpy`, decides).

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use criterion::{BatchSize, Criterion, Throughput};
use mqttspec_codec::{
    MqttString, Packet, PacketDecoder, Properties, Property, ProtocolVersion, Publish, PublishAck,
    QoS, ReasonCode, SubAck, Subscribe, Subscription, UnsubAck, Unsubscribe,
};
use rumqttc::mqttbytes::v4 as r4;
use rumqttc::v5::mqttbytes::v5 as r5;

/// Maximum packet size given to both decoders (and to rumqttc's encoder, which checks it).
const MAX_PACKET: u32 = 1 << 20;
/// Fresh stream copies prepared (untimed) per timed decode batch: few enough (8 × ~200 KB)
/// that they are still in cache when decoded, as bytes just read from a socket would be.
const DECODE_BATCH: u64 = 8;
const PAYLOAD_SIZES: [usize; 3] = [16, 1024, 64 * 1024];
const TOPIC: &str = "sensors/device-42/temperature";
const FILTERS: [(&str, u8); 3] = [
    ("sensors/+/temperature", 1),
    ("alerts/#", 2),
    ("status/device-42", 0),
];
const UNSUBSCRIBE_FILTER: &str = "alerts/#";
const SUBSCRIPTION_ID: u32 = 7;
const MESSAGE_EXPIRY: u32 = 3600;
const USER_PROPERTY: (&str, &str) = ("source", "bench");
const CONTENT_TYPE: &str = "application/octet-stream";

/// One step of the stream, independent of either codec's types.
#[derive(Clone, Copy, Debug)]
enum Step {
    Subscribe(u16),
    SubAck(u16),
    Publish { qos: u8, size: usize, pkid: u16 },
    PubAck(u16),
    PubRec(u16),
    PubRel(u16),
    PubComp(u16),
    Unsubscribe(u16),
    UnsubAck(u16),
    PingReq,
}

fn script(payload_sizes: &[usize]) -> Vec<Step> {
    let mut pkid = 0u16;
    let mut next = || {
        pkid += 1;
        pkid
    };
    let mut steps = Vec::new();
    let id = next();
    steps.extend([Step::Subscribe(id), Step::SubAck(id)]);
    for &size in payload_sizes {
        for qos in 0..=2u8 {
            let pkid = if qos == 0 { 0 } else { next() };
            steps.push(Step::Publish { qos, size, pkid });
            match qos {
                1 => steps.push(Step::PubAck(pkid)),
                2 => steps.extend([Step::PubRec(pkid), Step::PubRel(pkid), Step::PubComp(pkid)]),
                _ => {}
            }
        }
    }
    let id = next();
    steps.extend([Step::Unsubscribe(id), Step::UnsubAck(id), Step::PingReq]);
    steps
}

/// The payload of `size` bytes, one shared buffer per size for both codecs.
fn payload(size: usize) -> Bytes {
    (0..size)
        .map(|i| (i * 31 % 251) as u8)
        .collect::<Vec<u8>>()
        .into()
}

fn payloads(steps: &[Step]) -> impl Fn(usize) -> Bytes {
    let mut cache: Vec<(usize, Bytes)> = Vec::new();
    for s in steps {
        if let Step::Publish { size, .. } = *s
            && !cache.iter().any(|(n, _)| *n == size)
        {
            cache.push((size, payload(size)));
        }
    }
    move |size| {
        cache
            .iter()
            .find(|(n, _)| *n == size)
            .map(|(_, b)| b.clone())
            .unwrap_or_else(|| payload(size))
    }
}

// ---------------------------------------------------------------------------------------
// The two codecs behind one interface.

trait Side {
    /// Appends the whole stream to `buf`.
    fn encode_all(&self, buf: &mut BytesMut);
    /// Takes every packet off `buf`, dropping each; returns how many there were. `buf` is
    /// left empty but still holds the stream's allocation, so freeing that is not timed.
    fn decode_all(&self, buf: &mut BytesMut) -> usize;
    /// Decodes `stream` and checks it yields exactly the packets the side was built from.
    fn check_roundtrip(&self, stream: &[u8]);
}

struct Mqttspec {
    version: ProtocolVersion,
    packets: Vec<Packet>,
}

impl Mqttspec {
    fn new(steps: &[Step], version: ProtocolVersion) -> Self {
        let v5 = version.is_v5();
        let payload = payloads(steps);
        let qos = |q: u8| QoS::from_u8(q).expect("QoS 0..=2");
        let packets = steps
            .iter()
            .map(|&step| match step {
                Step::Subscribe(id) => {
                    let mut s = Subscribe::new(
                        id,
                        FILTERS
                            .iter()
                            .map(|&(f, q)| Subscription::new(f, qos(q)))
                            .collect(),
                    );
                    if v5 {
                        s.properties = Properties::new()
                            .with(Property::SubscriptionIdentifier(SUBSCRIPTION_ID));
                    }
                    Packet::Subscribe(s)
                }
                Step::SubAck(id) => Packet::SubAck(SubAck {
                    packet_id: id,
                    properties: Properties::new(),
                    reason_codes: FILTERS.iter().map(|&(_, q)| ReasonCode(q)).collect(),
                }),
                Step::Publish { qos: q, size, pkid } => {
                    let mut p = Publish::new(TOPIC, qos(q), payload(size));
                    p.packet_id = pkid;
                    if v5 {
                        // In the order rumqttc writes them, so the bytes can be compared.
                        p.properties = Properties::new()
                            .with(Property::MessageExpiryInterval(MESSAGE_EXPIRY))
                            .with(Property::UserProperty(
                                USER_PROPERTY.0.into(),
                                USER_PROPERTY.1.into(),
                            ))
                            .with(Property::ContentType(CONTENT_TYPE.into()));
                    }
                    Packet::Publish(p)
                }
                Step::PubAck(id) => Packet::PubAck(PublishAck::new(id)),
                Step::PubRec(id) => Packet::PubRec(PublishAck::new(id)),
                Step::PubRel(id) => Packet::PubRel(PublishAck::new(id)),
                Step::PubComp(id) => Packet::PubComp(PublishAck::new(id)),
                Step::Unsubscribe(id) => Packet::Unsubscribe(Unsubscribe::new(
                    id,
                    vec![MqttString::from(UNSUBSCRIBE_FILTER)],
                )),
                Step::UnsubAck(id) => Packet::UnsubAck(UnsubAck {
                    packet_id: id,
                    properties: Properties::new(),
                    reason_codes: if v5 {
                        vec![ReasonCode::SUCCESS]
                    } else {
                        Vec::new()
                    },
                }),
                Step::PingReq => Packet::PingReq,
            })
            .collect();
        Mqttspec { version, packets }
    }

    fn decoder(&self) -> PacketDecoder {
        PacketDecoder::new(self.version).with_max_packet_size(MAX_PACKET)
    }
}

impl Side for Mqttspec {
    fn encode_all(&self, buf: &mut BytesMut) {
        for p in &self.packets {
            p.encode(self.version, buf).expect("mqttspec encode");
        }
    }

    fn decode_all(&self, buf: &mut BytesMut) -> usize {
        let mut decoder = self.decoder();
        let mut n = 0;
        while let Some(p) = decoder.decode(buf).expect("mqttspec decode") {
            black_box(p);
            n += 1;
        }
        n
    }

    fn check_roundtrip(&self, stream: &[u8]) {
        let mut buf = BytesMut::from(stream);
        let mut decoder = self.decoder();
        let mut out = Vec::new();
        while let Some(p) = decoder.decode(&mut buf).expect("mqttspec decode") {
            out.push(p);
        }
        assert!(
            buf.is_empty(),
            "mqttspec left {} bytes undecoded",
            buf.len()
        );
        assert_eq!(out, self.packets, "mqttspec {} round trip", self.version);
    }
}

struct Rumqttc4 {
    packets: Vec<r4::Packet>,
}

impl Rumqttc4 {
    fn new(steps: &[Step]) -> Self {
        let payload = payloads(steps);
        let qos = |q: u8| rumqttc::mqttbytes::qos(q).expect("QoS 0..=2");
        let packets = steps
            .iter()
            .map(|&step| match step {
                Step::Subscribe(id) => {
                    let mut s = r4::Subscribe::new_many(
                        FILTERS
                            .iter()
                            .map(|&(f, q)| r4::SubscribeFilter::new(f.to_owned(), qos(q))),
                    );
                    s.pkid = id;
                    r4::Packet::Subscribe(s)
                }
                Step::SubAck(id) => r4::Packet::SubAck(r4::SubAck::new(
                    id,
                    FILTERS
                        .iter()
                        .map(|&(_, q)| r4::SubscribeReasonCode::Success(qos(q)))
                        .collect(),
                )),
                Step::Publish { qos: q, size, pkid } => {
                    let mut p = r4::Publish::from_bytes(TOPIC, qos(q), payload(size));
                    p.pkid = pkid;
                    r4::Packet::Publish(p)
                }
                Step::PubAck(id) => r4::Packet::PubAck(r4::PubAck::new(id)),
                Step::PubRec(id) => r4::Packet::PubRec(r4::PubRec::new(id)),
                Step::PubRel(id) => r4::Packet::PubRel(r4::PubRel::new(id)),
                Step::PubComp(id) => r4::Packet::PubComp(r4::PubComp::new(id)),
                Step::Unsubscribe(id) => r4::Packet::Unsubscribe(r4::Unsubscribe {
                    pkid: id,
                    topics: vec![UNSUBSCRIBE_FILTER.to_owned()],
                }),
                Step::UnsubAck(id) => r4::Packet::UnsubAck(r4::UnsubAck::new(id)),
                Step::PingReq => r4::Packet::PingReq,
            })
            .collect();
        Rumqttc4 { packets }
    }
}

impl Side for Rumqttc4 {
    fn encode_all(&self, buf: &mut BytesMut) {
        for p in &self.packets {
            p.write(buf, MAX_PACKET as usize)
                .expect("rumqttc v4 encode");
        }
    }

    fn decode_all(&self, buf: &mut BytesMut) -> usize {
        let mut n = 0;
        while !buf.is_empty() {
            let p = r4::Packet::read(buf, MAX_PACKET as usize).expect("rumqttc v4 decode");
            black_box(p);
            n += 1;
        }
        n
    }

    fn check_roundtrip(&self, stream: &[u8]) {
        let mut buf = BytesMut::from(stream);
        let mut out = Vec::new();
        while !buf.is_empty() {
            out.push(r4::Packet::read(&mut buf, MAX_PACKET as usize).expect("rumqttc v4 decode"));
        }
        assert_eq!(out, self.packets, "rumqttc v4 round trip");
    }
}

struct Rumqttc5 {
    packets: Vec<r5::Packet>,
}

impl Rumqttc5 {
    fn new(steps: &[Step]) -> Self {
        let payload = payloads(steps);
        let qos = |q: u8| rumqttc::v5::mqttbytes::qos(q).expect("QoS 0..=2");
        let packets = steps
            .iter()
            .map(|&step| match step {
                Step::Subscribe(id) => {
                    let mut s = r5::Subscribe::new_many(
                        FILTERS.iter().map(|&(f, q)| r5::Filter::new(f, qos(q))),
                        Some(r5::SubscribeProperties {
                            id: Some(SUBSCRIPTION_ID as usize),
                            user_properties: Vec::new(),
                        }),
                    );
                    s.pkid = id;
                    r5::Packet::Subscribe(s)
                }
                Step::SubAck(id) => r5::Packet::SubAck(r5::SubAck {
                    pkid: id,
                    return_codes: FILTERS
                        .iter()
                        .map(|&(_, q)| r5::SubscribeReasonCode::Success(qos(q)))
                        .collect(),
                    properties: None,
                }),
                Step::Publish { qos: q, size, pkid } => {
                    let properties = r5::PublishProperties {
                        message_expiry_interval: Some(MESSAGE_EXPIRY),
                        user_properties: vec![(
                            USER_PROPERTY.0.to_owned(),
                            USER_PROPERTY.1.to_owned(),
                        )],
                        content_type: Some(CONTENT_TYPE.to_owned()),
                        ..Default::default()
                    };
                    let mut p = r5::Publish::new(TOPIC, qos(q), payload(size), Some(properties));
                    p.pkid = pkid;
                    r5::Packet::Publish(p)
                }
                Step::PubAck(id) => r5::Packet::PubAck(r5::PubAck::new(id, None)),
                Step::PubRec(id) => r5::Packet::PubRec(r5::PubRec::new(id, None)),
                Step::PubRel(id) => r5::Packet::PubRel(r5::PubRel::new(id, None)),
                Step::PubComp(id) => r5::Packet::PubComp(r5::PubComp::new(id, None)),
                Step::Unsubscribe(id) => r5::Packet::Unsubscribe(r5::Unsubscribe {
                    pkid: id,
                    filters: vec![UNSUBSCRIBE_FILTER.to_owned()],
                    properties: None,
                }),
                Step::UnsubAck(id) => r5::Packet::UnsubAck(r5::UnsubAck {
                    pkid: id,
                    reasons: vec![r5::UnsubAckReason::Success],
                    properties: None,
                }),
                Step::PingReq => r5::Packet::PingReq(r5::PingReq),
            })
            .collect();
        Rumqttc5 { packets }
    }
}

impl Side for Rumqttc5 {
    fn encode_all(&self, buf: &mut BytesMut) {
        for p in &self.packets {
            p.write(buf, Some(MAX_PACKET)).expect("rumqttc v5 encode");
        }
    }

    fn decode_all(&self, buf: &mut BytesMut) -> usize {
        let mut n = 0;
        while !buf.is_empty() {
            let p = r5::Packet::read(buf, Some(MAX_PACKET)).expect("rumqttc v5 decode");
            black_box(p);
            n += 1;
        }
        n
    }

    fn check_roundtrip(&self, stream: &[u8]) {
        let mut buf = BytesMut::from(stream);
        let mut out = Vec::new();
        while !buf.is_empty() {
            out.push(r5::Packet::read(&mut buf, Some(MAX_PACKET)).expect("rumqttc v5 decode"));
        }
        assert_eq!(out, self.packets, "rumqttc v5 round trip");
    }
}

// ---------------------------------------------------------------------------------------
// One protocol's stream with both codecs, checked to do the same work.

struct Case<T> {
    label: &'static str,
    stream: Bytes,
    packets: usize,
    ours: Mqttspec,
    theirs: T,
}

impl<T: Side> Case<T> {
    fn new(label: &'static str, ours: Mqttspec, theirs: T) -> Self {
        let mut mine = BytesMut::new();
        ours.encode_all(&mut mine);
        let mut other = BytesMut::new();
        theirs.encode_all(&mut other);
        if mine != other {
            let at = mine
                .iter()
                .zip(other.iter())
                .position(|(a, b)| a != b)
                .unwrap_or(mine.len().min(other.len()));
            panic!(
                "{label}: the codecs encode the stream differently (mqttspec {} bytes, rumqttc {} \
                 bytes, first difference at byte {at}): the bench would compare different work",
                mine.len(),
                other.len()
            );
        }
        let stream = mine.freeze();
        ours.check_roundtrip(&stream);
        theirs.check_roundtrip(&stream);
        let packets = ours.packets.len();
        assert_eq!(ours.decode_all(&mut BytesMut::from(&stream[..])), packets);
        assert_eq!(theirs.decode_all(&mut BytesMut::from(&stream[..])), packets);
        Case {
            label,
            stream,
            packets,
            ours,
            theirs,
        }
    }

    fn bench(&self, c: &mut Criterion) {
        let len = self.stream.len();

        let mut g = c.benchmark_group(format!("decode/{}", self.label));
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_function("mqttspec", |b| {
            b.iter_batched_ref(
                || BytesMut::from(&self.stream[..]),
                |buf| self.ours.decode_all(buf),
                BatchSize::NumIterations(DECODE_BATCH),
            )
        });
        g.bench_function("rumqttc", |b| {
            b.iter_batched_ref(
                || BytesMut::from(&self.stream[..]),
                |buf| self.theirs.decode_all(buf),
                BatchSize::NumIterations(DECODE_BATCH),
            )
        });
        g.finish();

        let mut g = c.benchmark_group(format!("encode/{}", self.label));
        g.throughput(Throughput::Bytes(len as u64));
        let mut buf = BytesMut::with_capacity(len);
        g.bench_function("mqttspec", |b| {
            b.iter(|| {
                buf.clear();
                self.ours.encode_all(&mut buf);
                buf.len()
            })
        });
        g.bench_function("rumqttc", |b| {
            b.iter(|| {
                buf.clear();
                self.theirs.encode_all(&mut buf);
                buf.len()
            })
        });
        g.finish();
    }
}

// ---------------------------------------------------------------------------------------
// Self-timed ratio: best of several interleaved runs of about `RUN` each.

const RUN: Duration = Duration::from_millis(200);
const RUNS: usize = 5;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Decode,
    Encode,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Decode => "decode",
            Op::Encode => "encode",
        }
    }

    fn goal(self) -> f64 {
        match self {
            Op::Decode => 1.5,
            Op::Encode => 3.0,
        }
    }
}

/// Time spent in `iters` decodes or encodes of `stream`, setup excluded.
fn timed<S: Side>(side: &S, op: Op, stream: &Bytes, iters: u64) -> Duration {
    match op {
        Op::Encode => {
            let mut buf = BytesMut::with_capacity(stream.len());
            let start = Instant::now();
            for _ in 0..iters {
                buf.clear();
                side.encode_all(&mut buf);
                black_box(buf.len());
            }
            start.elapsed()
        }
        Op::Decode => {
            let mut total = Duration::ZERO;
            let mut left = iters;
            let mut copies = Vec::with_capacity(DECODE_BATCH as usize);
            while left > 0 {
                let n = left.min(DECODE_BATCH);
                copies.extend((0..n).map(|_| BytesMut::from(&stream[..])));
                let start = Instant::now();
                for buf in copies.iter_mut() {
                    black_box(side.decode_all(buf));
                }
                total += start.elapsed();
                copies.clear();
                left -= n;
            }
            total
        }
    }
}

/// Iterations that take about `RUN`.
fn calibrate<S: Side>(side: &S, op: Op, stream: &Bytes) -> u64 {
    let mut iters = 1u64;
    loop {
        let t = timed(side, op, stream, iters);
        if t >= Duration::from_millis(20) {
            let per = t.as_secs_f64() / iters as f64;
            return ((RUN.as_secs_f64() / per) as u64).max(1);
        }
        iters *= 2;
    }
}

/// Bytes per second, ours and theirs.
fn throughputs<A: Side, B: Side>(ours: &A, theirs: &B, op: Op, stream: &Bytes) -> (f64, f64) {
    let n_ours = calibrate(ours, op, stream);
    let n_theirs = calibrate(theirs, op, stream);
    let (mut best_ours, mut best_theirs) = (f64::MAX, f64::MAX);
    for _ in 0..RUNS {
        let t = timed(ours, op, stream, n_ours).as_secs_f64() / n_ours as f64;
        best_ours = best_ours.min(t);
        let t = timed(theirs, op, stream, n_theirs).as_secs_f64() / n_theirs as f64;
        best_theirs = best_theirs.min(t);
    }
    let len = stream.len() as f64;
    (len / best_ours, len / best_theirs)
}

fn gib(bytes_per_sec: f64) -> f64 {
    bytes_per_sec / f64::from(1u32 << 30)
}

fn print_ratios<T: Side>(case: &Case<T>, small: &Case<T>) {
    for op in [Op::Decode, Op::Encode] {
        let (ours, theirs) = throughputs(&case.ours, &case.theirs, op, &case.stream);
        let ratio = ours / theirs;
        println!(
            "ratio {} {}: {ratio:.2}x (mqttspec {:.2} GiB/s, rumqttc {:.2} GiB/s) [goal >= {}x: {}]",
            op.name(),
            case.label,
            gib(ours),
            gib(theirs),
            op.goal(),
            if ratio >= op.goal() { "met" } else { "NOT met" },
        );
        let (ours, theirs) = throughputs(&small.ours, &small.theirs, op, &small.stream);
        let pkt = |bps: f64| bps / small.stream.len() as f64 * small.packets as f64 / 1e6;
        println!(
            "  (info) {} {} without 64 KiB payloads: {:.2}x (mqttspec {:.1} Mpkt/s, rumqttc {:.1} \
             Mpkt/s)",
            op.name(),
            small.label,
            ours / theirs,
            pkt(ours),
            pkt(theirs),
        );
    }
}

fn main() {
    let steps = script(&PAYLOAD_SIZES);
    let small_steps = script(&PAYLOAD_SIZES[..2]);
    let v4 = Case::new(
        "v3.1.1",
        Mqttspec::new(&steps, ProtocolVersion::V3_1_1),
        Rumqttc4::new(&steps),
    );
    let v5 = Case::new(
        "v5",
        Mqttspec::new(&steps, ProtocolVersion::V5),
        Rumqttc5::new(&steps),
    );
    let v4_small = Case::new(
        "v3.1.1",
        Mqttspec::new(&small_steps, ProtocolVersion::V3_1_1),
        Rumqttc4::new(&small_steps),
    );
    let v5_small = Case::new(
        "v5",
        Mqttspec::new(&small_steps, ProtocolVersion::V5),
        Rumqttc5::new(&small_steps),
    );
    println!(
        "stream: {} packets; v3.1.1 {} bytes, v5 {} bytes (identical encodings from both codecs)",
        v4.packets,
        v4.stream.len(),
        v5.stream.len()
    );

    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    v4.bench(&mut c);
    v5.bench(&mut c);
    c.final_summary();

    // `cargo bench` passes --bench; `cargo test --benches` does not (criterion's test mode).
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    if has("--bench") && !has("--test") && !has("--list") && !has("--profile-time") {
        println!();
        print_ratios(&v4, &v4_small);
        print_ratios(&v5, &v5_small);
    }
}
