//! Broker throughput and idle-connection memory: mqttspec-broker against Mosquitto.
//!
//! Both brokers run as separate processes on free loopback ports: this crate's binary
//! (`--listen 127.0.0.1:0`, port read from its stdout) and `/usr/sbin/mosquitto` (or
//! `$MOSQUITTO`) with a generated config (`listener PORT 127.0.0.1`, `allow_anonymous
//! true`). Readiness is a successful CONNECT/CONNACK (bounded retries). Both are killed by
//! PID when the bench ends, panics included.
//!
//! The same client code (raw MQTT 3.1.1 over tokio `TcpStream`, packets built and read with
//! mqttspec-codec, many packets encoded into one buffer per write) measures each broker:
//!
//! * QoS 0 / QoS 1 fan-in: 8 publishers on `…/in/{i}` → 1 subscriber on `…/in/#`.
//! * QoS 0 / QoS 1 fan-out: 1 publisher → 8 subscribers on the same topic.
//!
//! Payloads are 64 bytes. Rate = PUBLISHes received by the subscribers / seconds from the
//! first publish to the last receive. A run ends when everything arrived, or 500 ms after
//! the publishers finished without anything new arriving (QoS 0 may be dropped under
//! overload; the table shows received / sent). At QoS 1 a publisher keeps at most 100
//! unacknowledged PUBLISHes and subscribers PUBACK every message. A pilot run sizes N so
//! that a run takes about 1.5 s; each measurement is the best of 3 runs. Client and broker
//! CPU (from `/proc/*/stat`, in % of one core) are shown so a client bottleneck is visible.
//!
//! Memory: VmRSS of the broker process with no clients, then with 500 idle MQTT 3.1.1
//! connections (CONNECT, CONNACK, Keep Alive 0); per connection = delta / 500. This runs
//! first, on fresh processes.
//!
//! The clients run on one current-thread tokio runtime, so they use at most one of the
//! machine's cores.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use mqttspec_codec::{
    Connect, MqttString, Packet, PacketDecoder, ProtocolVersion, Publish, PublishAck, QoS,
    Subscribe, Subscription,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const V: ProtocolVersion = ProtocolVersion::V3_1_1;
const PAYLOAD_LEN: usize = 64;
/// Publishers in fan-in, subscribers in fan-out.
const FAN: usize = 8;
/// Unacknowledged QoS 1 PUBLISHes a publisher keeps at most.
const WINDOW: u64 = 100;
/// QoS 0 PUBLISHes encoded into one buffer per write.
const BATCH: u64 = 256;
const IDLE_CONNECTIONS: usize = 500;
const RUNS: usize = 3;
/// Wanted length of one measured run.
const TARGET_SECS: f64 = 1.5;
/// Deliveries in the pilot run that sizes N.
const PILOT_DELIVERIES: u64 = 40_000;
/// Quiet time after the publishers finished that ends a run which lost messages.
const QUIET: Duration = Duration::from_millis(500);
/// Hard limit on one run.
const RUN_LIMIT: Duration = Duration::from_secs(20);
/// Time to wait for the first message of a run.
const FIRST_MESSAGE_LIMIT: Duration = Duration::from_secs(5);

static CLIENT_IDS: AtomicU64 = AtomicU64::new(0);
static RUN_IDS: AtomicU64 = AtomicU64::new(0);

fn main() {
    // `cargo bench` passes `--bench`; other words select what to run by name (e.g.
    // `-- qos0-fan-in memory`); none selects everything.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let selected = |id: &str| filters.is_empty() || filters.iter().any(|f| id.contains(f.as_str()));
    let ours_bin = env!("CARGO_BIN_EXE_mqttspec-broker");
    let mosquitto_bin =
        std::env::var("MOSQUITTO").unwrap_or_else(|_| "/usr/sbin/mosquitto".to_owned());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let started = Instant::now();

    let brokers = [
        BrokerProcess::start_ours(ours_bin),
        BrokerProcess::start_mosquitto(&mosquitto_bin),
    ];
    for b in &brokers {
        rt.block_on(wait_ready(b));
        eprintln!("{} ready on {} (pid {})", b.name, b.addr, b.pid());
    }

    // Memory first, while the processes are fresh.
    let memory = selected("memory").then(|| {
        brokers.each_ref().map(|b| {
            let m = rt.block_on(idle_memory(b));
            eprintln!(
                "{}: RSS {} KiB idle, {} KiB with {} connections: {:.0} B/connection",
                b.name,
                m.before_kib,
                m.after_kib,
                IDLE_CONNECTIONS,
                m.per_connection()
            );
            m
        })
    });

    let scenarios = [
        Scenario::new(QoS::AtMostOnce, Shape::FanIn),
        Scenario::new(QoS::AtMostOnce, Shape::FanOut),
        Scenario::new(QoS::AtLeastOnce, Shape::FanIn),
        Scenario::new(QoS::AtLeastOnce, Shape::FanOut),
    ];
    let mut results: Vec<(&Scenario, [Outcome; 2])> = Vec::new();
    for s in scenarios.iter().filter(|s| selected(&s.id())) {
        let best = brokers.each_ref().map(|b| {
            let pilot = run_bounded(&rt, b, s, (PILOT_DELIVERIES / FAN as u64).max(1));
            let n = s.size_for(&pilot);
            let mut best: Option<Outcome> = None;
            for i in 0..RUNS {
                let o = run_bounded(&rt, b, s, n);
                eprintln!(
                    "{:<18} {:<16} run {}: {}",
                    s.label(),
                    b.name,
                    i + 1,
                    o.detail()
                );
                if best.as_ref().is_none_or(|b| o.rate() > b.rate()) {
                    best = Some(o);
                }
            }
            best.expect("at least one run")
        });
        results.push((s, best));
    }

    print_report(&brokers, &results, memory.as_ref());
    println!(
        "\n(total bench time {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    drop(brokers);
}

// --- Broker processes ---

/// A broker process, killed (by PID) and reaped on drop; its temp dir removed.
struct BrokerProcess {
    name: &'static str,
    child: Child,
    addr: SocketAddr,
    dir: Option<PathBuf>,
}

impl BrokerProcess {
    fn start_ours(bin: &str) -> BrokerProcess {
        let mut child = Command::new(bin)
            .args(["--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        // Guard first, so the process dies even if the port never shows up.
        let mut process = BrokerProcess {
            name: "mqttspec-broker",
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            dir: None,
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            // Keep draining so the broker never writes into a closed pipe.
            for _ in lines {}
        });
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("mqttspec-broker did not print its address within 10 s");
        let addr = line
            .strip_prefix("mqttspec-broker listening on ")
            .and_then(|a| a.trim().parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from mqttspec-broker: {line:?}"));
        process.addr = addr;
        process
    }

    fn start_mosquitto(bin: &str) -> BrokerProcess {
        let port = {
            let l = StdListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
            l.local_addr().expect("local addr").port()
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "mqttspec-bench-mosquitto-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        let conf = dir.join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!("listener {port} 127.0.0.1\nallow_anonymous true\n"),
        )
        .expect("write mosquitto.conf");
        let child = Command::new(bin)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        BrokerProcess {
            name: "mosquitto",
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir: Some(dir),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for BrokerProcess {
    fn drop(&mut self) {
        // `Child::kill` sends SIGKILL to this PID; `wait` reaps it.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Ready = a CONNECT is answered with CONNACK. Bounded retries, no fixed sleep.
async fn wait_ready(b: &BrokerProcess) {
    let mut last_error = String::new();
    for _ in 0..200 {
        match tokio::time::timeout(Duration::from_secs(1), Client::connect(b.addr, "ready")).await {
            Ok(Ok(_client)) => return,
            Ok(Err(e)) => last_error = e.to_string(),
            Err(_) => last_error = "CONNACK timeout".to_owned(),
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{} at {} never became ready: {last_error}", b.name, b.addr);
}

// --- /proc readings ---

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

/// User + system CPU time of a process (all threads), in seconds.
fn cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    ticks as f64 / clock_ticks()
}

/// CPU seconds all cores spent busy (not idle or iowait), from the first line of /proc/stat.
fn machine_busy_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let total: u64 = ticks.iter().take(8).sum();
    // idle and iowait
    let idle = ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0);
    (total - idle) as f64 / clock_ticks()
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

// --- A minimal MQTT 3.1.1 client ---

struct Client {
    stream: TcpStream,
    input: BytesMut,
    decoder: PacketDecoder,
    output: BytesMut,
}

impl Client {
    /// TCP connect, CONNECT (clean session, Keep Alive 0), wait for a successful CONNACK.
    async fn connect(addr: SocketAddr, role: &str) -> std::io::Result<Client> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let mut client = Client {
            stream,
            input: BytesMut::with_capacity(1024),
            decoder: PacketDecoder::new(V),
            output: BytesMut::with_capacity(1024),
        };
        let id = CLIENT_IDS.fetch_add(1, Ordering::Relaxed);
        let connect = Connect {
            protocol: V,
            clean_start: true,
            keep_alive: 0,
            client_id: MqttString::from(format!("bench-{role}-{id}")),
            ..Default::default()
        };
        client.send(&Packet::Connect(connect)).await?;
        match client.next_packet().await? {
            Some(Packet::ConnAck(a)) if a.reason_code.0 == 0 => Ok(client),
            other => Err(std::io::Error::other(format!(
                "expected CONNACK, got {other:?}"
            ))),
        }
    }

    async fn send(&mut self, packet: &Packet) -> std::io::Result<()> {
        self.output.clear();
        packet
            .encode(V, &mut self.output)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        self.stream.write_all(&self.output).await
    }

    /// The next packet; `None` when the broker closed the connection.
    async fn next_packet(&mut self) -> std::io::Result<Option<Packet>> {
        loop {
            if let Some(p) = self.decode()? {
                return Ok(Some(p));
            }
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }

    fn decode(&mut self) -> std::io::Result<Option<Packet>> {
        self.decoder
            .decode(&mut self.input)
            .map_err(|e| std::io::Error::other(e.to_string()))
    }

    /// Reads what the socket has; `false` on end of stream.
    async fn fill(&mut self) -> std::io::Result<bool> {
        self.input.reserve(64 * 1024);
        Ok(self.stream.read_buf(&mut self.input).await? > 0)
    }

    async fn subscribe(&mut self, filter: &str, qos: QoS) {
        let sub = Subscribe::new(1, vec![Subscription::new(filter, qos)]);
        self.send(&Packet::Subscribe(sub)).await.expect("SUBSCRIBE");
        match self.next_packet().await.expect("SUBACK") {
            Some(Packet::SubAck(a)) if a.reason_codes.first().map(|c| c.0) == Some(qos.as_u8()) => {
            }
            other => panic!("expected SUBACK granting QoS {qos}, got {other:?}"),
        }
    }
}

// --- Scenarios ---

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// FAN publishers → 1 subscriber on a wildcard filter.
    FanIn,
    /// 1 publisher → FAN subscribers on the same topic.
    FanOut,
}

struct Scenario {
    qos: QoS,
    shape: Shape,
}

impl Scenario {
    fn new(qos: QoS, shape: Shape) -> Self {
        Scenario { qos, shape }
    }

    fn id(&self) -> String {
        match self.shape {
            Shape::FanIn => format!("qos{}-fan-in", self.qos),
            Shape::FanOut => format!("qos{}-fan-out", self.qos),
        }
    }

    fn label(&self) -> String {
        match self.shape {
            Shape::FanIn => format!("QoS {} fan-in {FAN}→1", self.qos),
            Shape::FanOut => format!("QoS {} fan-out 1→{FAN}", self.qos),
        }
    }

    /// Messages per publisher so that a run (publishing, and receiving) takes about
    /// TARGET_SECS, scaled from the pilot run.
    fn size_for(&self, pilot: &Outcome) -> u64 {
        let took = pilot.secs.max(pilot.publish_secs).max(1e-3);
        ((pilot.n as f64 * TARGET_SECS / took) as u64).clamp(2_500, 2_500_000)
    }
}

struct Outcome {
    /// Deliveries expected (every PUBLISH to every matching subscriber).
    expected: u64,
    received: u64,
    /// First publish to last receive.
    secs: f64,
    /// First publish to the last publisher done (last PUBACK at QoS 1).
    publish_secs: f64,
    client_cpu: f64,
    broker_cpu: f64,
    /// CPU used on the whole machine, in cores.
    machine_busy: f64,
    /// Messages per publisher.
    n: u64,
}

impl Outcome {
    fn rate(&self) -> f64 {
        if self.secs > 0.0 {
            self.received as f64 / self.secs
        } else {
            0.0
        }
    }

    fn detail(&self) -> String {
        format!(
            "N={} recv {}/{} ({:.1}%) in {:.3} s (published in {:.3} s) = {} msg/s; \
             CPU client {:.0}%, broker {:.0}%, other processes {:.0}%",
            self.n,
            self.received,
            self.expected,
            self.received_share(),
            self.secs,
            self.publish_secs,
            thousands(self.rate()),
            100.0 * self.client_cpu,
            100.0 * self.broker_cpu,
            100.0 * self.other_cpu(),
        )
    }

    /// CPU (in cores) used by neither client nor broker: other load on the machine.
    fn other_cpu(&self) -> f64 {
        (self.machine_busy - self.client_cpu - self.broker_cpu).max(0.0)
    }

    fn received_share(&self) -> f64 {
        100.0 * self.received as f64 / self.expected.max(1) as f64
    }
}

/// A run that cannot hang the bench: a broker that stops reading would block the publishers.
fn run_bounded(rt: &tokio::runtime::Runtime, b: &BrokerProcess, s: &Scenario, n: u64) -> Outcome {
    rt.block_on(async {
        tokio::time::timeout(RUN_LIMIT * 3, run(b, s, n))
            .await
            .unwrap_or_else(|_| panic!("{} run against {} hung", s.label(), b.name))
    })
}

/// One run: connect everyone, subscribe, then publish `n` messages per publisher.
async fn run(b: &BrokerProcess, s: &Scenario, n: u64) -> Outcome {
    let run_id = RUN_IDS.fetch_add(1, Ordering::Relaxed);
    let (publishers, subscribers) = match s.shape {
        Shape::FanIn => (FAN, 1),
        Shape::FanOut => (1, FAN),
    };
    let (filter, topics): (String, Vec<String>) = match s.shape {
        Shape::FanIn => (
            format!("bench/{run_id}/in/#"),
            (0..FAN).map(|i| format!("bench/{run_id}/in/{i}")).collect(),
        ),
        Shape::FanOut => {
            let t = format!("bench/{run_id}/out");
            (t.clone(), vec![t])
        }
    };
    let expected_each = n * publishers as u64;
    let expected = expected_each * subscribers as u64;

    let mut subs = Vec::new();
    for _ in 0..subscribers {
        let mut c = Client::connect(b.addr, "sub").await.expect("subscriber");
        c.subscribe(&filter, s.qos).await;
        subs.push(c);
    }
    let mut pubs = Vec::new();
    for _ in 0..publishers {
        pubs.push(Client::connect(b.addr, "pub").await.expect("publisher"));
    }

    let publishers_done = Arc::new(AtomicUsize::new(0));
    let client_pid = std::process::id().to_string();
    let broker_pid = b.pid().to_string();
    let cpu0 = (
        cpu_secs(&client_pid),
        cpu_secs(&broker_pid),
        machine_busy_secs(),
    );
    let start = Instant::now();
    let sub_tasks: Vec<_> = subs
        .into_iter()
        .map(|c| {
            tokio::spawn(receive(
                c,
                s.qos,
                expected_each,
                publishers_done.clone(),
                publishers,
                start,
            ))
        })
        .collect();
    let pub_tasks: Vec<_> = pubs
        .into_iter()
        .zip(topics)
        .map(|(c, topic)| {
            let done = publishers_done.clone();
            let qos = s.qos;
            tokio::spawn(async move {
                let c = publish(c, MqttString::from(topic), qos, n).await;
                done.fetch_add(1, Ordering::Release);
                (c, Instant::now())
            })
        })
        .collect();
    let mut received = 0;
    let mut last = start;
    for t in sub_tasks {
        let (count, at, _client) = t.await.expect("subscriber task");
        received += count;
        last = last.max(at);
    }
    let ended = Instant::now();
    let cpu1 = (
        cpu_secs(&client_pid),
        cpu_secs(&broker_pid),
        machine_busy_secs(),
    );
    // Keep the publishers' connections until the subscribers are done.
    let mut published = start;
    for t in pub_tasks {
        let (_client, at) = t.await.expect("publisher task");
        published = published.max(at);
    }
    let secs = (last - start).as_secs_f64();
    // CPU shares over the whole run (until the subscribers stopped), so that all three are
    // measured over the same wall time.
    let busy = (ended - start).as_secs_f64().max(1e-9);
    Outcome {
        expected,
        received,
        secs,
        publish_secs: (published - start).as_secs_f64(),
        client_cpu: (cpu1.0 - cpu0.0) / busy,
        broker_cpu: (cpu1.1 - cpu0.1) / busy,
        machine_busy: (cpu1.2 - cpu0.2) / busy,
        n,
    }
}

/// Publishes `n` messages of PAYLOAD_LEN bytes to `topic`. QoS 0: batches of BATCH packets
/// per write, TCP flow control only. QoS 1: at most WINDOW unacknowledged, topped up in one
/// write after each read of PUBACKs.
async fn publish(mut c: Client, topic: MqttString, qos: QoS, n: u64) -> Client {
    let payload = Bytes::from(vec![b'x'; PAYLOAD_LEN]);
    let message = |pid: u16| {
        let mut p = Publish::new(topic.clone(), qos, payload.clone());
        p.packet_id = pid;
        Packet::Publish(p)
    };
    if qos == QoS::AtMostOnce {
        let mut batch = BytesMut::new();
        for _ in 0..BATCH.min(n) {
            message(0).encode(V, &mut batch).expect("encode PUBLISH");
        }
        let packet_len = batch.len() / BATCH.min(n) as usize;
        let mut left = n;
        while left > 0 {
            let k = left.min(BATCH);
            c.stream
                .write_all(&batch[..k as usize * packet_len])
                .await
                .expect("write PUBLISH batch");
            left -= k;
        }
        return c;
    }
    let (mut sent, mut acked) = (0u64, 0u64);
    while acked < n {
        let room = (WINDOW - (sent - acked)).min(n - sent);
        if room > 0 {
            c.output.clear();
            for _ in 0..room {
                // Packet identifiers 1..=65535 in turn; at most WINDOW are in flight.
                let pid = (sent % 65_535) as u16 + 1;
                message(pid)
                    .encode(V, &mut c.output)
                    .expect("encode PUBLISH");
                sent += 1;
            }
            c.stream
                .write_all(&c.output)
                .await
                .expect("write PUBLISH batch");
        }
        assert!(c.fill().await.expect("read PUBACKs"), "broker closed");
        while let Some(p) = c.decode().expect("decode") {
            match p {
                Packet::PubAck(_) => acked += 1,
                other => panic!("publisher got {other:?}"),
            }
        }
    }
    c
}

/// Counts PUBLISHes until `expected` arrived, or the publishers are done and nothing came
/// for QUIET, or RUN_LIMIT. At QoS 1, PUBACKs everything read in one write per read.
async fn receive(
    mut c: Client,
    qos: QoS,
    expected: u64,
    publishers_done: Arc<AtomicUsize>,
    publishers: usize,
    start: Instant,
) -> (u64, Instant, Client) {
    let mut received = 0u64;
    let mut last = start;
    while received < expected {
        let now = Instant::now();
        let done = publishers_done.load(Ordering::Acquire) == publishers;
        let quiet = now - last;
        if now - start > RUN_LIMIT
            || (done && quiet > QUIET)
            || (received == 0 && quiet > FIRST_MESSAGE_LIMIT)
        {
            break;
        }
        match tokio::time::timeout(Duration::from_millis(100), c.fill()).await {
            Err(_) => continue,
            Ok(r) => assert!(r.expect("subscriber read"), "broker closed"),
        }
        c.output.clear();
        while let Some(p) = c.decode().expect("decode") {
            match p {
                Packet::Publish(p) => {
                    received += 1;
                    if qos == QoS::AtLeastOnce {
                        Packet::PubAck(PublishAck::new(p.packet_id))
                            .encode(V, &mut c.output)
                            .expect("encode PUBACK");
                    }
                }
                other => panic!("subscriber got {other:?}"),
            }
        }
        last = Instant::now();
        if !c.output.is_empty() {
            c.stream.write_all(&c.output).await.expect("write PUBACKs");
        }
    }
    (received, last, c)
}

// --- Memory ---

struct Memory {
    before_kib: u64,
    after_kib: u64,
}

impl Memory {
    fn per_connection(&self) -> f64 {
        (self.after_kib as f64 - self.before_kib as f64) * 1024.0 / IDLE_CONNECTIONS as f64
    }
}

async fn idle_memory(b: &BrokerProcess) -> Memory {
    let before_kib = rss_kib(b.pid());
    let mut clients = Vec::with_capacity(IDLE_CONNECTIONS);
    // 50 connections in flight at a time: well within any listen backlog.
    for chunk in 0..IDLE_CONNECTIONS.div_ceil(50) {
        let k = (IDLE_CONNECTIONS - chunk * 50).min(50);
        let batch: Vec<_> = (0..k)
            .map(|_| tokio::spawn(Client::connect(b.addr, "idle")))
            .collect();
        for t in batch {
            clients.push(t.await.expect("task").expect("idle connection"));
        }
    }
    let after_kib = rss_kib(b.pid());
    drop(clients);
    Memory {
        before_kib,
        after_kib,
    }
}

// --- Report ---

fn thousands(x: f64) -> String {
    let s = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn print_report(
    brokers: &[BrokerProcess; 2],
    results: &[(&Scenario, [Outcome; 2])],
    memory: Option<&[Memory; 2]>,
) {
    println!();
    println!(
        "{:<26} {:>28} {:>28} {:>9}",
        "scenario (64 B, best of 3)", brokers[0].name, brokers[1].name, "ours/mosq"
    );
    println!("{}", "-".repeat(94));
    for (s, r) in results {
        let cell = |o: &Outcome| {
            format!(
                "{} msg/s ({:.1}% recv)",
                thousands(o.rate()),
                o.received_share()
            )
        };
        println!(
            "{:<26} {:>28} {:>28} {:>8.2}×",
            s.label(),
            cell(&r[0]),
            cell(&r[1]),
            r[0].rate() / r[1].rate()
        );
    }
    if let Some(memory) = memory {
        println!(
            "{:<26} {:>28} {:>28} {:>8.2}×",
            "memory / idle connection",
            format!("{} B", thousands(memory[0].per_connection())),
            format!("{} B", thousands(memory[1].per_connection())),
            memory[0].per_connection() / memory[1].per_connection()
        );
    }
    println!();
    println!(
        "details of the best runs (CPU in % of one core over the whole run; \
         \"other processes\" is load on the machine from neither client nor broker):"
    );
    for (s, r) in results {
        for (b, o) in brokers.iter().zip(r) {
            println!("  {:<20} {:<16} {}", s.label(), b.name, o.detail());
        }
    }
    for (b, m) in brokers.iter().zip(memory.into_iter().flatten()) {
        println!(
            "  memory {:<16} VmRSS {} KiB → {} KiB with {} idle connections",
            b.name, m.before_kib, m.after_kib, IDLE_CONNECTIONS
        );
    }
    println!();
    if let Some((_, r)) = results
        .iter()
        .find(|(s, _)| s.qos == QoS::AtMostOnce && s.shape == Shape::FanIn)
    {
        let ratio = r[0].rate() / r[1].rate();
        println!(
            "goal: QoS 0 fan-in rate ≥ Mosquitto's: {ratio:.2}× → {} (received {:.1}% vs {:.1}% of sent)",
            if ratio >= 1.0 { "met" } else { "NOT met" },
            r[0].received_share(),
            r[1].received_share()
        );
    }
    if let Some(memory) = memory {
        let ratio = memory[0].per_connection() / memory[1].per_connection();
        println!(
            "goal: memory per idle connection ≤ Mosquitto's: {ratio:.2}× → {}",
            if ratio <= 1.0 { "met" } else { "NOT met" }
        );
    }
}
