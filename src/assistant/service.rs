//! Conversations: started with a greeting, one reply per visitor message (from the model when
//! one is configured and answers, else from the built-in engine), remembered in Postgres,
//! limited per conversation and per IP, and expiring.

use std::net::IpAddr;
use std::time::Duration;

use crate::db::Db;
use chrono::Utc;
use sqlx::types::ipnetwork::IpNetwork;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::builtin;
use super::llm;
use super::model::{
    ConversationSummary, Flow, History, Message, Part, Reply, Started, State, Streamed,
};
use super::tools::Ctx;
use super::{App, AssistantConfig};
use crate::error::{AppError, Result};
use crate::pagination::{Page, PageParams};
use crate::rate_limit::{self, Limit};

/// The assistant's engines: the built-in one always, the model when configured.
#[derive(Clone)]
pub struct Assistant {
    llm: Option<llm::LlmConfig>,
    http: reqwest::Client,
}

impl Assistant {
    /// The model is used when ASSISTANT_LLM_URL is set.
    pub fn from_config(config: &AssistantConfig) -> Self {
        let llm = config.llm_url.as_ref().map(|url| llm::LlmConfig {
            url: url.clone(),
            model: config.llm_model.clone(),
            key: config.llm_key.clone(),
            timeout: config.llm_timeout,
        });
        Self {
            llm,
            // A redirect could send the API key's request elsewhere: none are followed.
            http: reqwest::Client::builder()
                .user_agent(concat!("frontdesk/", env!("CARGO_PKG_VERSION")))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
        }
    }
}

fn gone() -> AppError {
    AppError::not_found("No such conversation, or it has expired; start a new one.")
}

pub async fn start(app: &App, ip: Option<IpAddr>, time_zone: Option<String>) -> Result<Started> {
    let id = Uuid::now_v7();
    let ttl = chrono::Duration::from_std(app.assistant.config.ttl).map_err(anyhow::Error::from)?;
    let expires_at = Utc::now() + ttl;
    let state = State {
        time_zone,
        ..State::default()
    };
    let ctx = Ctx {
        app: app.clone(),
        ip,
        conversation: id,
    };
    let greeting = builtin::greeting(&ctx).await?;
    let mut tx = app.core.begin().await?;
    rate_limit::hit(&mut *tx, "assistant", ip, ip_limit(app)).await?;
    sqlx::query!(
        "insert into assistant_conversations (id, expires_at, state, client_ip) values ($1, $2, $3, $4)",
        id,
        expires_at,
        serde_json::to_value(&state).map_err(anyhow::Error::from)?,
        ip.map(IpNetwork::from)
    )
    .execute(&mut *tx)
    .await?;
    save_message(&mut tx, id, "assistant", &greeting).await?;
    tx.commit().await?;
    Ok(Started {
        id,
        expires_at,
        greeting,
    })
}

fn ip_limit(app: &App) -> Limit {
    app.assistant.config.rate_limit
}

async fn save_message(
    conn: &mut sqlx::PgConnection,
    conversation: Uuid,
    role: &str,
    reply: &Reply,
) -> Result<()> {
    let kept: Vec<Part> = reply.parts.iter().map(Part::to_keep).collect();
    let parts = serde_json::to_value(&kept).map_err(anyhow::Error::from)?;
    sqlx::query!(
        "insert into assistant_messages (id, conversation_id, role, text, parts) values ($1, $2, $3, $4, $5)",
        Uuid::now_v7(),
        conversation,
        role,
        reply.text,
        parts
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A conversation claimed for answering one message (see [`begin`]).
pub struct Claimed {
    conversation: Uuid,
    ip: Option<IpAddr>,
    state: State,
    hold: Hold,
}

/// The claim on a conversation: freed when the answer is saved, or else when this is
/// dropped — also when a panic unwinds or the request's future is dropped midway.
struct Hold {
    db: Db,
    conversation: Uuid,
    token: Uuid,
    saved: bool,
}

impl Drop for Hold {
    fn drop(&mut self) {
        if self.saved {
            return;
        }
        let (db, conversation, token) = (self.db.clone(), self.conversation, self.token);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { release(&db, conversation, token).await });
        }
    }
}

/// Takes a conversation for one message: 404 when it does not exist or expired, 409 while
/// another of its messages is being answered (on any replica), 429 over the limits. Then
/// the answer; a streamed reply starts only once this succeeded.
async fn begin(app: &App, ip: Option<IpAddr>, conversation: Uuid) -> Result<Claimed> {
    let token = Uuid::new_v4();
    let state = claim(app, conversation, token).await?;
    let mut hold = Hold {
        db: app.db.clone(),
        conversation,
        token,
        saved: false,
    };
    if let Err(err) = check_limits(app, ip, conversation).await {
        // Freed before answering, so an immediate retry hears 429 again, not 409.
        release(&app.db, conversation, token).await;
        hold.saved = true;
        return Err(err);
    }
    Ok(Claimed {
        conversation,
        ip,
        state,
        hold,
    })
}

/// Per conversation (whatever address it comes from) and per client IP.
async fn check_limits(app: &App, ip: Option<IpAddr>, conversation: Uuid) -> Result<()> {
    let per_conversation = Limit {
        max: app.assistant.config.messages_per_minute,
        window: app.assistant.config.message_window,
    };
    rate_limit::hit_bucket(
        &app.db,
        &format!("assistant-conversation:{conversation}"),
        per_conversation,
    )
    .await?;
    rate_limit::hit(&app.db, "assistant", ip, ip_limit(app)).await
}

/// How long the model may take over one message, all its rounds together
/// (ASSISTANT_LLM_BUDGET_SECS), and well within the request timeout so the built-in engine
/// still has time to answer.
pub fn model_deadline(app: &App) -> Duration {
    app.assistant
        .config
        .llm_budget
        .min(app.config.http.request_timeout * 2 / 3)
}

/// Answers the visitor's message. With `tokens`, the reply's text is also sent as it is made.
/// Answers a visitor's message. The answer runs to its end in its own task even if the
/// visitor goes away or the request times out: what it did is saved and the conversation
/// freed either way.
pub async fn answer(
    app: &App,
    ip: Option<IpAddr>,
    conversation: Uuid,
    text: String,
    time_zone: Option<String>,
) -> Result<Reply> {
    let app = app.clone();
    tokio::spawn(async move {
        let claimed = begin(&app, ip, conversation).await?;
        answer_claimed(&app, claimed, &text, time_zone, None).await
    })
    .await
    .map_err(|err| anyhow::anyhow!("the assistant's answer failed: {err}"))?
}

/// A reply on its way: its text as it is made, then the whole reply.
pub struct Streaming {
    pub tokens: mpsc::Receiver<Streamed>,
    pub done: oneshot::Receiver<Result<Reply>>,
}

/// Answers a visitor's message as a stream. An unknown, busy or rate-limited conversation
/// is an error here, before anything streams; after that the answer runs to its end in its
/// own task, saved even if the visitor goes away.
pub async fn stream(
    app: &App,
    ip: Option<IpAddr>,
    conversation: Uuid,
    text: String,
    time_zone: Option<String>,
) -> Result<Streaming> {
    let claimed = begin(app, ip, conversation).await?;
    let (tokens, receiver) = mpsc::channel::<Streamed>(64);
    let (done_sender, done) = oneshot::channel::<Result<Reply>>();
    let app = app.clone();
    tokio::spawn(async move {
        let outcome = answer_claimed(&app, claimed, &text, time_zone, Some(tokens)).await;
        let _ = done_sender.send(outcome);
    });
    Ok(Streaming {
        tokens: receiver,
        done,
    })
}

async fn answer_claimed(
    app: &App,
    claimed: Claimed,
    text: &str,
    time_zone: Option<String>,
    tokens: Option<mpsc::Sender<Streamed>>,
) -> Result<Reply> {
    let Claimed {
        conversation,
        ip,
        mut state,
        mut hold,
    } = claimed;
    if time_zone.is_some() {
        state.time_zone = time_zone;
    }
    let history = history_pairs(&app.db, conversation).await?;
    let ctx = Ctx {
        app: app.clone(),
        ip,
        conversation,
    };
    let assistant = &app.assistant.engine;
    let reply = match &assistant.llm {
        Some(config) => {
            let deadline = tokio::time::Instant::now() + model_deadline(app);
            let conversation = llm::Conversation {
                history: &history,
                text,
                state: &state,
            };
            match llm::reply(
                config,
                &assistant.http,
                &ctx,
                conversation,
                deadline,
                tokens.as_ref(),
            )
            .await
            {
                Ok(reply) => {
                    // The model carries the conversation now; a half-walked built-in flow
                    // would only surprise the visitor if the model failed later.
                    state.flow = Flow::Idle;
                    reply
                }
                Err(err) => {
                    tracing::warn!(
                        error = format!("{err:#}"),
                        "the language model failed; answering with the built-in engine"
                    );
                    if let Some(tokens) = &tokens {
                        let _ = tokens.send(Streamed::Restart).await;
                    }
                    builtin::reply(&ctx, &mut state, text).await?
                }
            }
        }
        None => builtin::reply(&ctx, &mut state, text).await?,
    };
    if let (Some(tokens), "builtin") = (&tokens, reply.engine.as_str()) {
        stream_words(tokens, &reply.text).await;
    }
    save_exchange(&app.db, conversation, hold.token, text, &reply, &state).await?;
    hold.saved = true;
    Ok(reply)
}

/// Keeps the visitor's message, the reply and the new state, and frees the conversation.
async fn save_exchange(
    db: &Db,
    conversation: Uuid,
    token: Uuid,
    text: &str,
    reply: &Reply,
    state: &State,
) -> Result<()> {
    let mut tx = db.begin().await?;
    let visitor = Reply {
        text: text.to_owned(),
        intent: reply.intent,
        parts: Vec::new(),
        engine: reply.engine.clone(),
    };
    save_message(&mut tx, conversation, "visitor", &visitor).await?;
    save_message(&mut tx, conversation, "assistant", reply).await?;
    // Only the holder writes the state: had the claim lapsed and another message taken it,
    // that message's state wins (both exchanges are kept).
    sqlx::query!(
        r#"update assistant_conversations
           set state = $3, updated_at = now(), busy_until = null, busy_token = null
           where id = $1 and busy_token = $2"#,
        conversation,
        token,
        serde_json::to_value(state).map_err(anyhow::Error::from)?
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A whole reply (the built-in engine's, or a model's that was not streamed) sent as the
/// tokens of a stream, word by word.
pub(super) async fn stream_words(tokens: &mpsc::Sender<Streamed>, text: &str) {
    for (i, word) in text.split(' ').enumerate() {
        let piece = if i == 0 {
            word.to_owned()
        } else {
            format!(" {word}")
        };
        if tokens.send(Streamed::Token(piece)).await.is_err() {
            return;
        }
    }
}

/// Marks the conversation as being answered and returns its state: 404 when it does not
/// exist or expired, 409 while another message is being answered. The mark lapses by
/// itself (after the longest an answer can take) if this process dies midway.
async fn claim(app: &App, conversation: Uuid, token: Uuid) -> Result<State> {
    let hold = model_deadline(app) + Duration::from_secs(30);
    let claimed = sqlx::query_scalar!(
        r#"update assistant_conversations
           set busy_until = now() + make_interval(secs => $3), busy_token = $2
           where id = $1 and expires_at > now() and (busy_until is null or busy_until < now())
           returning state"#,
        conversation,
        token,
        hold.as_secs_f64()
    )
    .fetch_optional(&app.db)
    .await?;
    if let Some(state) = claimed {
        // A state written by an older version that no longer reads starts afresh.
        return Ok(serde_json::from_value(state).unwrap_or_default());
    }
    let open = sqlx::query_scalar!(
        r#"select exists (select 1 from assistant_conversations where id = $1 and expires_at > now()) as "open!""#,
        conversation
    )
    .fetch_one(&app.db)
    .await?;
    if open {
        Err(AppError::conflict(
            "conversation-busy",
            "The previous message of this conversation is still being answered; send this one after its reply.",
        ))
    } else {
        Err(gone())
    }
}

async fn release(db: &Db, conversation: Uuid, token: Uuid) {
    let released = sqlx::query!(
        r#"update assistant_conversations set busy_until = null, busy_token = null
           where id = $1 and busy_token = $2"#,
        conversation,
        token
    )
    .execute(db)
    .await;
    if let Err(err) = released {
        tracing::warn!(error = %err, "could not free an assistant conversation; it frees itself shortly");
    }
}

async fn history_pairs(db: &Db, conversation: Uuid) -> Result<Vec<(String, String)>> {
    Ok(sqlx::query!(
        "select role, text from assistant_messages where conversation_id = $1 order by id",
        conversation
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|m| (m.role, m.text))
    .collect())
}

/// What the widget reads back: the conversation while it has not expired, counted against
/// the client's read limit (the id is the only key to it, so guessing must be slow).
pub async fn public_history(app: &App, ip: Option<IpAddr>, conversation: Uuid) -> Result<History> {
    crate::rate_limit::Guard::new("assistant-read", ip, app.assistant.config.read_limit)
        .hit(&app.db)
        .await?;
    history(&app.db, conversation, false).await
}

/// The conversation's messages (expired ones too when `include_expired`, for admins).
pub async fn history(db: &Db, conversation: Uuid, include_expired: bool) -> Result<History> {
    let head = sqlx::query!(
        "select id, created_at, expires_at from assistant_conversations where id = $1 and ($2 or expires_at > now())",
        conversation,
        include_expired
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(gone)?;
    let messages = sqlx::query_as!(
        Message,
        "select role, text, parts, created_at from assistant_messages where conversation_id = $1 order by id",
        conversation
    )
    .fetch_all(db)
    .await?;
    Ok(History {
        id: head.id,
        created_at: head.created_at,
        expires_at: head.expires_at,
        messages,
    })
}

/// Conversations, newest first; `led_somewhere` keeps those that led to a lead or a booking.
pub async fn list(
    db: &Db,
    led_somewhere: bool,
    page: &PageParams,
) -> Result<Page<ConversationSummary>> {
    let limit = page.limit()?;
    let after: Option<Uuid> = page.decode()?;
    let rows = sqlx::query_as!(
        ConversationSummary,
        r#"select c.id, c.created_at, c.updated_at, c.lead_id, c.booking_id,
                  (select count(*) from assistant_messages m where m.conversation_id = c.id) as "messages!"
           from assistant_conversations c
           where ($1::uuid is null or c.id < $1)
             and (not $2 or c.lead_id is not null or c.booking_id is not null)
           order by c.id desc limit $3"#,
        after,
        led_somewhere,
        i64::from(limit) + 1
    )
    .fetch_all(db)
    .await?;
    Ok(Page::from_rows(rows, limit, |c| c.id))
}

/// Drops conversations a week after they expired.
pub async fn forget_old(db: &Db) -> Result<u64> {
    Ok(sqlx::query!(
        "delete from assistant_conversations where expires_at < now() - interval '7 days'"
    )
    .execute(db)
    .await?
    .rows_affected())
}
