//! Telling people about a booking: an email with the iCalendar invite (REQUEST, or CANCEL)
//! to the visitor and to the host, and the booking's webhook event, all in the unit of
//! work of the change.

use super::agenda::{invite_of, load};
use super::ics;
use crate::db::Work;
use crate::error::Result;
use crate::jobs::{Attachment, Email};
use crate::state::Core;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    Booked,
    Moved,
    Cancelled,
}

/// Emails the visitor and the host (with the invite), and the webhook subscribers.
pub(super) async fn tell(work: &mut Work, core: &Core, id: Uuid, change: Change) -> Result<()> {
    let loaded = load(&mut **work, id).await?;
    let v = &loaded.view;
    let ics = ics::invite(&invite_of(&loaded));
    let method = if change == Change::Cancelled {
        "CANCEL"
    } else {
        "REQUEST"
    };
    let attachment = Attachment {
        filename: "invite.ics".into(),
        content_type: format!("text/calendar; charset=utf-8; method={method}"),
        content: ics,
    };
    let when = v.start.replace('T', " ");
    let (visitor_subject, host_subject, event) = match change {
        Change::Booked => (
            format!(
                "Your {} with {} is booked: {when}",
                v.call_type_name, v.host_name
            ),
            format!(
                "New booking: {} with {} {}",
                v.call_type_name, v.first_name, v.last_name
            ),
            "booking.created",
        ),
        Change::Moved => (
            format!(
                "Your {} with {} has moved to {when}",
                v.call_type_name, v.host_name
            ),
            format!(
                "Booking moved: {} with {} {}",
                v.call_type_name, v.first_name, v.last_name
            ),
            "booking.rescheduled",
        ),
        Change::Cancelled => (
            format!(
                "Your {} with {} on {when} is cancelled",
                v.call_type_name, v.host_name
            ),
            format!(
                "Booking cancelled: {} with {} {}",
                v.call_type_name, v.first_name, v.last_name
            ),
            "booking.cancelled",
        ),
    };
    let body = format!(
        "{}\n\n{} with {}\nStarts: {} ({})\nEnds: {}\n\nThe attached invite adds it to your calendar.\n",
        visitor_subject, v.call_type_name, v.host_name, v.start, v.time_zone, v.end
    );
    let emails = [
        Email {
            to: v.email.clone(),
            subject: visitor_subject,
            text: body.clone(),
            purpose: format!("{event}.visitor"),
            unsubscribe_url: None,
            html: None,
            attachment: Some(attachment.clone()),
        },
        Email {
            to: loaded.host_email.clone(),
            subject: host_subject,
            text: format!(
                "{body}\nVisitor: {} {} <{}>\nNotes: {}\n",
                v.first_name, v.last_name, v.email, v.notes
            ),
            purpose: format!("{event}.host"),
            unsubscribe_url: None,
            html: None,
            attachment: Some(attachment),
        },
    ];
    core.jobs.emails(work, &emails).await?;
    let data = serde_json::to_value(v).map_err(anyhow::Error::from)?;
    crate::webhooks::publish(work, &core.jobs, event, &data).await?;
    Ok(())
}
