//! Slot arithmetic, with no I/O: which start times a call type offers, for which hosts.
//!
//! Working hours are wall-clock times in the host's zone, so a day's hours are turned into
//! instants on that day, in that zone: across a daylight-saving change the instants move,
//! the wall-clock hours do not. A start time is offered when the call fits inside working
//! hours, it and its buffers overlap no booking (with its buffers), it is far enough ahead
//! (minimum notice) and not too far (horizon), and the host has not reached the day's cap.

use std::collections::{BTreeMap, HashMap};

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;
use uuid::Uuid;

/// One working interval, in the host's wall-clock time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// What changes a single date's working hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Override {
    /// No work that day.
    DayOff,
    /// Hours worked on top of (or, on a day normally off, instead of nothing) the usual ones.
    Extra(Interval),
}

/// A host as slot arithmetic sees them.
#[derive(Debug, Clone)]
pub struct HostCalendar {
    pub id: Uuid,
    pub zone: Tz,
    /// ISO weekday (Monday = 1) → intervals.
    pub weekly: HashMap<u32, Vec<Interval>>,
    pub overrides: HashMap<NaiveDate, Vec<Override>>,
    /// Confirmed bookings: the time each blocks, buffers included.
    pub busy: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Busy in the host's connected calendars (CalDAV, iCalendar feeds).
    pub elsewhere: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Confirmed bookings per date in the host's zone, for the daily cap.
    pub booked_per_day: HashMap<NaiveDate, u32>,
}

/// The rules of a call type.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub duration: Duration,
    pub buffer_before: Duration,
    pub buffer_after: Duration,
    pub min_notice: Duration,
    pub horizon: Duration,
    pub step: Duration,
    pub daily_cap: Option<u32>,
}

/// A start time and the hosts free to take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub hosts: Vec<Uuid>,
}

/// The instant a wall-clock time has in `zone`. In the hour skipped when clocks go forward,
/// the first instant after the gap; in the hour repeated when they go back, the earlier
/// (`earliest`) or the later instant.
pub fn instant(zone: Tz, local: NaiveDateTime, earliest: bool) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => if earliest { a } else { b }.with_timezone(&Utc),
        LocalResult::None => {
            // Inside a gap: walk forward to the first wall-clock time that exists.
            let mut probe = local;
            for _ in 0..(4 * 60) {
                probe += Duration::minutes(1);
                if let Some(t) = zone.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
            Utc.from_utc_datetime(&local)
        }
    }
}

/// The host's working intervals on `date`, as instants.
pub fn working_instants(
    host: &HostCalendar,
    date: NaiveDate,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let overrides = host
        .overrides
        .get(&date)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if overrides.contains(&Override::DayOff) {
        return Vec::new();
    }
    let weekly = host
        .weekly
        .get(&date.weekday().number_from_monday())
        .map(Vec::as_slice)
        .unwrap_or_default();
    let extra = overrides.iter().filter_map(|o| match o {
        Override::Extra(interval) => Some(interval),
        Override::DayOff => None,
    });
    weekly
        .iter()
        .chain(extra)
        .map(|interval| {
            (
                instant(host.zone, date.and_time(interval.start), true),
                instant(host.zone, date.and_time(interval.end), false),
            )
        })
        .filter(|(start, end)| start < end)
        .collect()
}

fn overlaps(a: (DateTime<Utc>, DateTime<Utc>), b: (DateTime<Utc>, DateTime<Utc>)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// The start times a host can take within `[from, to)`.
pub fn host_starts(
    host: &HostCalendar,
    rules: &Rules,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let earliest = now + rules.min_notice;
    let latest = now + rules.horizon;
    let first_day = from.with_timezone(&host.zone).date_naive() - Duration::days(1);
    let last_day = to.with_timezone(&host.zone).date_naive() + Duration::days(1);
    let mut starts = Vec::new();
    for date in first_day.iter_days().take_while(|d| *d <= last_day) {
        if let Some(cap) = rules.daily_cap {
            if host.booked_per_day.get(&date).copied().unwrap_or(0) >= cap {
                continue;
            }
        }
        for (open, close) in working_instants(host, date) {
            let mut start = open;
            while start + rules.duration <= close {
                let blocked = (
                    start - rules.buffer_before,
                    start + rules.duration + rules.buffer_after,
                );
                let wanted = start >= from && start < to && start >= earliest && start <= latest;
                let free = || {
                    !host
                        .busy
                        .iter()
                        .chain(&host.elsewhere)
                        .any(|busy| overlaps(blocked, *busy))
                };
                if wanted && free() {
                    starts.push(start);
                }
                start += rules.step;
            }
        }
    }
    starts.sort();
    starts.dedup();
    starts
}

/// Every offered start time with the hosts who can take it, in order.
pub fn slots(
    hosts: &[HostCalendar],
    rules: &Rules,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<Slot> {
    let mut by_start: BTreeMap<DateTime<Utc>, Vec<Uuid>> = BTreeMap::new();
    for host in hosts {
        for start in host_starts(host, rules, from, to, now) {
            by_start.entry(start).or_default().push(host.id);
        }
    }
    by_start
        .into_iter()
        .map(|(start, hosts)| Slot {
            start,
            end: start + rules.duration,
            hosts,
        })
        .collect()
}

/// The date a start falls on for a host (what the daily cap counts by).
pub fn host_date(host_zone: Tz, start: DateTime<Utc>) -> NaiveDate {
    start.with_timezone(&host_zone).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;
    use chrono_tz::Europe::London;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("time")
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("rfc3339")
            .with_timezone(&Utc)
    }

    fn every_weekday(zone: Tz, start: NaiveTime, end: NaiveTime) -> HostCalendar {
        HostCalendar {
            id: Uuid::now_v7(),
            zone,
            weekly: (1..=7)
                .map(|d| (d, vec![Interval { start, end }]))
                .collect(),
            overrides: HashMap::new(),
            busy: Vec::new(),
            elsewhere: Vec::new(),
            booked_per_day: HashMap::new(),
        }
    }

    fn rules(minutes: i64) -> Rules {
        Rules {
            duration: Duration::minutes(minutes),
            buffer_before: Duration::zero(),
            buffer_after: Duration::zero(),
            min_notice: Duration::zero(),
            horizon: Duration::days(3650),
            step: Duration::minutes(minutes),
            daily_cap: None,
        }
    }

    /// "A long time ago": notice and horizon play no part unless a test sets them.
    fn long_ago() -> DateTime<Utc> {
        utc("2026-01-01T00:00:00Z")
    }

    #[test]
    fn london_working_hours_follow_the_clocks_in_spring() {
        // Clocks go forward at 01:00 UTC on Sunday 29 March 2026.
        let host = every_weekday(London, t(9, 0), t(10, 0));
        let before = host_starts(
            &host,
            &rules(60),
            utc("2026-03-28T00:00:00Z"),
            utc("2026-03-29T00:00:00Z"),
            long_ago(),
        );
        let after = host_starts(
            &host,
            &rules(60),
            utc("2026-03-30T00:00:00Z"),
            utc("2026-03-31T00:00:00Z"),
            long_ago(),
        );
        assert_eq!(
            before,
            [utc("2026-03-28T09:00:00Z")],
            "GMT: 09:00 local is 09:00 UTC"
        );
        assert_eq!(
            after,
            [utc("2026-03-30T08:00:00Z")],
            "BST: 09:00 local is 08:00 UTC"
        );
    }

    #[test]
    fn london_working_hours_follow_the_clocks_in_autumn() {
        // Clocks go back at 01:00 UTC on Sunday 25 October 2026.
        let host = every_weekday(London, t(9, 0), t(10, 0));
        let sat = host_starts(
            &host,
            &rules(60),
            utc("2026-10-24T00:00:00Z"),
            utc("2026-10-25T00:00:00Z"),
            long_ago(),
        );
        let sun = host_starts(
            &host,
            &rules(60),
            utc("2026-10-25T00:00:00Z"),
            utc("2026-10-26T00:00:00Z"),
            long_ago(),
        );
        assert_eq!(sat, [utc("2026-10-24T08:00:00Z")]);
        assert_eq!(sun, [utc("2026-10-25T09:00:00Z")]);
    }

    #[test]
    fn hours_inside_a_skipped_hour_start_when_the_clocks_resume() {
        // New York skips 02:00-03:00 on 8 March 2026; hours 01:30-04:00 are 90 minutes long.
        let host = every_weekday(New_York, t(1, 30), t(4, 0));
        let starts = host_starts(
            &host,
            &rules(30),
            utc("2026-03-08T00:00:00Z"),
            utc("2026-03-09T00:00:00Z"),
            long_ago(),
        );
        let local: Vec<String> = starts
            .iter()
            .map(|s| s.with_timezone(&New_York).format("%H:%M %Z").to_string())
            .collect();
        assert_eq!(local, ["01:30 EST", "03:00 EDT", "03:30 EDT"]);
    }

    #[test]
    fn a_repeated_hour_counts_once_and_whole() {
        // New York repeats 01:00-02:00 on 1 November 2026: hours 00:30-02:30 last three hours.
        let host = every_weekday(New_York, t(0, 30), t(2, 30));
        let starts = host_starts(
            &host,
            &rules(60),
            utc("2026-11-01T00:00:00Z"),
            utc("2026-11-02T00:00:00Z"),
            long_ago(),
        );
        assert_eq!(starts.len(), 3, "{starts:?}");
        assert_eq!(starts[0], utc("2026-11-01T04:30:00Z"), "00:30 EDT");
        assert_eq!(starts[2], utc("2026-11-01T06:30:00Z"), "01:30 EST");
    }

    #[test]
    fn a_visitor_in_another_zone_sees_the_same_instants() {
        // A London host at 16:00-17:00 on a winter Monday is 11:00-12:00 in New York.
        let host = every_weekday(London, t(16, 0), t(17, 0));
        let starts = host_starts(
            &host,
            &rules(60),
            utc("2026-12-07T00:00:00Z"),
            utc("2026-12-08T00:00:00Z"),
            long_ago(),
        );
        assert_eq!(starts.len(), 1);
        assert_eq!(
            starts[0]
                .with_timezone(&New_York)
                .format("%H:%M")
                .to_string(),
            "11:00"
        );
        // In the weeks when only the US has changed its clocks, the gap is four hours.
        let starts = host_starts(
            &host,
            &rules(60),
            utc("2026-03-16T00:00:00Z"),
            utc("2026-03-17T00:00:00Z"),
            long_ago(),
        );
        assert_eq!(
            starts[0]
                .with_timezone(&New_York)
                .format("%H:%M")
                .to_string(),
            "12:00"
        );
    }

    #[test]
    fn buffers_keep_distance_from_bookings() {
        let mut host = every_weekday(London, t(9, 0), t(12, 0));
        // A booking 10:00-10:30 UTC (winter), blocking 09:50-10:40 with its own buffers.
        host.busy
            .push((utc("2026-12-07T09:50:00Z"), utc("2026-12-07T10:40:00Z")));
        let rules = Rules {
            buffer_before: Duration::minutes(15),
            buffer_after: Duration::minutes(5),
            step: Duration::minutes(15),
            ..rules(30)
        };
        let starts = host_starts(
            &host,
            &rules,
            utc("2026-12-07T00:00:00Z"),
            utc("2026-12-08T00:00:00Z"),
            long_ago(),
        );
        let hhmm: Vec<String> = starts
            .iter()
            .map(|s| s.format("%H:%M").to_string())
            .collect();
        // 09:15 blocks until 09:50 exactly: touching is fine. 09:30 would block from 09:15,
        // inside the booking's block; 10:45 minus 15 = 10:30 too; 11:00 minus 15 = 10:45 is
        // free, and 11:30 still ends within working hours (its buffer may run past them).
        assert_eq!(hhmm, ["09:00", "09:15", "11:00", "11:15", "11:30"]);
    }

    #[test]
    fn notice_horizon_and_caps_limit_what_is_offered() {
        let mut host = every_weekday(London, t(9, 0), t(11, 0));
        let now = utc("2026-12-07T08:30:00Z");
        let rules = Rules {
            min_notice: Duration::hours(1),
            horizon: Duration::hours(49),
            daily_cap: Some(1),
            ..rules(60)
        };
        host.booked_per_day
            .insert(NaiveDate::from_ymd_opt(2026, 12, 8).expect("date"), 1);
        let starts = host_starts(
            &host,
            &rules,
            utc("2026-12-07T00:00:00Z"),
            utc("2026-12-14T00:00:00Z"),
            now,
        );
        let got: Vec<String> = starts
            .iter()
            .map(|s| s.format("%d %H:%M").to_string())
            .collect();
        // 7th 09:00 is within the hour of notice; the 8th is full; after the 9th 09:30 is
        // beyond the horizon.
        assert_eq!(got, ["07 10:00", "09 09:00"]);
    }

    #[test]
    fn overrides_take_days_off_and_add_hours() {
        let mut host = every_weekday(London, t(9, 0), t(10, 0));
        let monday = NaiveDate::from_ymd_opt(2026, 12, 7).expect("date");
        let tuesday = NaiveDate::from_ymd_opt(2026, 12, 8).expect("date");
        host.overrides.insert(monday, vec![Override::DayOff]);
        host.overrides.insert(
            tuesday,
            vec![Override::Extra(Interval {
                start: t(18, 0),
                end: t(19, 0),
            })],
        );
        let starts = host_starts(
            &host,
            &rules(60),
            utc("2026-12-07T00:00:00Z"),
            utc("2026-12-09T00:00:00Z"),
            long_ago(),
        );
        assert_eq!(
            starts,
            [utc("2026-12-08T09:00:00Z"), utc("2026-12-08T18:00:00Z")]
        );
    }

    #[test]
    fn slots_list_every_free_host() {
        let a = every_weekday(London, t(9, 0), t(10, 0));
        let b = every_weekday(London, t(9, 30), t(10, 30));
        let r = Rules {
            step: Duration::minutes(30),
            ..rules(30)
        };
        let all = slots(
            &[a.clone(), b.clone()],
            &r,
            utc("2026-12-07T00:00:00Z"),
            utc("2026-12-08T00:00:00Z"),
            long_ago(),
        );
        let summary: Vec<(String, usize)> = all
            .iter()
            .map(|s| (s.start.format("%H:%M").to_string(), s.hosts.len()))
            .collect();
        assert_eq!(
            summary,
            [
                ("09:00".into(), 1),
                ("09:30".into(), 2),
                ("10:00".into(), 1)
            ]
        );
        assert_eq!(all[1].hosts, [a.id, b.id]);
    }
}
