//! A TCP proxy on loopback that can be switched off: an outage switch in front of a server.
//!
//! [`TcpProxy::cut`] closes the listening socket (new connections are refused, as when the
//! server is down) and cuts every open connection mid-stream; [`TcpProxy::restore`] listens on
//! the same port again. The server behind it keeps running, so a test can take "SQS" away from
//! the functions and bring it back with its state (the queued jobs) intact, which a restarted
//! moto (empty state) cannot do.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};

use crate::util;

#[derive(Default)]
struct State {
    /// Forwarding; false from [`TcpProxy::cut`] until [`TcpProxy::restore`].
    up: bool,
    accept: Option<tokio::task::AbortHandle>,
    connections: Vec<tokio::task::AbortHandle>,
}

/// The running proxy. Everything stops when it is dropped.
pub struct TcpProxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
    }
}

impl TcpProxy {
    /// Listen on `127.0.0.1:<free port>`, forwarding every connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> TcpProxy {
        let listener = util::bind(util::any_loopback()).await;
        let addr = listener.local_addr().expect("local_addr");
        let proxy = TcpProxy {
            addr,
            upstream,
            state: Arc::default(),
        };
        proxy.accept_on(listener);
        proxy
    }

    /// `http://127.0.0.1:<port>` (e.g. for `AWS_ENDPOINT_URL`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether the proxy is forwarding (not cut).
    pub fn is_up(&self) -> bool {
        self.state.lock().unwrap().accept.is_some()
    }

    /// The outage: refuse new connections and cut the open ones.
    pub fn cut(&self) {
        let mut st = self.state.lock().unwrap();
        st.up = false;
        if let Some(a) = st.accept.take() {
            a.abort();
        }
        for c in st.connections.drain(..) {
            c.abort();
        }
    }

    /// The end of the outage: listen on the same port again.
    pub async fn restore(&self) {
        if self.is_up() {
            return;
        }
        // The port was ours a moment ago; retry briefly in case the OS has not released it yet.
        let mut last = None;
        for _ in 0..50 {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => {
                    self.accept_on(listener);
                    return;
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("cannot listen on {} again: {last:?}", self.addr);
    }

    fn accept_on(&self, listener: TcpListener) {
        let state = self.state.clone();
        let upstream = self.upstream;
        let mut st = self.state.lock().unwrap();
        st.up = true;
        let task = tokio::spawn(async move {
            loop {
                let Ok((inbound, _)) = listener.accept().await else {
                    continue;
                };
                let conn = tokio::spawn(forward(inbound, upstream));
                let mut st = state.lock().unwrap();
                if !st.up {
                    // Accepted just as the outage began: it does not get through.
                    conn.abort();
                    return;
                }
                st.connections.retain(|c| !c.is_finished());
                st.connections.push(conn.abort_handle());
            }
        });
        st.accept = Some(task.abort_handle());
    }
}

async fn forward(mut inbound: TcpStream, upstream: SocketAddr) {
    let Ok(mut outbound) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = inbound.set_nodelay(true);
    let _ = outbound.set_nodelay(true);
    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
}
