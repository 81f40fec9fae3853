//! Sending email: over SMTP (lettre) when SMTP_URL is set, otherwise kept in the outbox only,
//! readable at GET /v1/admin/emails, so development needs no mail server.

use anyhow::Context;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment as LettreAttachment, Mailbox, Message, MultiPart, SinglePart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;
use uuid::Uuid;

use super::queue::{Claimed, Email};
use super::worker::{Delivery, JobHandler};
use crate::config::MailConfig;

#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: Box<AsyncSmtpTransport<Tokio1Executor>>,
        from: Mailbox,
    },
    /// No SMTP server: the email stays in the outbox, readable by admins.
    Keep,
}

impl Mailer {
    /// `connections`: how many SMTP connections are kept open and reused (one per outbox
    /// worker); an idle one is closed after half a minute.
    pub fn from_config(config: &MailConfig, connections: usize) -> anyhow::Result<Self> {
        let Some(url) = &config.smtp_url else {
            return Ok(Self::Keep);
        };
        let pool = PoolConfig::new()
            .max_size(u32::try_from(connections.max(1)).unwrap_or(u32::MAX))
            .idle_timeout(std::time::Duration::from_secs(30));
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
            .context("SMTP_URL is not a usable SMTP URL")?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .pool_config(pool)
            .build();
        let from = config.from.parse().context("MAIL_FROM is not a mailbox")?;
        Ok(Self::Smtp {
            transport: Box::new(transport),
            from,
        })
    }

    /// Sends (or keeps) the email; returns how it was delivered.
    pub async fn deliver(&self, job_id: Uuid, email: &Email) -> anyhow::Result<&'static str> {
        let Self::Smtp { transport, from } = self else {
            return Ok("kept");
        };
        let message = build_message(job_id, from, email)?;
        transport
            .send(message)
            .await
            .context("the SMTP server refused the message")?;
        Ok("smtp")
    }
}

impl JobHandler for Mailer {
    fn deliver<'a>(&'a self, job: &'a Claimed) -> Delivery<'a> {
        Box::pin(async move {
            let email: Email = serde_json::from_value(job.payload.clone())?;
            Mailer::deliver(self, job.id, &email).await
        })
    }
}

/// The message, with the job id as its Message-ID so a receiver can tell a retry from a
/// new message, and RFC 8058 one-click unsubscribe headers for newsletter mail.
pub fn build_message(job_id: Uuid, from: &Mailbox, email: &Email) -> anyhow::Result<Message> {
    let to: Mailbox = email
        .to
        .parse()
        .context("the recipient is not a valid address")?;
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.subject.clone())
        .message_id(Some(format!("<{job_id}@frontdesk>")));
    if email.attachment.is_none() && email.html.is_none() {
        builder = builder.header(ContentType::TEXT_PLAIN);
    }
    if let Some(url) = &email.unsubscribe_url {
        builder = builder
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{url}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ));
    }
    if let Some(html) = &email.html {
        let alternative = MultiPart::alternative_plain_html(email.text.clone(), html.clone());
        let body = match &email.attachment {
            None => alternative,
            Some(attachment) => MultiPart::mixed()
                .multipart(alternative)
                .singlepart(attachment_part(attachment)?),
        };
        return builder.multipart(body).context("building the message");
    }
    let Some(attachment) = &email.attachment else {
        return builder
            .body(email.text.clone())
            .context("building the message");
    };
    builder
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(email.text.clone()))
                .singlepart(attachment_part(attachment)?),
        )
        .context("building the message")
}

fn attachment_part(attachment: &super::queue::Attachment) -> anyhow::Result<SinglePart> {
    let content_type =
        ContentType::parse(&attachment.content_type).context("the attachment's content type")?;
    Ok(LettreAttachment::new(attachment.filename.clone())
        .body(attachment.content.clone(), content_type))
}

/// What a failed delivery tells about the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Refused for good (an SMTP 5xx: no such mailbox, policy): retrying cannot help.
    Refused,
    /// Not accepted, certainly (a 4xx answer, a connection refused): it may be tried again.
    NotSent,
    /// Cut off mid-exchange (a timeout, a reset, a garbled reply): the server may have
    /// accepted it.
    Unknown,
}

impl Failure {
    pub fn of(error: &anyhow::Error) -> Self {
        if let Some(smtp) = error.downcast_ref::<lettre::transport::smtp::Error>() {
            if smtp.is_permanent() {
                return Self::Refused;
            }
            if smtp.is_transient() {
                return Self::NotSent;
            }
        }
        let refused = error.chain().any(|cause| {
            cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        });
        if refused {
            return Self::NotSent;
        }
        // Building the message failed before anything was sent.
        if error
            .downcast_ref::<lettre::transport::smtp::Error>()
            .is_none()
        {
            return Self::NotSent;
        }
        Self::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invite_travels_as_a_calendar_attachment() {
        let email = Email {
            to: "ada@example.com".into(),
            subject: "Booked".into(),
            text: "See you then".into(),
            purpose: "booking.created.visitor".into(),
            unsubscribe_url: None,
            html: None,
            attachment: Some(crate::jobs::Attachment {
                filename: "invite.ics".into(),
                content_type: "text/calendar; charset=utf-8; method=REQUEST".into(),
                content: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".into(),
            }),
        };
        let from: Mailbox = "frontdesk <frontdesk@localhost>".parse().expect("mailbox");
        let raw = String::from_utf8(
            build_message(Uuid::now_v7(), &from, &email)
                .expect("message")
                .formatted(),
        )
        .expect("utf8");
        assert!(raw.contains("multipart/mixed"), "{raw}");
        assert!(
            raw.contains("Content-Disposition: attachment; filename=\"invite.ics\""),
            "{raw}"
        );
        assert!(raw.contains("method=REQUEST"), "{raw}");
    }

    #[test]
    fn newsletter_mail_carries_one_click_unsubscribe_headers() {
        let email = Email {
            to: "ada@example.com".into(),
            subject: "Confirm".into(),
            text: "Hello".into(),
            purpose: "newsletter_confirmation".into(),
            unsubscribe_url: Some("https://api.example.com/v1/newsletter/unsubscribe?x=1".into()),
            html: None,
            attachment: None,
        };
        let from: Mailbox = "frontdesk <frontdesk@localhost>".parse().expect("mailbox");
        let id = Uuid::now_v7();
        let raw = String::from_utf8(
            build_message(id, &from, &email)
                .expect("message")
                .formatted(),
        )
        .expect("utf8");
        assert!(
            raw.contains(&format!("Message-ID: <{id}@frontdesk>")),
            "{raw}"
        );
        assert!(
            raw.contains(
                "List-Unsubscribe: <https://api.example.com/v1/newsletter/unsubscribe?x=1>"
            ),
            "{raw}"
        );
        assert!(
            raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
            "{raw}"
        );
    }
}
