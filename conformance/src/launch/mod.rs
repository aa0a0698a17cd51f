//! Brokers the run starts itself. `--spawn 'CMD … {port}'` ([`Spawned`]): a child process
//! on a free loopback port, its output kept (bounded), readiness checked with a real
//! CONNECT/CONNACK, watched for crashes during the run, restarted on request, and stopped at
//! the end (SIGTERM, then SIGKILL after a grace period). `--image` ([`container`], cargo
//! feature `containers`): the same for a container started through testcontainers.
//! [`Launched`] is either, for the commands that take both.

#[cfg(feature = "containers")]
pub mod container;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mqttspec_codec::{Connect, MqttString, Packet, Properties, ProtocolVersion};

use crate::engine::Supervised;

/// Bytes of the broker's output kept for the report (the last ones).
pub const LOG_LIMIT: usize = 64 * 1024;
/// Bytes of standard error kept for crash messages.
const STDERR_LIMIT: usize = 8 * 1024;
/// Lines of standard error quoted in a crash message.
const STDERR_LINES: usize = 10;
/// Between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// What to start: the command as typed, with `{port}` and `{config}` placeholders.
#[derive(Clone, Debug)]
pub struct SpawnSpec {
    pub command: String,
    /// A file whose text, with `{port}` replaced, is written to a temporary file whose path
    /// replaces `{config}` in the command.
    pub config_template: Option<PathBuf>,
    /// Bound on becoming ready (answering CONNECT with CONNACK).
    pub ready_timeout: Duration,
}

/// Why a broker could not be started.
#[derive(Debug)]
pub enum LaunchError {
    /// The command line or the template is wrong: a usage error (exit 2).
    Usage(String),
    /// It did not start, exited early, or never answered CONNECT (exit 3).
    NotReady(String),
}

impl std::fmt::Display for LaunchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LaunchError::Usage(m) | LaunchError::NotReady(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for LaunchError {}

/// Splits a command line into words like a POSIX shell does for quoting: whitespace
/// separates, `'…'` is literal, `"…"` allows `\"`, `\\`, `\$` and `` \` `` escapes, and a
/// backslash outside quotes escapes the next character. No expansion of any kind.
pub fn shell_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("unterminated ' quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("unterminated \" quote".into()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("unterminated \" quote".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') => {}
                    Some(c) => word.push(c),
                    None => return Err("trailing backslash".into()),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Quotes a word for [`shell_words`] (only when needed).
pub fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@{}+".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The broker's output: everything (bounded), and standard error alone (bounded).
#[derive(Default)]
pub(crate) struct Output {
    all: VecDeque<u8>,
    stderr: VecDeque<u8>,
}

fn push_bounded(buf: &mut VecDeque<u8>, bytes: &[u8], limit: usize) {
    buf.extend(bytes);
    if buf.len() > limit {
        let excess = buf.len() - limit;
        buf.drain(..excess);
    }
}

impl Output {
    /// A line of ours (restarts, exits) among the broker's.
    pub(crate) fn note(&mut self, line: &str) {
        push_bounded(&mut self.all, line.as_bytes(), LOG_LIMIT);
        push_bounded(&mut self.all, b"\n", LOG_LIMIT);
    }

    /// A line of the broker's output.
    pub(crate) fn push(&mut self, line: &[u8], is_stderr: bool) {
        // A line longer than the limit keeps only its end.
        let keep = &line[line.len().saturating_sub(LOG_LIMIT)..];
        push_bounded(&mut self.all, keep, LOG_LIMIT);
        if is_stderr {
            push_bounded(&mut self.stderr, keep, STDERR_LIMIT);
        }
    }

    /// The last [`LOG_LIMIT`] bytes of all output.
    pub(crate) fn log(&self) -> String {
        let (a, b) = self.all.as_slices();
        String::from_utf8_lossy(&[a, b].concat()).into_owned()
    }

    /// The last lines of standard error, for messages.
    pub(crate) fn stderr_tail(&self) -> String {
        let (a, b) = self.stderr.as_slices();
        let text = String::from_utf8_lossy(&[a, b].concat()).into_owned();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(STDERR_LINES)..].join("\n")
    }
}

/// Locks, even after a panic elsewhere (the data is plain bytes and flags).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn collect(mut from: impl Read, output: Arc<Mutex<Output>>, is_stderr: bool) {
    let mut reader = BufReader::new(&mut from);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => lock(&output).push(&line, is_stderr),
        }
    }
}

struct Running {
    child: Child,
    /// The threads reading its output (they end when it exits).
    readers: Vec<std::thread::JoinHandle<()>>,
    /// Set once the child has exited (and been reaped).
    exit: Option<ExitStatus>,
    /// Set when we stopped it ourselves.
    stopped: bool,
}

/// A broker started by the run. Dropping it stops the broker.
pub struct Spawned {
    argv: Vec<String>,
    port: u16,
    ready_timeout: Duration,
    running: Mutex<Running>,
    output: Arc<Mutex<Output>>,
    generation: AtomicU64,
    last_crash: Mutex<Option<String>>,
    config_dir: Option<PathBuf>,
}

impl std::fmt::Debug for Spawned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spawned")
            .field("argv", &self.argv)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Spawned {
    /// Starts the broker on a free loopback port and waits until it answers CONNECT.
    pub fn start(spec: &SpawnSpec) -> Result<Spawned, LaunchError> {
        let words =
            shell_words(&spec.command).map_err(|e| LaunchError::Usage(format!("--spawn: {e}")))?;
        if words.is_empty() {
            return Err(LaunchError::Usage("--spawn: empty command".into()));
        }
        let wants_config = words.iter().any(|w| w.contains("{config}"));
        if wants_config && spec.config_template.is_none() {
            return Err(LaunchError::Usage(
                "--spawn uses {config}: give --config-template FILE".into(),
            ));
        }
        let port = free_port()
            .map_err(|e| LaunchError::NotReady(format!("no free loopback port: {e}")))?;
        let mut config_dir = None;
        let mut config_path = None;
        if let Some(template) = &spec.config_template {
            let (dir, path) = write_config(template, port)?;
            config_dir = Some(dir);
            config_path = Some(path);
        }
        let argv: Vec<String> = words
            .iter()
            .map(|w| {
                let w = w.replace("{port}", &port.to_string());
                match &config_path {
                    Some(p) => w.replace("{config}", &p.display().to_string()),
                    None => w,
                }
            })
            .collect();
        let output = Arc::new(Mutex::new(Output::default()));
        let child = spawn_child(&argv, &output).map_err(|e| {
            if let Some(d) = &config_dir {
                let _ = std::fs::remove_dir_all(d);
            }
            LaunchError::NotReady(format!("cannot start `{}`: {e}", argv[0]))
        })?;
        let spawned = Spawned {
            argv,
            port,
            ready_timeout: spec.ready_timeout,
            running: Mutex::new(Running {
                child: child.0,
                readers: child.1,
                exit: None,
                stopped: false,
            }),
            output,
            generation: AtomicU64::new(1),
            last_crash: Mutex::new(None),
            config_dir,
        };
        spawned
            .wait_ready()
            .map_err(LaunchError::NotReady)
            .map(|()| spawned)
    }

    /// `host:port` it listens on.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The command line run, placeholders replaced.
    pub fn command_line(&self) -> String {
        self.argv
            .iter()
            .map(|w| quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// For the report's `launcher`.
    pub fn launcher(&self) -> String {
        format!("spawn: {}", self.command_line())
    }

    /// The process id of the current child.
    pub fn pid(&self) -> u32 {
        self.lock().child.id()
    }

    /// The last [`LOG_LIMIT`] bytes of its output.
    pub fn log(&self) -> String {
        lock(&self.output).log()
    }

    /// The last lines of its standard error, for messages.
    pub fn stderr_tail(&self) -> String {
        lock(&self.output).stderr_tail()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Running> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Its exit status, if it has exited (reaps it).
    pub fn exit_status(&self) -> Option<ExitStatus> {
        let mut r = self.lock();
        if r.exit.is_none()
            && let Ok(Some(status)) = r.child.try_wait()
        {
            r.exit = Some(status);
            // Let the readers take in its last words (bounded: a grandchild may hold the
            // pipes open).
            let until = Instant::now() + Duration::from_millis(500);
            while r.readers.iter().any(|h| !h.is_finished()) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
            drop(r);
            self.output
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .note(&format!("--- mqttspec: the broker exited: {status} ---"));
            return Some(status);
        }
        r.exit
    }

    fn describe_exit(&self, status: ExitStatus) -> String {
        describe_exit(
            &format!("the broker exited ({status})"),
            &self.stderr_tail(),
        )
    }

    /// Polls until the broker answers a CONNECT with a CONNACK, or exits, or the bound.
    fn wait_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + self.ready_timeout;
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        loop {
            if let Some(status) = self.exit_status() {
                return Err(format!(
                    "`{}` exited before it was ready: {}",
                    self.command_line(),
                    self.describe_exit(status)
                ));
            }
            let last = match connack_from(addr) {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            if Instant::now() >= deadline {
                let tail = self.stderr_tail();
                self.stop();
                return Err(format!(
                    "`{}` did not answer CONNECT on {addr} within {:?} ({last}); \
                     last standard error lines:\n{tail}",
                    self.command_line(),
                    self.ready_timeout
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops it: SIGTERM, then SIGKILL after a grace period; waits for it to exit.
    pub fn stop(&self) {
        let mut r = self.lock();
        if r.stopped {
            return;
        }
        r.stopped = true;
        if r.exit.is_none() {
            let pid = r.child.id().to_string();
            let termed = Command::new("kill")
                .args(["-TERM", &pid])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            let deadline = Instant::now() + if termed { STOP_GRACE } else { Duration::ZERO };
            let status = loop {
                match r.child.try_wait() {
                    Ok(Some(status)) => break Some(status),
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    _ => {
                        let _ = r.child.kill();
                        break r.child.wait().ok();
                    }
                }
            };
            r.exit = status;
            drop(r);
            if let Some(status) = status {
                self.output
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .note(&format!("--- mqttspec: stopped the broker: {status} ---"));
            }
        }
    }
}

impl Supervised for Spawned {
    fn crashed(&self) -> Option<String> {
        let status = self.exit_status()?;
        if self.lock().stopped {
            return None;
        }
        let why = self.describe_exit(status);
        *self.last_crash.lock().unwrap_or_else(|p| p.into_inner()) = Some(why.clone());
        Some(why)
    }

    fn last_crash(&self) -> Option<String> {
        self.last_crash
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn restart(&self) -> Result<(), String> {
        {
            let mut r = self.lock();
            if r.exit.is_none() {
                return Ok(());
            }
            self.output
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .note("--- mqttspec: restarting the broker (--restart-on-crash) ---");
            (r.child, r.readers) = spawn_child(&self.argv, &self.output)
                .map_err(|e| format!("cannot start `{}` again: {e}", self.argv[0]))?;
            r.exit = None;
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.wait_ready()
    }

    fn kill(&self) {
        let mut r = self.lock();
        if r.exit.is_some() || r.stopped {
            return;
        }
        let _ = r.child.kill();
        r.exit = r.child.wait().ok();
        drop(r);
        self.output
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .note("--- mqttspec: killed the broker (it hung) ---");
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.stop();
        if let Some(d) = &self.config_dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// How a launched broker ended, with the last lines it wrote on standard error.
fn describe_exit(ended: &str, stderr_tail: &str) -> String {
    if stderr_tail.trim().is_empty() {
        format!("{ended}; it wrote nothing on standard error")
    } else {
        format!("{ended}; last standard error lines:\n{stderr_tail}")
    }
}

/// The broker the run started: a process (`--spawn`) or a container (`--image`).
#[derive(Debug)]
pub enum Launched {
    Process(Spawned),
    #[cfg(feature = "containers")]
    Container(container::Container),
}

impl Launched {
    /// `host:port` it listens on.
    pub fn address(&self) -> String {
        match self {
            Launched::Process(p) => p.address(),
            #[cfg(feature = "containers")]
            Launched::Container(c) => c.address(),
        }
    }

    /// For the report's `launcher`.
    pub fn launcher(&self) -> String {
        match self {
            Launched::Process(p) => p.launcher(),
            #[cfg(feature = "containers")]
            Launched::Container(c) => c.launcher(),
        }
    }

    /// One line for the terminal: what was started, where.
    pub fn started(&self) -> String {
        match self {
            Launched::Process(p) => format!(
                "spawned `{}` (pid {}) on {}",
                p.command_line(),
                p.pid(),
                p.address()
            ),
            #[cfg(feature = "containers")]
            Launched::Container(c) => format!("started {} on {}", c.launcher(), c.address()),
        }
    }

    /// The last bytes of its output.
    pub fn log(&self) -> String {
        match self {
            Launched::Process(p) => p.log(),
            #[cfg(feature = "containers")]
            Launched::Container(c) => c.log(),
        }
    }

    /// The last lines of its standard error.
    pub fn stderr_tail(&self) -> String {
        match self {
            Launched::Process(p) => p.stderr_tail(),
            #[cfg(feature = "containers")]
            Launched::Container(c) => c.stderr_tail(),
        }
    }

    /// Stops it (a container is removed too).
    pub fn stop(&self) {
        match self {
            Launched::Process(p) => p.stop(),
            #[cfg(feature = "containers")]
            Launched::Container(c) => c.stop(),
        }
    }

    fn supervised(&self) -> &dyn Supervised {
        match self {
            Launched::Process(p) => p,
            #[cfg(feature = "containers")]
            Launched::Container(c) => c,
        }
    }
}

impl Supervised for Launched {
    fn crashed(&self) -> Option<String> {
        self.supervised().crashed()
    }

    fn last_crash(&self) -> Option<String> {
        self.supervised().last_crash()
    }

    fn generation(&self) -> u64 {
        self.supervised().generation()
    }

    fn restart(&self) -> Result<(), String> {
        self.supervised().restart()
    }

    fn kill(&self) {
        self.supervised().kill()
    }
}

type Started = (Child, Vec<std::thread::JoinHandle<()>>);

fn spawn_child(argv: &[String], output: &Arc<Mutex<Output>>) -> std::io::Result<Started> {
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        let output = output.clone();
        readers.push(std::thread::spawn(move || collect(out, output, false)));
    }
    if let Some(err) = child.stderr.take() {
        let output = output.clone();
        readers.push(std::thread::spawn(move || collect(err, output, true)));
    }
    Ok((child, readers))
}

/// Writes the template, `{port}` replaced, into a fresh temporary directory.
fn write_config(template: &Path, port: u16) -> Result<(PathBuf, PathBuf), LaunchError> {
    let text = std::fs::read_to_string(template).map_err(|e| {
        LaunchError::Usage(format!("--config-template {}: {e}", template.display()))
    })?;
    let dir = std::env::temp_dir().join(format!("mqttspec-spawn-{}-{port}", std::process::id()));
    let name = template
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "broker.conf".into());
    let name = name
        .strip_suffix(".template")
        .filter(|n| !n.is_empty())
        .unwrap_or(&name)
        .to_owned();
    let path = dir.join(name);
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&path, text.replace("{port}", &port.to_string())))
        .map_err(|e| LaunchError::NotReady(format!("cannot write {}: {e}", path.display())))?;
    Ok((dir, path))
}

/// One readiness attempt: CONNECT (3.1.1) and any CONNACK back, refusals included.
pub(crate) fn connack_from(addr: SocketAddr) -> Result<(), String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500))
        .map_err(|e| format!("connect: {e}"))?;
    let _ = s.set_read_timeout(Some(Duration::from_millis(1000)));
    let _ = s.set_write_timeout(Some(Duration::from_millis(1000)));
    let connect = Packet::Connect(Connect {
        protocol: ProtocolVersion::V3_1_1,
        clean_start: true,
        keep_alive: 10,
        properties: Properties::new(),
        client_id: MqttString::from("mqttspec-ready"),
        will: None,
        username: None,
        password: None,
    });
    let bytes = connect
        .to_bytes(ProtocolVersion::V3_1_1)
        .map_err(|e| e.to_string())?;
    s.write_all(&bytes).map_err(|e| format!("write: {e}"))?;
    let mut head = [0u8; 4];
    s.read_exact(&mut head)
        .map_err(|e| format!("no CONNACK: {e}"))?;
    if head[0] != 0x20 {
        return Err(format!("answered CONNECT with {:02x}", head[0]));
    }
    // A 3.1.1 DISCONNECT, so the broker logs a clean goodbye.
    let _ = s.write_all(&[0xE0, 0x00]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_split_like_sh() {
        assert_eq!(
            shell_words("mosquitto -c {config}").unwrap(),
            ["mosquitto", "-c", "{config}"]
        );
        assert_eq!(
            shell_words(r#"a 'b c' "d \"e\" $f" g\ h ''"#).unwrap(),
            ["a", "b c", "d \"e\" $f", "g h", ""]
        );
        assert_eq!(shell_words("  x\t y  ").unwrap(), ["x", "y"]);
        assert!(shell_words("'open").is_err());
        assert!(shell_words("\"open").is_err());
        assert!(shell_words("x\\").is_err());
    }

    #[test]
    fn output_is_bounded() {
        let mut buf = VecDeque::new();
        push_bounded(&mut buf, &[1; 10], 8);
        push_bounded(&mut buf, &[2; 4], 8);
        assert_eq!(buf.len(), 8);
        assert_eq!(buf.iter().filter(|&&b| b == 2).count(), 4);
    }

    #[test]
    fn placeholder_without_template_is_a_usage_error() {
        let spec = SpawnSpec {
            command: "true -c {config}".into(),
            config_template: None,
            ready_timeout: Duration::from_secs(1),
        };
        assert!(matches!(Spawned::start(&spec), Err(LaunchError::Usage(_))));
    }

    #[test]
    fn early_exit_is_not_ready() {
        let spec = SpawnSpec {
            command: "sh -c 'echo broken config >&2; exit 3'".into(),
            config_template: None,
            ready_timeout: Duration::from_secs(5),
        };
        match Spawned::start(&spec) {
            Err(LaunchError::NotReady(m)) => {
                assert!(m.contains("broken config"), "{m}");
                assert!(m.contains("exit status: 3"), "{m}");
            }
            other => panic!("{other:?}"),
        }
    }
}
