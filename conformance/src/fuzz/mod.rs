//! `mqttspec fuzz`: stateful network fuzzing of the broker under test.
//!
//! The suite's scenarios, scripted offline ([`program::seeds`]), are the first inputs. Each
//! execution mutates one ([`mutate`]: steps, packet fields through the codec, deliberate
//! violations, bytes), runs it on up to six connections at once ([`exec`]), and keeps it if
//! the broker answered in a way not seen before: a new packet kind or reason code, a new
//! transition between answers, a new answer to a kind of packet (feedback as in FUME).
//!
//! Findings:
//! * a **violation** — a packet from the broker that breaks a rule whatever the broker's
//!   configuration ([`crate::engine::oracle`]): malformed, CONNACK not first, wrong packet
//!   identifiers, packets after a DISCONNECT or a refusing CONNACK, …;
//! * a **crash** — the broker stops accepting connections (for a broker the run started,
//!   its exit status and last standard error lines);
//! * a **hang** — a new client's CONNECT or PINGREQ goes unanswered within the bound.
//!
//! Each finding is minimized ([`minimize`]), confirmed by running it again, and written as
//! a scenario ([`emit`]) that `mqttspec run --scenarios DIR` replays. Crashes and hangs
//! are pinned to one input by running the inputs of the moment alone, one by one, on a
//! restarted broker: that needs a broker the run started (`--spawn`, `--image`).

pub mod emit;
pub mod exec;
pub mod minimize;
pub mod mutate;
pub mod program;
pub mod rng;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use emit::{Finding, Kind};
use exec::{ExecOptions, Execution, execute};
use program::{Program, token};
use rng::Rng;

use crate::engine::client::{AliveProbe, Down, Transcript, check_alive};
use crate::engine::{Supervised, rfc3339_now};
use crate::scenario::{Catalog, Version};

/// What a fuzzing run needs (the CLI builds it).
#[derive(Clone)]
pub struct FuzzConfig {
    pub exec: ExecOptions,
    pub versions: Vec<Version>,
    /// Glob patterns on scenario ids: the seeds (empty: every scenario).
    pub filters: Vec<String>,
    /// Stop after this long, or this many executions (whichever comes first; at least one
    /// of them is set).
    pub duration: Option<Duration>,
    pub iterations: Option<u64>,
    /// Executions at once.
    pub jobs: usize,
    pub seed: u64,
    /// Where findings are written (`DIR/fuzz/<rule>-<hash>.yaml`).
    pub out_dir: PathBuf,
    /// A broker the run started: crashes and hangs are triaged by restarting it.
    pub supervisor: Option<Arc<dyn Supervised>>,
    /// How the broker was reached, for the findings' comments.
    pub target: String,
    /// Runs a minimization may spend: violations, and crashes or hangs (each of those
    /// runs may need a restart).
    pub minimize_budget: usize,
    pub minimize_budget_down: usize,
    /// End the run once this many findings were written (none: run to the bound).
    pub max_findings: Option<usize>,
}

impl FuzzConfig {
    pub fn new(address: impl Into<String>, out_dir: impl Into<PathBuf>) -> Self {
        let address = address.into();
        FuzzConfig {
            target: address.clone(),
            exec: ExecOptions::new(address),
            versions: vec![Version::V3_1_1, Version::V5],
            filters: Vec::new(),
            duration: None,
            iterations: None,
            jobs: 8,
            seed: 1,
            out_dir: out_dir.into(),
            supervisor: None,
            minimize_budget: 300,
            minimize_budget_down: 80,
            max_findings: None,
        }
    }
}

/// One finding as the summary lists it.
#[derive(Clone, Debug)]
pub struct FindingSummary {
    pub id: String,
    pub rule: String,
    pub statement: Option<String>,
    pub description: String,
    pub version: Version,
    pub path: Option<PathBuf>,
    /// Further executions that showed the same finding.
    pub repeats: u64,
    /// Not pinned to one input or not minimized (e.g. a crash of a broker the run cannot
    /// restart): the file holds the input of the moment as it was.
    pub unconfirmed: bool,
}

/// The run's summary.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub executions: u64,
    pub elapsed: Duration,
    /// Distinct response features seen (packet kinds and codes, transitions).
    pub distinct_responses: usize,
    pub corpus: usize,
    pub seeds: usize,
    pub findings: Vec<FindingSummary>,
    /// Crashes or hangs that no input reproduced alone.
    pub unreproduced: u64,
    /// Why the run ended before its bound, if it did.
    pub halted: Option<String>,
    /// Per mutation: applied, and how often it added to the corpus.
    pub mutations: BTreeMap<&'static str, (u64, u64)>,
}

impl Summary {
    pub fn execs_per_sec(&self) -> f64 {
        self.executions as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Progress, as the run goes.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub executions: u64,
    pub elapsed: Duration,
    pub distinct_responses: usize,
    pub corpus: usize,
    pub findings: usize,
}

/// Corpus entries kept at most, and bytes they may send in all: past either, new inputs
/// are run but not kept.
const CORPUS_LIMIT: usize = 50_000;
const CORPUS_BYTES: usize = 256 << 20;

struct State {
    corpus: Vec<Program>,
    corpus_bytes: usize,
    features: HashSet<u64>,
    /// Finding signature → index in `findings`.
    signatures: HashMap<String, usize>,
    findings: Vec<FindingSummary>,
    /// The last programs executed, for pinning a crash on one.
    recent: VecDeque<Program>,
    mutations: BTreeMap<&'static str, (u64, u64)>,
    unreproduced: u64,
    halted: Option<String>,
}

struct Shared {
    config: FuzzConfig,
    run: u16,
    state: Mutex<State>,
    /// Executions hold it shared; pinning a crash holds it alone.
    gate: tokio::sync::RwLock<()>,
    next: AtomicU64,
    /// Numbers for re-runs (minimizing, confirming), apart from the executions'.
    reruns: AtomicU64,
    done: AtomicU64,
    stop: AtomicBool,
    started: Instant,
    deadline: Option<Instant>,
    seeds: usize,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs the fuzzer until its bound; `progress` is called about every `every`.
pub async fn run(
    catalog: &Catalog,
    config: FuzzConfig,
    every: Duration,
    progress: impl Fn(&Progress) + Send + Sync + 'static,
) -> Result<Summary, String> {
    if config.duration.is_none() && config.iterations.is_none() {
        return Err("give --duration or --iterations".into());
    }
    let selected: Vec<_> = crate::engine::select(catalog, &config.filters)
        .into_iter()
        .cloned()
        .collect();
    let seeds = program::seeds(
        &Catalog {
            scenarios: selected,
        },
        &config.versions,
    );
    if seeds.is_empty() {
        return Err("no scenario to start from (check --filter and --protocol)".into());
    }
    // Reachable at all?
    let alive = AliveProbe {
        address: &config.exec.address,
        version: config.versions[0].protocol(),
        client_id: "mqttspecfuzzcheck".into(),
        username: config.exec.username.clone(),
        password: config.exec.password.clone(),
        within: config.exec.hang_timeout,
    };
    match check_alive(&alive, &Transcript::new()).await {
        Ok(()) => {}
        Err(Down::Refused(why)) => return Err(format!("broker unreachable: {why}")),
        Err(down) => return Err(format!("the broker does not serve: {down}")),
    }
    let started = Instant::now();
    let shared = Arc::new(Shared {
        run: (config.seed as u16) ^ (std::process::id() as u16),
        deadline: config.duration.map(|d| started + d),
        state: Mutex::new(State {
            corpus_bytes: seeds.iter().map(Program::size).sum(),
            corpus: seeds.clone(),
            features: HashSet::new(),
            signatures: HashMap::new(),
            findings: Vec::new(),
            recent: VecDeque::new(),
            mutations: BTreeMap::new(),
            unreproduced: 0,
            halted: None,
        }),
        gate: tokio::sync::RwLock::new(()),
        next: AtomicU64::new(0),
        reruns: AtomicU64::new(0),
        done: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        started,
        seeds: seeds.len(),
        config,
    });
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..shared.config.jobs.max(1) {
        let shared = shared.clone();
        workers.spawn(async move { worker(&shared).await });
    }
    let ticker = {
        let shared = shared.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                progress(&shared.progress());
            }
        })
    };
    while workers.join_next().await.is_some() {}
    ticker.abort();
    let state = lock(&shared.state);
    // Two signatures can end in the same scenario (an unconfirmed finding keeps its
    // original input): list it once.
    let mut findings: Vec<FindingSummary> = Vec::new();
    for f in &state.findings {
        match findings
            .iter_mut()
            .find(|g| !f.id.is_empty() && g.id == f.id)
        {
            Some(g) => g.repeats += 1 + f.repeats,
            None => findings.push(f.clone()),
        }
    }
    Ok(Summary {
        executions: shared.done.load(Ordering::SeqCst),
        elapsed: shared.started.elapsed(),
        distinct_responses: state.features.len(),
        corpus: state.corpus.len(),
        seeds: shared.seeds,
        findings,
        unreproduced: state.unreproduced,
        halted: state.halted.clone(),
        mutations: state.mutations.clone(),
    })
}

impl Shared {
    fn progress(&self) -> Progress {
        let state = lock(&self.state);
        Progress {
            executions: self.done.load(Ordering::SeqCst),
            elapsed: self.started.elapsed(),
            distinct_responses: state.features.len(),
            corpus: state.corpus.len(),
            findings: state.findings.len(),
        }
    }

    fn out_of_time(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// The next execution's number and input, or `None` when the run is over.
    fn next_input(&self) -> Option<(u64, Program, Vec<&'static str>)> {
        if self.stop.load(Ordering::SeqCst) || self.out_of_time() {
            return None;
        }
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        if self.config.iterations.is_some_and(|limit| n >= limit) {
            return None;
        }
        let state = lock(&self.state);
        // Every seed once as it is, then mutants of corpus entries.
        if (n as usize) < self.seeds {
            return Some((n, state.corpus[n as usize].clone(), Vec::new()));
        }
        let mut rng = Rng::new(self.config.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let parent = &state.corpus[rng.below(state.corpus.len())];
        let donor = &state.corpus[rng.below(state.corpus.len())];
        let (child, applied) = mutate::mutate(parent, donor, &mut rng);
        Some((n, child, applied))
    }

    /// Runs `program` as execution `n` (its own token).
    async fn execute(&self, n: u64, program: &Program) -> Execution {
        self.execute_with(n, program, &self.config.exec).await
    }

    /// Re-runs a finding's input (minimizing, confirming): the end of it is read longer,
    /// so a late answer from a loaded broker still counts.
    async fn execute_again(&self, program: &Program) -> Execution {
        let patient = ExecOptions {
            end_quiet: self.config.exec.end_quiet * 5,
            end_max: self.config.exec.end_max * 4,
            ..self.config.exec.clone()
        };
        self.execute_with(self.fresh(), program, &patient).await
    }

    async fn execute_with(&self, n: u64, program: &Program, opts: &ExecOptions) -> Execution {
        let token = token(self.run, n);
        let instance = program.instantiate(&token);
        let alive_id = format!("{}al", String::from_utf8_lossy(&token));
        let bound = Duration::from_secs(30) + opts.hang_timeout * 2;
        match tokio::time::timeout(bound, execute(&instance, &alive_id, opts)).await {
            Ok(e) => e,
            Err(_) => Execution {
                down: Some(Down::Hang(format!(
                    "end of an execution within {} s",
                    bound.as_secs()
                ))),
                ..Execution::default()
            },
        }
    }

    /// Runs `program` beside the other executions (not while a crash is being pinned).
    async fn execute_gated(&self, program: &Program) -> Execution {
        let _shared_gate = self.gate.read().await;
        self.execute_again(program).await
    }

    /// A finding of this run: `exec` is the last run of `program` that showed it.
    fn finding(
        &self,
        kind: Kind,
        program: Program,
        exec: &Execution,
        broker_said: Option<String>,
        shrunk: minimize::Shrunk,
        execution: u64,
    ) -> Finding {
        Finding {
            kind,
            performed: if exec.performed.is_empty() {
                vec![true; program.steps.len()]
            } else {
                exec.performed.clone()
            },
            observed: exec.transcript.clone(),
            program,
            broker_said,
            shrunk,
            execution,
            seed: self.config.seed,
            target: self.config.target.clone(),
            found_at: rfc3339_now(),
            hang_timeout_ms: self.config.exec.hang_timeout.as_millis() as u64,
            confirmed: true,
        }
    }

    /// Counts restarts of a supervised broker (0 without one).
    fn generation(&self) -> u64 {
        self.config
            .supervisor
            .as_ref()
            .map_or(0, |s| s.generation())
    }

    /// A number no execution of the run uses, for re-runs (minimizing, confirming).
    fn fresh(&self) -> u64 {
        // Tokens repeat after 36^6 numbers: re-runs take the upper half, executions the
        // lower (a run would need a billion executions to reach it).
        36u64.pow(6) / 2 + self.reruns.fetch_add(1, Ordering::SeqCst)
    }
}

async fn worker(shared: &Shared) {
    while let Some((n, program, applied)) = shared.next_input() {
        let (exec, generation) = {
            let _shared_gate = shared.gate.read().await;
            let generation = shared.generation();
            (shared.execute(n, &program).await, generation)
        };
        shared.done.fetch_add(1, Ordering::SeqCst);
        {
            let mut state = lock(&shared.state);
            state.recent.push_back(program.clone());
            while state.recent.len() > 2 * shared.config.jobs + 2 {
                state.recent.pop_front();
            }
        }
        if let Some(down) = exec.down {
            pin_down(shared, program, down, generation).await;
            continue;
        }
        for seen in &exec.violations {
            let version = Version::of(seen.violation.version);
            let signature = signature(&seen.violation);
            // The first sighting is pinned; later ones count as repeats.
            let first = {
                let mut state = lock(&shared.state);
                match state.signatures.get(&signature) {
                    Some(&i) => {
                        state.findings[i].repeats += 1;
                        None
                    }
                    None => {
                        let i = state.findings.len();
                        state.signatures.insert(signature, i);
                        state.findings.push(FindingSummary {
                            id: String::new(),
                            rule: seen.violation.rule.to_owned(),
                            statement: seen.violation.statement.map(str::to_owned),
                            description: seen.violation.to_string(),
                            version,
                            path: None,
                            repeats: 0,
                            unconfirmed: true,
                        });
                        Some(i)
                    }
                }
            };
            if let Some(index) = first {
                let kind = Kind::Violation {
                    client: seen.client.clone(),
                    violation: seen.violation.clone(),
                };
                pin_violation(shared, n, &program, kind, index).await;
            }
        }
        let mut state = lock(&shared.state);
        let before = state.features.len();
        state.features.extend(exec.features.iter().copied());
        let new = state.features.len() > before;
        for name in &applied {
            let entry = state.mutations.entry(name).or_default();
            entry.0 += 1;
            entry.1 += u64::from(new);
        }
        if new
            && (n as usize) >= shared.seeds
            && state.corpus.len() < CORPUS_LIMIT
            && state.corpus_bytes + program.size() <= CORPUS_BYTES
        {
            state.corpus_bytes += program.size();
            state.corpus.push(program);
        }
    }
}

/// What makes two violations the same finding: version, rule and statement, and for a
/// malformed packet what is wrong with it (offsets and values aside).
fn signature(v: &crate::engine::oracle::Violation) -> String {
    let what: String = match v.rule {
        "malformed" => v.message.chars().filter(|c| !c.is_ascii_digit()).collect(),
        _ => String::new(),
    };
    format!(
        "{}|{}|{}|{what}",
        Version::of(v.version),
        v.rule,
        v.statement.unwrap_or("")
    )
}

/// Does `exec` show the same violation (see [`signature`])?
fn shows(exec: &Execution, kind: &Kind) -> Option<Kind> {
    let Kind::Violation { violation, .. } = kind else {
        return None;
    };
    let wanted = signature(violation);
    exec.violations
        .iter()
        .find(|s| signature(&s.violation) == wanted)
        .map(|s| Kind::Violation {
            client: s.client.clone(),
            violation: s.violation.clone(),
        })
}

/// Minimizes a violation's program, confirms it, writes its scenario.
async fn pin_violation(shared: &Shared, n: u64, program: &Program, kind: Kind, index: usize) {
    let budget = shared.config.minimize_budget;
    let wanted = &kind;
    let (small, shrunk) = minimize::minimize(program.clone(), budget, |p: Program| {
        Box::pin(async move {
            let exec = shared.execute_gated(&p).await;
            shows(&exec, wanted).is_some()
        })
    })
    .await;
    // Confirm twice: a finding replays.
    let mut last = None;
    for _ in 0..2 {
        let exec = shared.execute_gated(&small).await;
        match shows(&exec, &kind) {
            Some(k) => last = Some((k, exec)),
            None => {
                last = None;
                break;
            }
        }
    }
    let (program, kind, exec, confirmed) = match last {
        Some((k, exec)) => (small, k, exec, true),
        // Not reproducible once minimized: keep the original input, marked unconfirmed.
        None => {
            let exec = shared.execute_gated(program).await;
            (program.clone(), kind, exec, false)
        }
    };
    let shrunk = if confirmed {
        shrunk
    } else {
        minimize::Shrunk {
            steps_after: shrunk.steps_before,
            bytes_after: shrunk.bytes_before,
            ..shrunk
        }
    };
    let finding = shared.finding(kind, program, &exec, None, shrunk, n);
    record(shared, index, &finding, !confirmed);
}

fn record(shared: &Shared, index: usize, finding: &Finding, unconfirmed: bool) {
    let finding = &Finding {
        confirmed: !unconfirmed,
        ..finding.clone()
    };
    let path = finding.write(&shared.config.out_dir);
    let mut state = lock(&shared.state);
    let written = state.findings.iter().filter(|f| f.path.is_some()).count() + 1;
    if shared.config.max_findings.is_some_and(|max| written >= max) {
        shared.stop.store(true, Ordering::SeqCst);
    }
    let f = &mut state.findings[index];
    f.id = finding.id();
    f.description = finding.kind.describe();
    f.unconfirmed = unconfirmed;
    match path {
        Ok(p) => f.path = Some(p),
        Err(e) => f.description = format!("{} (cannot write it: {e})", f.description),
    }
}

/// The broker stopped serving: find which input did it, minimize it, write it.
/// `generation` is the broker's when the execution that saw it started: an execution that
/// ran across a crash already handled has nothing new to say.
async fn pin_down(shared: &Shared, program: Program, down: Down, generation: u64) {
    // Alone: every other execution finishes first and waits.
    let _alone = shared.gate.write().await;
    if shared.stop.load(Ordering::SeqCst) || shared.generation() != generation {
        return;
    }
    let exited = shared.config.supervisor.as_ref().and_then(|b| b.crashed());
    // It may have been a moment's stall: look again before calling it a finding.
    if exited.is_none() && alive(shared).await.is_ok() {
        lock(&shared.state).unreproduced += 1;
        return;
    }
    let Some(broker) = shared.config.supervisor.clone() else {
        halt_unpinned(shared, program, down);
        return;
    };
    // One finding per kind of going down and exit status (a broker that crashes on many
    // inputs is pinned once; the others are counted).
    let signature = format!(
        "down|{}|{}",
        down.kind(),
        exited
            .as_deref()
            .and_then(|e| e.lines().next())
            .unwrap_or("")
    );
    let seen_before = {
        let mut state = lock(&shared.state);
        let known = state.signatures.get(&signature).copied();
        if let Some(i) = known {
            state.findings[i].repeats += 1;
        }
        known.is_some()
    };
    if seen_before {
        bring_up(shared, &broker).await;
        return;
    }
    // The candidates: the input that saw it, then the latest ones, newest first.
    let mut candidates = vec![program];
    candidates.extend(lock(&shared.state).recent.iter().rev().cloned());
    candidates.dedup();
    let mut culprit = None;
    for candidate in candidates.into_iter().take(4 * shared.config.jobs + 4) {
        if !bring_up(shared, &broker).await {
            return;
        }
        let exec = shared.execute_again(&candidate).await;
        if let Some(d) = exec.down
            && d.kind() == down.kind()
        {
            culprit = Some(candidate);
            break;
        }
    }
    let Some(culprit) = culprit else {
        lock(&shared.state).unreproduced += 1;
        bring_up(shared, &broker).await;
        return;
    };
    let index = new_finding(shared, &culprit, &down);
    lock(&shared.state).signatures.insert(signature, index);
    let kind = down.kind();
    let budget = shared.config.minimize_budget_down;
    let supervised = &broker;
    let (small, shrunk) = minimize::minimize(culprit.clone(), budget, |p: Program| {
        Box::pin(async move {
            if !bring_up(shared, supervised).await {
                return false;
            }
            let exec = shared.execute_again(&p).await;
            exec.down.is_some_and(|d| d.kind() == kind)
        })
    })
    .await;
    // Confirm on a fresh broker, and keep what it said.
    let mut confirmed = None;
    for p in [&small, &culprit] {
        if !bring_up(shared, &broker).await {
            break;
        }
        let exec = shared.execute_again(p).await;
        if let Some(d) = exec.down.clone()
            && d.kind() == kind
        {
            // A crash shows in the exit status a moment later.
            let mut said = broker.crashed();
            for _ in 0..20 {
                if said.is_some() || d.kind() != "crash" {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                said = broker.crashed();
            }
            confirmed = Some((p.clone(), d, exec, said));
            break;
        }
    }
    let unconfirmed = confirmed.is_none();
    let (program, down, exec, said) =
        confirmed.unwrap_or_else(|| (culprit.clone(), down.clone(), Execution::default(), None));
    let execution = shared.done.load(Ordering::SeqCst);
    let finding = shared.finding(Kind::Down(down), program, &exec, said, shrunk, execution);
    record(shared, index, &finding, unconfirmed);
    bring_up(shared, &broker).await;
}

/// A broker the run cannot restart went down: write the input that saw it, unpinned and
/// unminimized, and end the run.
fn halt_unpinned(shared: &Shared, program: Program, down: Down) {
    let index = new_finding(shared, &program, &down);
    let said = "not pinned or minimized: the run cannot restart a broker given by --broker (use --spawn or --image); this is the input that saw it go down, among those running at the time";
    let finding = shared.finding(
        Kind::Down(down.clone()),
        program,
        &Execution::default(),
        Some(said.into()),
        minimize::Shrunk::default(),
        shared.done.load(Ordering::SeqCst),
    );
    record(shared, index, &finding, true);
    lock(&shared.state).halted = Some(format!("the broker went down: {down}"));
    shared.stop.store(true, Ordering::SeqCst);
}

fn new_finding(shared: &Shared, program: &Program, down: &Down) -> usize {
    let mut state = lock(&shared.state);
    state.findings.push(FindingSummary {
        id: String::new(),
        rule: down.kind().to_owned(),
        statement: None,
        description: down.to_string(),
        version: program.version,
        path: None,
        repeats: 0,
        unconfirmed: true,
    });
    state.findings.len() - 1
}

async fn alive(shared: &Shared) -> Result<(), Down> {
    let probe = AliveProbe {
        address: &shared.config.exec.address,
        version: shared.config.versions[0].protocol(),
        client_id: format!("mqttspecfz{:x}", shared.fresh() & 0xFFFF_FFFF),
        username: shared.config.exec.username.clone(),
        password: shared.config.exec.password.clone(),
        within: shared.config.exec.hang_timeout,
    };
    check_alive(&probe, &Transcript::new()).await
}

/// Makes sure the supervised broker serves: restarts it after a crash, kills and restarts
/// it when it hangs. `false` (and the run halts) if it cannot be brought back.
async fn bring_up(shared: &Shared, broker: &Arc<dyn Supervised>) -> bool {
    if broker.crashed().is_none() && alive(shared).await.is_ok() {
        return true;
    }
    let broker = broker.clone();
    let restarted = tokio::task::spawn_blocking(move || {
        if broker.crashed().is_none() {
            broker.kill();
        }
        broker.restart()
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    match restarted {
        Ok(()) => true,
        Err(e) => {
            lock(&shared.state).halted = Some(format!("the broker could not be restarted: {e}"));
            shared.stop.store(true, Ordering::SeqCst);
            false
        }
    }
}
