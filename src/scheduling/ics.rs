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
}

fn person(property: &str, (name, email): (&str, &str)) -> Property {
    Property::new(property, format!("mailto:{email}"))
        .add_parameter("CN", name)
        .done()
}

fn event(invite: &Invite<'_>) -> Event {
    let mut event = Event::new();
    event
        .uid(invite.uid)
        .summary(&invite.summary)
        .description(&invite.description)
        .starts(invite.start)
        .ends(invite.end)
        .add_property("SEQUENCE", invite.sequence.to_string())
        .append_property(person("ORGANIZER", invite.organizer))
        .append_property(
            Property::new("ATTENDEE", format!("mailto:{}", invite.attendee.1))
                .add_parameter("CN", invite.attendee.0)
                .add_parameter("ROLE", "REQ-PARTICIPANT")
                .add_parameter("RSVP", "FALSE")
                .done(),
        )
        .status(if invite.cancelled {
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
    calendar.push(event(invite));
    calendar.done().to_string()
}

/// A host's feed: every booking, for calendar apps to subscribe to.
pub fn feed(name: &str, invites: &[Invite<'_>]) -> String {
    let mut calendar = Calendar::new();
    calendar.name(name);
    for i in invites {
        calendar.push(event(i));
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
        ] {
            assert!(ics.contains(line), "{line} missing from\n{ics}");
        }
        assert!(ics.contains("DTSTAMP:"));
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
