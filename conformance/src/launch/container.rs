//! `--image IMAGE[:TAG]`: the broker under test in a container, started with testcontainers.
//!
//! The image must be in the local Docker engine already (testcontainers pulls only a missing
//! image, and these machines reach no registry). The broker's port is published on a free
//! port of 127.0.0.1 only: testcontainers would bind every interface, so a host-config
//! modifier pins the address. Readiness is a real CONNECT answered by CONNACK, as for
//! `--spawn`; the container's stdout and stderr are followed into the report (bounded); its
//! exit during the run is a crash; it is stopped and removed at the end.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use testcontainers::bollard::models::HostConfig;
use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};
use tokio::io::AsyncBufReadExt;

use super::{LaunchError, Output, connack_from, free_port, lock, shell_words};
use crate::engine::Supervised;

/// Seconds the container gets between SIGTERM and SIGKILL when stopped.
const STOP_GRACE_SECS: i32 = 5;

/// What to run.
#[derive(Clone, Debug)]
pub struct ImageSpec {
    /// `name[:tag]` (tag `latest` if none).
    pub image: String,
    /// The port the broker listens on inside the container.
    pub container_port: u16,
    /// `K=V` environment entries.
    pub env: Vec<String>,
    /// A command line replacing the image's own (split like sh).
    pub cmd: Option<String>,
    /// Bound on starting and becoming ready.
    pub ready_timeout: Duration,
}

#[derive(Default)]
struct State {
    /// The exit code, once the container has stopped.
    exit: Option<i64>,
    /// Set when we stop it ourselves (not a crash).
    stopped: bool,
}

/// A running container. Dropping it stops and removes the container.
pub struct Container {
    image: String,
    port: u16,
    ready_timeout: Duration,
    runtime: Option<tokio::runtime::Runtime>,
    container: Mutex<Option<Arc<ContainerAsync<GenericImage>>>>,
    id: String,
    state: Arc<Mutex<State>>,
    output: Arc<Mutex<Output>>,
    generation: AtomicU64,
    last_crash: Mutex<Option<String>>,
}

impl std::fmt::Debug for Container {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Container")
            .field("image", &self.image)
            .field("id", &self.id)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// `name[:tag]`: the tag is after the last `:` that follows the last `/` (a registry host
/// may carry a port).
fn split_image(image: &str) -> (&str, &str) {
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    match image[name_start..].rfind(':') {
        Some(i) => (&image[..name_start + i], &image[name_start + i + 1..]),
        None => (image, "latest"),
    }
}

impl Container {
    /// Starts the container, publishes its port on 127.0.0.1 and waits until the broker
    /// answers CONNECT.
    pub fn start(spec: &ImageSpec) -> Result<Container, LaunchError> {
        let (name, tag) = split_image(&spec.image);
        if name.is_empty() || tag.is_empty() {
            return Err(LaunchError::Usage(format!(
                "--image {}: expected NAME[:TAG]",
                spec.image
            )));
        }
        let mut env = Vec::new();
        for entry in &spec.env {
            let (k, v) = entry
                .split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| LaunchError::Usage(format!("--env {entry}: expected K=V")))?;
            env.push((k.to_owned(), v.to_owned()));
        }
        let cmd = match &spec.cmd {
            Some(line) => {
                Some(shell_words(line).map_err(|e| LaunchError::Usage(format!("--cmd: {e}")))?)
            }
            None => None,
        };
        let port = free_port()
            .map_err(|e| LaunchError::NotReady(format!("no free loopback port: {e}")))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| LaunchError::NotReady(format!("cannot start a runtime: {e}")))?;

        let mut request = GenericImage::new(name, tag)
            .with_exposed_port(spec.container_port.tcp())
            .with_wait_for(WaitFor::Nothing)
            .with_mapped_port(port, spec.container_port.tcp())
            .with_host_config_modifier(host_config)
            .with_startup_timeout(spec.ready_timeout);
        for (k, v) in env {
            request = request.with_env_var(k, v);
        }
        if let Some(cmd) = cmd {
            request = request.with_cmd(cmd);
        }
        let started = block(&runtime, request.start()).map_err(|e| {
            LaunchError::NotReady(format!(
                "cannot start a container from `{}` (is a Docker engine reachable, and is the \
                 image in it? no registry is used): {e}",
                spec.image
            ))
        })?;
        let container = Container {
            image: spec.image.clone(),
            port,
            ready_timeout: spec.ready_timeout,
            id: started.id().to_owned(),
            container: Mutex::new(Some(Arc::new(started))),
            runtime: Some(runtime),
            state: Arc::default(),
            output: Arc::default(),
            generation: AtomicU64::new(1),
            last_crash: Mutex::new(None),
        };
        container.watch();
        container
            .wait_ready()
            .map_err(LaunchError::NotReady)
            .map(|()| container)
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime
            .as_ref()
            .expect("the runtime lives as long as the container")
    }

    fn current(&self) -> Option<Arc<ContainerAsync<GenericImage>>> {
        lock(&self.container).clone()
    }

    /// Follows stdout and stderr into the output until the container stops, then records
    /// its exit code.
    fn watch(&self) {
        let Some(c) = self.current() else {
            return;
        };
        let (output, state) = (self.output.clone(), self.state.clone());
        self.runtime().spawn(async move {
            let follow = |is_stderr: bool| {
                let output = output.clone();
                let mut reader = if is_stderr {
                    c.stderr(true)
                } else {
                    c.stdout(true)
                };
                async move {
                    let mut line = Vec::new();
                    loop {
                        line.clear();
                        match reader.read_until(b'\n', &mut line).await {
                            Ok(0) | Err(_) => return,
                            Ok(_) => lock(&output).push(&line, is_stderr),
                        }
                    }
                }
            };
            tokio::join!(follow(false), follow(true));
            // The log streams end when the container stops (or when they fail: then poll).
            let code = loop {
                match c.exit_code().await {
                    Ok(Some(code)) => break code,
                    Ok(None) => tokio::time::sleep(Duration::from_millis(200)).await,
                    // Gone altogether (removed by someone else): a crash as far as we know.
                    Err(_) => break -1,
                }
            };
            let mut s = lock(&state);
            if !s.stopped {
                lock(&output).note(&format!(
                    "--- mqttspec: the container exited: code {code} ---"
                ));
            }
            s.exit = Some(code);
        });
    }

    /// `host:port` the broker is published on.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The container's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// For the report's `launcher`.
    pub fn launcher(&self) -> String {
        format!("image: {} (container {})", self.image, short(&self.id))
    }

    /// The last bytes of its output.
    pub fn log(&self) -> String {
        lock(&self.output).log()
    }

    /// The last lines of its standard error.
    pub fn stderr_tail(&self) -> String {
        lock(&self.output).stderr_tail()
    }

    fn exited(&self) -> Option<i64> {
        lock(&self.state).exit
    }

    fn describe_exit(&self, code: i64) -> String {
        super::describe_exit(
            &format!("the container exited (code {code})"),
            &self.stderr_tail(),
        )
    }

    /// Polls until the broker answers CONNECT with CONNACK, or the container exits, or the
    /// bound.
    fn wait_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + self.ready_timeout;
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        loop {
            if let Some(code) = self.exited() {
                let why = self.describe_exit(code);
                self.stop();
                return Err(format!(
                    "`{}` exited before it was ready: {why}",
                    self.image
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
                    "`{}` did not answer CONNECT on {addr} within {:?} ({last}); last standard \
                     error lines:\n{tail}",
                    self.image, self.ready_timeout
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the container (SIGTERM, SIGKILL after a grace period) and removes it.
    pub fn stop(&self) {
        {
            let mut s = lock(&self.state);
            if s.stopped {
                return;
            }
            s.stopped = true;
        }
        let Some(c) = lock(&self.container).take() else {
            return;
        };
        let output = self.output.clone();
        block(self.runtime(), async move {
            let _ = c.stop_with_timeout(Some(STOP_GRACE_SECS)).await;
            // The watcher holds a reference until the log streams end: wait (bounded).
            let until = Instant::now() + Duration::from_secs(5);
            let mut c = c;
            let owned = loop {
                match Arc::try_unwrap(c) {
                    Ok(owned) => break Some(owned),
                    Err(shared) if Instant::now() < until => {
                        c = shared;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    // Dropping the last reference removes it too.
                    Err(_) => break None,
                }
            };
            if let Some(owned) = owned {
                let _ = owned.rm().await;
            }
            lock(&output).note("--- mqttspec: stopped and removed the container ---");
        });
    }
}

impl Supervised for Container {
    fn crashed(&self) -> Option<String> {
        let s = lock(&self.state);
        let code = s.exit?;
        if s.stopped {
            return None;
        }
        drop(s);
        let why = self.describe_exit(code);
        *lock(&self.last_crash) = Some(why.clone());
        Some(why)
    }

    fn last_crash(&self) -> Option<String> {
        lock(&self.last_crash).clone()
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn restart(&self) -> Result<(), String> {
        if self.exited().is_none() {
            return Ok(());
        }
        let c = self.current().ok_or("the container was removed")?;
        lock(&self.output).note("--- mqttspec: restarting the container (--restart-on-crash) ---");
        block(self.runtime(), async move { c.start().await })
            .map_err(|e| format!("cannot start the container again: {e}"))?;
        lock(&self.state).exit = None;
        self.watch();
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.wait_ready()
    }

    fn kill(&self) {
        if lock(&self.state).stopped || self.exited().is_some() {
            return;
        }
        let Some(c) = self.current() else {
            return;
        };
        lock(&self.output).note("--- mqttspec: killing the container (it hung) ---");
        let _ = block(
            self.runtime(),
            async move { c.stop_with_timeout(Some(0)).await },
        );
        // The watcher records the exit once the log streams end (bounded wait).
        let until = Instant::now() + Duration::from_secs(10);
        while self.exited().is_none() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        self.stop();
        // Never blocks: dropping may happen inside the run's own runtime.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Publishes every mapped port on 127.0.0.1 only, and runs an init process as PID 1 so that
/// the broker gets the stop signal (a PID 1 without a handler ignores SIGTERM).
fn host_config(host: &mut HostConfig) {
    host.init = Some(true);
    for bindings in host
        .port_bindings
        .iter_mut()
        .flat_map(|m| m.values_mut())
        .flatten()
    {
        for binding in bindings {
            binding.host_ip = Some("127.0.0.1".to_owned());
        }
    }
}

/// Runs `future` on `runtime` from any thread, inside another runtime's task included.
fn block<F>(runtime: &tokio::runtime::Runtime, future: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    std::thread::scope(|s| {
        s.spawn(|| runtime.block_on(future))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_split_into_name_and_tag() {
        assert_eq!(split_image("mosquitto"), ("mosquitto", "latest"));
        assert_eq!(
            split_image("mqttspec-reference:ci"),
            ("mqttspec-reference", "ci")
        );
        assert_eq!(
            split_image("registry:5000/team/broker"),
            ("registry:5000/team/broker", "latest")
        );
        assert_eq!(
            split_image("registry:5000/team/broker:2.0"),
            ("registry:5000/team/broker", "2.0")
        );
    }

    #[test]
    fn ports_are_published_on_loopback_only_behind_an_init() {
        use testcontainers::bollard::models::PortBinding;
        let mut host = HostConfig {
            port_bindings: Some(
                [(
                    "1883/tcp".to_owned(),
                    Some(vec![PortBinding {
                        host_ip: None,
                        host_port: Some("41000".into()),
                    }]),
                )]
                .into(),
            ),
            ..Default::default()
        };
        host_config(&mut host);
        assert_eq!(host.init, Some(true));
        let bindings = host.port_bindings.expect("bindings kept");
        let binding = &bindings["1883/tcp"].as_ref().expect("one binding")[0];
        assert_eq!(binding.host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(binding.host_port.as_deref(), Some("41000"));
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        let spec = |image: &str, env: &[&str], cmd: Option<&str>| ImageSpec {
            image: image.into(),
            container_port: 1883,
            env: env.iter().map(|s| s.to_string()).collect(),
            cmd: cmd.map(str::to_owned),
            ready_timeout: Duration::from_secs(1),
        };
        for bad in [
            spec("x", &["novalue"], None),
            spec("x", &["=v"], None),
            spec("x:", &[], None),
            spec("x", &[], Some("'open")),
        ] {
            assert!(
                matches!(Container::start(&bad), Err(LaunchError::Usage(_))),
                "{bad:?}"
            );
        }
    }
}
