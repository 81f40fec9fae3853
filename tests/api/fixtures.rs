//! Outside parties as real servers on loopback: an SMTP server that keeps what it receives,
//! and an HTTP server that receives webhooks (and can be told to fail).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

/// A message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

/// A minimal SMTP server (RFC 5321: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), enough for
/// a real client to deliver to it.
pub struct SmtpServer {
    pub addr: SocketAddr,
    pub mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let addr = listener.local_addr().expect("addr");
        let mails = Arc::new(Mutex::new(Vec::new()));
        let store = mails.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(session(socket, store.clone()));
            }
        });
        Self { addr, mails }
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Waits until `count` mails arrived (or the deadline passes) and returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Mail> {
        wait_until(|| async { self.mails.lock().await.len() >= count }).await;
        self.mails.lock().await.clone()
    }
}

async fn session(socket: tokio::net::TcpStream, store: Arc<Mutex<Vec<Mail>>>) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut from = String::new();
    let mut to = Vec::new();
    let _ = write.write_all(b"220 localhost test SMTP\r\n").await;
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let answer = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            "250-localhost\r\n250 8BITMIME"
        } else if upper.starts_with("MAIL FROM:") {
            from = line[10..].trim().to_owned();
            "250 OK"
        } else if upper.starts_with("RCPT TO:") {
            to.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
            "250 OK"
        } else if upper == "DATA" {
            let _ = write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await;
            let mut data = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "." {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
                data.push('\n');
            }
            store.lock().await.push(Mail {
                from: std::mem::take(&mut from),
                to: std::mem::take(&mut to),
                data,
            });
            "250 OK queued"
        } else if upper == "QUIT" {
            let _ = write.write_all(b"221 Bye\r\n").await;
            return;
        } else if upper.starts_with("RSET") || upper.starts_with("NOOP") {
            "250 OK"
        } else {
            "502 Command not implemented"
        };
        if write
            .write_all(format!("{answer}\r\n").as_bytes())
            .await
            .is_err()
        {
            return;
        }
    }
}

/// A webhook delivery as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// An HTTP server receiving webhooks at `/hook`. While `failing` is set it answers 500.
pub struct WebhookReceiver {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
    pub failing: Arc<AtomicBool>,
}

impl WebhookReceiver {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::serve(listener).await
    }

    /// Starts on a given address (to come back where it was down).
    pub async fn start_at(addr: SocketAddr) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind again");
        Self::serve(listener).await
    }

    async fn serve(listener: TcpListener) -> Self {
        let addr = listener.local_addr().expect("addr");
        let received = Arc::new(Mutex::new(Vec::new()));
        let failing = Arc::new(AtomicBool::new(false));
        let (store, fail) = (received.clone(), failing.clone());
        let app = Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| {
                let (store, fail) = (store.clone(), fail.clone());
                async move {
                    store.lock().await.push(Received { headers, body });
                    if fail.load(Ordering::SeqCst) {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::NO_CONTENT
                    }
                }
            }),
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            received,
            failing,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        wait_until(|| async { self.received.lock().await.len() >= count }).await;
        self.received.lock().await.clone()
    }
}

/// A loopback address nothing listens on (yet).
pub fn unused_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
}

/// Polls `done` every 20 ms for up to 20 s: deliveries happen in the background.
pub async fn wait_until<F, Fut>(done: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
