//! Outside parties as real servers on loopback: an SMTP server that keeps what it receives,
//! an HTTP server that receives webhooks (and can be told to fail), and an OpenAI-compatible
//! chat-completions provider that answers from a script.

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
    /// How many connections clients opened.
    pub connections: Arc<std::sync::atomic::AtomicUsize>,
}

impl SmtpServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let addr = listener.local_addr().expect("addr");
        let mails = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (store, opened) = (mails.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                opened.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(session(socket, store.clone()));
            }
        });
        Self {
            addr,
            mails,
            connections,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Waits until `count` mails arrived and returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Mail> {
        wait_until(&format!("{count} mails"), || async {
            self.mails.lock().await.len() >= count
        })
        .await;
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

    /// Waits until `count` deliveries arrived and returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        wait_until(&format!("{count} webhook deliveries"), || async {
            self.received.lock().await.len() >= count
        })
        .await;
        self.received.lock().await.clone()
    }
}

/// One scripted answer of the fake chat-completions provider.
#[derive(Debug, Clone)]
pub enum Scripted {
    /// A JSON completion (`choices[0].message` is this value).
    Message(serde_json::Value),
    /// A streamed completion: each value is one `data:` chunk's `choices[0].delta`; then `[DONE]`.
    Stream(Vec<serde_json::Value>),
    /// Raw bytes with status 200: a body that is not the wire format.
    Raw(&'static str),
    /// An error status.
    Status(u16),
    /// No answer for this long (longer than the client waits).
    Hang(Duration),
}

/// An OpenAI-compatible `/chat/completions` endpoint answering from a script, one entry per
/// request (500 once the script is used up), keeping every request it was sent.
pub struct ChatProvider {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<std::collections::VecDeque<Scripted>>>,
}

impl ChatProvider {
    pub async fn start(script: Vec<Scripted>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(std::collections::VecDeque::from(script)));
        let (store, remaining) = (requests.clone(), script.clone());
        let app = Router::new().route(
            "/v1/chat/completions",
            post(move |headers: HeaderMap, body: Bytes| {
                let (store, script) = (store.clone(), remaining.clone());
                async move {
                    store.lock().await.push(Received { headers, body });
                    let next = script.lock().await.pop_front();
                    answer(next).await
                }
            }),
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            requests,
            script,
        }
    }

    /// Adds answers to the script (for answers that depend on what the test learned).
    pub async fn then(&self, answers: Vec<Scripted>) {
        self.script.lock().await.extend(answers);
    }

    /// The base URL to configure (ASSISTANT_LLM_URL).
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub async fn requests(&self) -> Vec<serde_json::Value> {
        self.requests
            .lock()
            .await
            .iter()
            .map(Received::json)
            .collect()
    }
}

async fn answer(scripted: Option<Scripted>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let completion = |message: serde_json::Value| {
        serde_json::json!({
            "id": "chatcmpl-test", "object": "chat.completion", "model": "test-model",
            "choices": [{ "index": 0, "message": message, "finish_reason": "stop" }]
        })
    };
    match scripted {
        Some(Scripted::Message(message)) => axum::Json(completion(message)).into_response(),
        Some(Scripted::Stream(deltas)) => {
            let mut body = String::new();
            for delta in deltas {
                let chunk = serde_json::json!({ "choices": [{ "index": 0, "delta": delta }] });
                body.push_str(&format!("data: {chunk}\n\n"));
            }
            body.push_str("data: [DONE]\n\n");
            // Sent in small pieces, as a real stream arrives.
            let pieces: Vec<Result<Bytes, std::convert::Infallible>> = body
                .into_bytes()
                .chunks(37)
                .map(|c| Ok(Bytes::copy_from_slice(c)))
                .collect();
            (
                [(axum::http::header::CONTENT_TYPE, "text/event-stream")],
                axum::body::Body::from_stream(futures_util::stream::iter(pieces)),
            )
                .into_response()
        }
        Some(Scripted::Raw(body)) => (StatusCode::OK, body).into_response(),
        Some(Scripted::Status(code)) => StatusCode::from_u16(code)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response(),
        Some(Scripted::Hang(pause)) => {
            tokio::time::sleep(pause).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// A loopback address nothing listens on (yet).
pub fn unused_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
}

/// Polls `done` every 20 ms until it holds, for up to 20 s (deliveries happen in the
/// background); then fails the test, saying what it waited for.
pub async fn wait_until<F, Fut>(what: &str, done: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    wait_within(what, Duration::from_secs(20), done).await;
}

/// [`wait_until`] with its own time limit. The one polling loop of the tests.
pub async fn wait_within<F, Fut>(what: &str, limit: Duration, done: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + limit;
    loop {
        if done().await {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "gave up after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
