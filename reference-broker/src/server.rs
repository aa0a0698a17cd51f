//! The tokio shell around [`crate::core::Broker`]: accept, read, write, keep time.
//!
//! Each connection is one task that reads packets into the core and writes what the core
//! queued for it; one timer task drives delayed wills and session expiry. The core sits
//! behind one mutex, held only while it computes, never across I/O.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::BytesMut;
use mqttspec_codec::PacketDecoder;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::Config;
use crate::core::{Broker, ConnId};

/// Shared between the tasks: the core, and how to wake each connection's task.
struct Shared {
    broker: Mutex<Broker>,
    wakers: Mutex<HashMap<ConnId, Arc<Notify>>>,
    timer: Notify,
}

impl Shared {
    fn broker(&self) -> MutexGuard<'_, Broker> {
        self.broker
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Wakes the tasks of every connection the last core call gave something to send.
    fn wake(&self, broker: &mut Broker) {
        // Deadlines may have changed (a delayed will, a session expiry): re-arm the timer.
        self.timer.notify_one();
        let dirty = broker.take_dirty();
        if dirty.is_empty() {
            return;
        }
        let wakers = self.wakers.lock().unwrap_or_else(|p| p.into_inner());
        for conn in dirty {
            if let Some(w) = wakers.get(&conn) {
                w.notify_one();
            }
        }
    }
}

/// A running broker.
#[derive(Debug)]
pub struct BrokerHandle {
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl BrokerHandle {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Closes the listener and every connection, and waits for them.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// Binds `config.listen` and serves until [`BrokerHandle::shutdown`].
pub async fn start(config: Config) -> io::Result<BrokerHandle> {
    let listener = TcpListener::bind(config.listen).await?;
    let local_addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        broker: Mutex::new(Broker::new(config)),
        wakers: Mutex::new(HashMap::new()),
        timer: Notify::new(),
    });
    let (shutdown, stop) = watch::channel(false);
    let task = tokio::spawn(serve(listener, shared, stop));
    Ok(BrokerHandle {
        local_addr,
        shutdown,
        task,
    })
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let timer = tokio::spawn(run_timer(shared.clone(), stop.clone()));
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => {
                    let _ = socket.set_nodelay(true);
                    connections.spawn(run_connection(socket, shared.clone(), stop.clone()));
                }
                // Out of file descriptors and the like: back off briefly, keep serving.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = stop.changed() => break,
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    timer.abort();
}

/// Delayed wills and session expiry.
async fn run_timer(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let next = shared.broker().poll_timeout();
        let sleep = async {
            match next {
                Some(at) => tokio::time::sleep_until(Instant::from_std(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = sleep => {
                let mut broker = shared.broker();
                broker.handle_timeout(std::time::Instant::now());
                shared.wake(&mut broker);
            }
            _ = shared.timer.notified() => {}
            _ = stop.changed() => return,
        }
    }
}

async fn run_connection(socket: TcpStream, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let notify = Arc::new(Notify::new());
    let (conn, max_packet_size) = {
        let mut broker = shared.broker();
        (broker.open(), broker.config().maximum_packet_size)
    };
    shared
        .wakers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(conn, notify.clone());
    let _ = drive(conn, socket, &shared, &notify, &mut stop, max_packet_size).await;
    shared
        .wakers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&conn);
    let mut broker = shared.broker();
    broker.handle_close(std::time::Instant::now(), conn);
    shared.wake(&mut broker);
}

/// The connection's loop; returns when the connection is to be dropped.
async fn drive(
    conn: ConnId,
    mut socket: TcpStream,
    shared: &Shared,
    notify: &Notify,
    stop: &mut watch::Receiver<bool>,
    max_packet_size: u32,
) -> io::Result<()> {
    let mut decoder = PacketDecoder::new(mqttspec_codec::ProtocolVersion::V3_1_1)
        .with_max_packet_size(max_packet_size);
    // Buffers exist only while there are bytes in them: an idle connection holds none.
    let mut input = BytesMut::new();
    // A client gets a bounded time to send CONNECT at all.
    let mut deadline = Instant::now() + Duration::from_secs(30);
    loop {
        tokio::select! {
            ready = socket.readable() => {
                ready?;
                if input.capacity() - input.len() < 1024 {
                    input.reserve(4096);
                }
                match socket.try_read_buf(&mut input) {
                    Ok(0) => return Ok(()),
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        if input.is_empty() {
                            input = BytesMut::new();
                        }
                        continue;
                    }
                    Err(e) => return Err(e),
                }
                {
                    let now = std::time::Instant::now();
                    let mut broker = shared.broker();
                    #[cfg(feature = "planted-bugs")]
                    let planted = broker.config().planted_bug;
                    loop {
                        #[cfg(feature = "planted-bugs")]
                        if planted == Some(crate::PlantedBug::CrashOnEmptyTopic)
                            && broker.is_connected(conn)
                            && crate::planted::is_empty_topic_publish(
                                &input,
                                decoder.version(),
                                decoder.max_packet_size(),
                            )
                        {
                            std::process::abort();
                        }
                        match decoder.decode(&mut input) {
                            #[cfg(feature = "planted-bugs")]
                            Ok(Some(packet))
                                if planted == Some(crate::PlantedBug::HangOnPropertyFlood)
                                    && crate::planted::user_property_count(&packet)
                                        > crate::planted::PROPERTY_FLOOD =>
                            {
                                // `broker` (the core's mutex guard) is held for ever.
                                crate::planted::hang_forever()
                            }
                            Ok(Some(packet)) => broker.handle_packet(now, conn, packet),
                            Ok(None) => break,
                            Err(e) => {
                                broker.handle_decode_error(conn, &e);
                                input.clear();
                                break;
                            }
                        }
                    }
                    decoder.set_version(broker.version(conn));
                    let keep_alive = broker.keep_alive(conn);
                    // MQTT-3.1.2-24 (3.1.1) / MQTT-3.1.2-22 (5.0): 1.5 × Keep Alive.
                    deadline = if keep_alive == 0 {
                        Instant::now() + Duration::from_secs(365 * 24 * 3600)
                    } else {
                        Instant::now() + Duration::from_millis(u64::from(keep_alive) * 1500)
                    };
                    shared.wake(&mut broker);
                }
                if input.is_empty() {
                    input = BytesMut::new();
                }
                // Let the connections we just gave messages run before reading more.
                tokio::task::yield_now().await;
            }
            _ = notify.notified() => {}
            _ = tokio::time::sleep_until(deadline) => {
                let mut broker = shared.broker();
                broker.handle_keep_alive_expired(conn);
                shared.wake(&mut broker);
                deadline = Instant::now() + Duration::from_secs(3600);
            }
            _ = stop.changed() => return Ok(()),
        }
        // Write what the core queued for us.
        let (outbox, version) = {
            let mut broker = shared.broker();
            (broker.take_outbox(conn), broker.version(conn))
        };
        let size: usize = outbox.packets.iter().map(|p| p.encoded_len(version)).sum();
        let mut output = BytesMut::with_capacity(size);
        for packet in &outbox.packets {
            // Encoding errors cannot happen for packets the core builds; skip rather than die.
            let _ = packet.encode(version, &mut output);
        }
        if !output.is_empty() {
            socket.write_all(&output).await?;
        }
        if outbox.close {
            let _ = socket.shutdown().await;
            return Ok(());
        }
    }
}
