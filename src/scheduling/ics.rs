//! iCalendar (RFC 5545) for bookings: the invite a visitor and host receive (METHOD:REQUEST,
//! or CANCEL), with a UID that never changes and a SEQUENCE raised on every change, and a
//! host's subscribable feed.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus, Property};

/// What an invite says about one booking.
pub struct Invite<'a> {
    pub uid: &'a str,
    pub sequence: i32,
    pub summary: String,
    pub description: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub cancelled: bool,
    pub organizer: (&'a str, &'a str),
    pub attendee: (&'a str, &'a str),
    /// Where the call happens (LOCATION), and its link (URL) for a video call.
    pub location: Option<String>,
    pub url: Option<String>,
}

// The icalendar crate escapes `\\ , ; \n` in TEXT values but not a carriage return, and it
// writes parameter values and CAL-ADDRESS values as given. Whatever the stored data holds,
// what is written here can only ever be the one event it describes: TEXT loses every
// control character but line breaks (which the crate escapes), a CN parameter loses
// control characters and quotes (and is quoted when it needs to be), and a `mailto:` takes
// only a plain address.

/// A TEXT value: line breaks kept (the crate escapes them), other control characters
/// dropped.
fn text(value: &str) -> String {
    value
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .collect()
}

/// A parameter value (RFC 5545 3.1: paramtext or a quoted-string): no control characters
/// and no DQUOTE; quoted when it holds `,` (the crate itself quotes `:` and `;`).
fn param(value: &str) -> String {
    let clean: String = value
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .collect();
    if clean.contains(',') && !clean.contains([':', ';']) {
        format!("\"{clean}\"")
    } else {
        clean
    }
}

/// `ORGANIZER`/`ATTENDEE` with a CN, or nothing when the address is not a plain one.
fn person(property: &str, (name, email): (&str, &str)) -> Option<Property> {
    let email = crate::validation::parse_email(email).ok()?;
    Some(
        Property::new(property, format!("mailto:{email}"))
            .add_parameter("CN", &param(name))
            .done(),
    )
}

fn event(invite: &Invite<'_>, people: bool) -> Event {
    let mut event = Event::new();
    event
        .uid(&text(invite.uid))
        .summary(&text(&invite.summary))
        .description(&text(&invite.description))
        .starts(invite.start)
        .ends(invite.end)
        .add_property("SEQUENCE", invite.sequence.to_string());
    if let Some(location) = invite.location.as_deref().filter(|l| !l.is_empty()) {
        event.location(&text(location));
    }
    if let Some(url) = invite
        .url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
    {
        event.add_property("URL", url.as_str());
    }
    if !people {
        return event.done();
    }
    if let Some(organizer) = person("ORGANIZER", invite.organizer) {
        event.append_property(organizer);
    }
    if let Some(mut attendee) = person("ATTENDEE", invite.attendee) {
        attendee
            .add_parameter("ROLE", "REQ-PARTICIPANT")
            .add_parameter("RSVP", "FALSE");
        event.append_property(attendee.done());
    }
    event.status(if invite.cancelled {
        EventStatus::Cancelled
    } else {
        EventStatus::Confirmed
    });
    event.done()
}

/// A one-event calendar to send: METHOD:REQUEST for a booked or moved call, METHOD:CANCEL
/// for a cancelled one.
pub fn invite(invite: &Invite<'_>) -> String {
    let mut calendar = Calendar::new();
    calendar.append_property(Property::new(
        "METHOD",
        if invite.cancelled {
            "CANCEL"
        } else {
            "REQUEST"
        },
    ));
    calendar.push(event(invite, true));
    calendar.done().to_string()
}

/// The booking as a calendar object stored in the host's CalDAV calendar (RFC 4791 4.1:
/// no METHOD), without ORGANIZER and ATTENDEE so that the server does not send invites of
/// its own (frontdesk sends them).
pub fn resource(invite: &Invite<'_>) -> String {
    let mut calendar = Calendar::new();
    calendar.push(event(invite, false));
    calendar.done().to_string()
}

/// A host's feed: every booking, for calendar apps to subscribe to.
pub fn feed(name: &str, invites: &[Invite<'_>]) -> String {
    let mut calendar = Calendar::new();
    calendar.name(&text(name));
    for i in invites {
        calendar.push(event(i, true));
    }
    calendar.done().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(sequence: i32, cancelled: bool) -> String {
        invite(&Invite {
            uid: "booking-123@frontdesk",
            sequence,
            summary: "Discovery call".into(),
            description: "Notes".into(),
            start: "2026-12-07T10:00:00Z".parse().expect("time"),
            end: "2026-12-07T10:30:00Z".parse().expect("time"),
            cancelled,
            organizer: ("Maya", "maya@northwind.example"),
            attendee: ("Ada Lovelace", "ada@example.com"),
            location: Some("https://meet.example.com/maya".into()),
            url: Some("https://meet.example.com/maya".into()),
        })
    }

    #[test]
    fn an_invite_has_the_fields_calendar_apps_need() {
        let ics = sample(0, false);
        for line in [
            "BEGIN:VCALENDAR",
            "METHOD:REQUEST",
            "UID:booking-123@frontdesk",
            "SEQUENCE:0",
            "DTSTART:20261207T100000Z",
            "DTEND:20261207T103000Z",
            "STATUS:CONFIRMED",
            "ORGANIZER;CN=Maya:mailto:maya@northwind.example",
            "LOCATION:https://meet.example.com/maya",
            "URL:https://meet.example.com/maya",
        ] {
            assert!(ics.contains(line), "{line} missing from\n{ics}");
        }
        assert!(ics.contains("DTSTAMP:"));
    }

    #[test]
    fn hostile_names_and_notes_cannot_add_lines_or_events() {
        let ics = invite(&Invite {
            uid: "booking-9@frontdesk",
            sequence: 0,
            summary: "Call\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil@x".into(),
            description: "notes\rDTSTART:19700101T000000Z\u{7}".into(),
            start: "2026-12-07T10:00:00Z".parse().expect("time"),
            end: "2026-12-07T10:30:00Z".parse().expect("time"),
            cancelled: false,
            organizer: ("Maya \"Host\"\r\nX: y", "maya@northwind.example"),
            attendee: (
                "Ada\r\nEND:VEVENT\r\nBEGIN:VEVENT",
                "Eve <victim@example.org>",
            ),
            location: Some("Room 1\r\nEND:VEVENT".into()),
            url: Some("javascript:alert(1)\r\nX: y".into()),
        });
        let lines: Vec<&str> = ics.split("\r\n").collect();
        assert_eq!(
            lines.iter().filter(|l| **l == "BEGIN:VEVENT").count(),
            1,
            "{ics}"
        );
        assert!(!lines.iter().any(|l| l.starts_with("UID:evil")), "{ics}");
        assert!(
            !lines.iter().any(|l| l.starts_with("DTSTART:1970")),
            "{ics}"
        );
        assert!(!lines.iter().any(|l| l.starts_with("X:")), "{ics}");
        assert!(!ics.contains('\u{7}'));
        assert!(!ics.contains("URL:"), "only an http(s) link: {ics}");
        assert!(!ics.contains("ATTENDEE"), "not a plain address: {ics}");
        assert!(
            ics.contains("ORGANIZER;CN=Maya HostX: y:mailto:maya@northwind.example")
                || ics.contains("ORGANIZER;CN=\"Maya HostX: y\":mailto:maya@northwind.example"),
            "{ics}"
        );
        // Every physical line is a content line or a fold of one.
        for line in ics.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(!line.contains('\r') && !line.contains('\n'), "{line:?}");
        }
    }

    #[test]
    fn a_cancellation_keeps_the_uid_and_says_cancel() {
        let ics = sample(2, true);
        assert!(ics.contains("METHOD:CANCEL"));
        assert!(ics.contains("STATUS:CANCELLED"));
        assert!(ics.contains("SEQUENCE:2"));
        assert!(ics.contains("UID:booking-123@frontdesk"));
    }
}
