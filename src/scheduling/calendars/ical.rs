//! Busy times in iCalendar data (RFC 5545): the events of a feed or of CalDAV resources,
//! recurrences expanded, as instants in a window.
//!
//! Parsing is the `icalendar` crate's, recurrence rules the `rrule` crate's. What is read:
//! DTSTART/DTEND/DURATION (UTC, a TZID, floating times and all-day dates in the host's zone),
//! RRULE with RDATE and EXDATE, RECURRENCE-ID overrides (an override replaces its
//! occurrence, and a cancelled override removes it), and events that do not make anyone
//! busy (STATUS:CANCELLED, TRANSP:TRANSPARENT) are left out.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use icalendar::parser::{Component, Property, read_calendar, unfold};

/// One busy interval, and the UID of the event it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Busy {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub uid: String,
}

/// At most this many occurrences of one recurring event are expanded in a window.
const MAX_OCCURRENCES: u16 = 5_000;
/// At most this many busy intervals are kept from one calendar.
pub const MAX_BUSY: usize = 20_000;
/// Components nest this deep at most (VCALENDAR > VEVENT > VALARM is 3); deeper data is
/// refused before parsing, whose recursion would otherwise follow it.
const MAX_DEPTH: usize = 8;
/// The longest an event may last (longer ones are unreadable).
const MAX_LENGTH_DAYS: i64 = 366;

/// How deep BEGIN/END lines nest.
fn depth(ics: &str) -> usize {
    let starts = |line: &str, word: &[u8]| {
        line.as_bytes()
            .get(..word.len())
            .is_some_and(|b| b.eq_ignore_ascii_case(word))
    };
    let (mut depth, mut deepest) = (0usize, 0usize);
    for line in ics.lines() {
        let line = line.trim_start();
        if starts(line, b"BEGIN:") {
            depth += 1;
            deepest = deepest.max(depth);
        } else if starts(line, b"END:") {
            depth = depth.saturating_sub(1);
        }
    }
    deepest
}

/// What expanding recurrences may cost, in rule iterations, for one calendar; each
/// recurring event takes its estimate from it, and one that would overdraw it is
/// unreadable.
const ITERATION_BUDGET: u64 = 5_000_000;
/// The most one recurring event may cost.
const EVENT_ITERATIONS: u64 = 500_000;

/// When an event starts: an instant, or a date (all day).
#[derive(Debug, Clone, Copy)]
enum When {
    At(DateTime<Utc>),
    Day(NaiveDate),
}

/// The busy intervals of the events in `ics` that overlap `[from, to)`. Floating times and
/// all-day events are read in `zone`, the host's. An event that cannot be read is skipped
/// (and counted in the second value); data that is not iCalendar at all is an error.
pub fn busy_times(
    ics: &str,
    zone: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(Vec<Busy>, usize), String> {
    // Counted after unfolding: that is what the (recursive) parser reads.
    let unfolded = unfold(ics);
    if depth(&unfolded) > MAX_DEPTH {
        return Err(format!("components nest deeper than {MAX_DEPTH} levels"));
    }
    let calendar = read_calendar(&unfolded).map_err(|e| {
        let first = e
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(200)
            .collect::<String>();
        format!("not iCalendar data ({first})")
    })?;
    let mut events: Vec<&Component<'_>> = Vec::new();
    collect_events(&calendar.components, &mut events);
    // Overrides (RECURRENCE-ID) by UID: the instants they replace.
    let mut replaced: HashMap<String, HashSet<DateTime<Utc>>> = HashMap::new();
    for event in &events {
        if let (Some(uid), Some(id)) = (text(event, "UID"), prop(event, "RECURRENCE-ID")) {
            if let Some(when) = when_of(id, zone) {
                replaced
                    .entry(uid)
                    .or_default()
                    .insert(start_instant(when, zone));
            }
        }
    }
    let mut busy = Vec::new();
    let mut unreadable = 0;
    let mut budget = ITERATION_BUDGET;
    for event in events {
        // Past four times the cap nothing more is kept (the earliest are, after sorting).
        if busy.len() >= 4 * MAX_BUSY {
            unreadable += 1;
            continue;
        }
        match event_busy(event, zone, from, to, &replaced, &mut budget) {
            Ok(found) => busy.extend(found),
            Err(()) => unreadable += 1,
        }
    }
    busy.sort_by_key(|b| (b.start, b.end));
    busy.truncate(MAX_BUSY);
    Ok((busy, unreadable))
}

fn collect_events<'a>(components: &'a [Component<'a>], out: &mut Vec<&'a Component<'a>>) {
    for c in components {
        if c.name.as_str().eq_ignore_ascii_case("VEVENT") {
            out.push(c);
        } else if c.name.as_str().eq_ignore_ascii_case("VCALENDAR") {
            collect_events(&c.components, out);
        }
    }
}

fn prop<'a>(c: &'a Component<'a>, name: &str) -> Option<&'a Property<'a>> {
    c.properties
        .iter()
        .find(|p| p.name.as_str().eq_ignore_ascii_case(name))
}

fn props<'a>(c: &'a Component<'a>, name: &'a str) -> impl Iterator<Item = &'a Property<'a>> {
    c.properties
        .iter()
        .filter(move |p| p.name.as_str().eq_ignore_ascii_case(name))
}

fn text(c: &Component<'_>, name: &str) -> Option<String> {
    prop(c, name).map(|p| p.val.as_str().trim().to_owned())
}

fn param<'a>(p: &'a Property<'a>, key: &str) -> Option<&'a str> {
    p.params
        .iter()
        .find(|q| q.key.as_str().eq_ignore_ascii_case(key))
        .and_then(|q| q.val.as_ref().map(|v| v.as_str().trim_matches('"')))
}

/// Windows zone names (Outlook and Exchange write them as TZIDs) and the IANA zone each
/// stands for, after CLDR's windowsZones (territory 001).
const WINDOWS_ZONES: &[(&str, &str)] = &[
    ("Dateline Standard Time", "Etc/GMT+12"),
    ("UTC", "UTC"),
    ("Hawaiian Standard Time", "Pacific/Honolulu"),
    ("Alaskan Standard Time", "America/Anchorage"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("Pacific Standard Time (Mexico)", "America/Tijuana"),
    ("Mountain Standard Time", "America/Denver"),
    ("Mountain Standard Time (Mexico)", "America/Mazatlan"),
    ("US Mountain Standard Time", "America/Phoenix"),
    ("Central Standard Time", "America/Chicago"),
    ("Central Standard Time (Mexico)", "America/Mexico_City"),
    ("Canada Central Standard Time", "America/Regina"),
    ("Central America Standard Time", "America/Guatemala"),
    ("Eastern Standard Time", "America/New_York"),
    ("Eastern Standard Time (Mexico)", "America/Cancun"),
    ("US Eastern Standard Time", "America/Indiana/Indianapolis"),
    ("Cuba Standard Time", "America/Havana"),
    ("SA Pacific Standard Time", "America/Bogota"),
    ("Venezuela Standard Time", "America/Caracas"),
    ("Atlantic Standard Time", "America/Halifax"),
    ("SA Western Standard Time", "America/La_Paz"),
    ("Pacific SA Standard Time", "America/Santiago"),
    ("Paraguay Standard Time", "America/Asuncion"),
    ("Newfoundland Standard Time", "America/St_Johns"),
    ("E. South America Standard Time", "America/Sao_Paulo"),
    ("Argentina Standard Time", "America/Argentina/Buenos_Aires"),
    ("SA Eastern Standard Time", "America/Cayenne"),
    ("Montevideo Standard Time", "America/Montevideo"),
    ("Greenland Standard Time", "America/Nuuk"),
    ("Azores Standard Time", "Atlantic/Azores"),
    ("Cape Verde Standard Time", "Atlantic/Cape_Verde"),
    ("GMT Standard Time", "Europe/London"),
    ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    ("Morocco Standard Time", "Africa/Casablanca"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Romance Standard Time", "Europe/Paris"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("W. Central Africa Standard Time", "Africa/Lagos"),
    ("Namibia Standard Time", "Africa/Windhoek"),
    ("GTB Standard Time", "Europe/Bucharest"),
    ("E. Europe Standard Time", "Europe/Chisinau"),
    ("FLE Standard Time", "Europe/Kyiv"),
    ("Kaliningrad Standard Time", "Europe/Kaliningrad"),
    ("Israel Standard Time", "Asia/Jerusalem"),
    ("Egypt Standard Time", "Africa/Cairo"),
    ("South Africa Standard Time", "Africa/Johannesburg"),
    ("Jordan Standard Time", "Asia/Amman"),
    ("Middle East Standard Time", "Asia/Beirut"),
    ("Syria Standard Time", "Asia/Damascus"),
    ("Turkey Standard Time", "Europe/Istanbul"),
    ("Belarus Standard Time", "Europe/Minsk"),
    ("Russian Standard Time", "Europe/Moscow"),
    ("Arabic Standard Time", "Asia/Baghdad"),
    ("Arab Standard Time", "Asia/Riyadh"),
    ("E. Africa Standard Time", "Africa/Nairobi"),
    ("Iran Standard Time", "Asia/Tehran"),
    ("Arabian Standard Time", "Asia/Dubai"),
    ("Azerbaijan Standard Time", "Asia/Baku"),
    ("Georgian Standard Time", "Asia/Tbilisi"),
    ("Caucasus Standard Time", "Asia/Yerevan"),
    ("Mauritius Standard Time", "Indian/Mauritius"),
    ("Afghanistan Standard Time", "Asia/Kabul"),
    ("Ekaterinburg Standard Time", "Asia/Yekaterinburg"),
    ("Pakistan Standard Time", "Asia/Karachi"),
    ("West Asia Standard Time", "Asia/Tashkent"),
    ("India Standard Time", "Asia/Kolkata"),
    ("Sri Lanka Standard Time", "Asia/Colombo"),
    ("Nepal Standard Time", "Asia/Kathmandu"),
    ("Central Asia Standard Time", "Asia/Almaty"),
    ("Bangladesh Standard Time", "Asia/Dhaka"),
    ("Myanmar Standard Time", "Asia/Yangon"),
    ("N. Central Asia Standard Time", "Asia/Novosibirsk"),
    ("SE Asia Standard Time", "Asia/Bangkok"),
    ("North Asia Standard Time", "Asia/Krasnoyarsk"),
    ("China Standard Time", "Asia/Shanghai"),
    ("North Asia East Standard Time", "Asia/Irkutsk"),
    ("Singapore Standard Time", "Asia/Singapore"),
    ("W. Australia Standard Time", "Australia/Perth"),
    ("Taipei Standard Time", "Asia/Taipei"),
    ("Ulaanbaatar Standard Time", "Asia/Ulaanbaatar"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("Korea Standard Time", "Asia/Seoul"),
    ("Yakutsk Standard Time", "Asia/Yakutsk"),
    ("Cen. Australia Standard Time", "Australia/Adelaide"),
    ("AUS Central Standard Time", "Australia/Darwin"),
    ("E. Australia Standard Time", "Australia/Brisbane"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("Tasmania Standard Time", "Australia/Hobart"),
    ("West Pacific Standard Time", "Pacific/Port_Moresby"),
    ("Vladivostok Standard Time", "Asia/Vladivostok"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
    ("Fiji Standard Time", "Pacific/Fiji"),
    ("Tonga Standard Time", "Pacific/Tongatapu"),
    ("Samoa Standard Time", "Pacific/Apia"),
];

/// A TZID as a zone: an IANA name, also behind a vendor prefix
/// (`/mozilla.org/20050126_1/Europe/Berlin`), or a Windows zone name.
fn zone_named(tzid: &str) -> Option<Tz> {
    if let Ok(zone) = tzid.parse::<Tz>() {
        return Some(zone);
    }
    if let Some((_, iana)) = WINDOWS_ZONES
        .iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(tzid.trim()))
    {
        return iana.parse().ok();
    }
    let parts: Vec<&str> = tzid.split('/').collect();
    (1..parts.len()).find_map(|i| parts[i..].join("/").parse::<Tz>().ok())
}

/// A local time in `zone` as an instant (the earlier of two in a fold, the first valid one
/// after a gap).
fn local(zone: Tz, naive: NaiveDateTime) -> DateTime<Utc> {
    let mut at = naive;
    for _ in 0..4 {
        if let Some(t) = zone.from_local_datetime(&at).earliest() {
            return t.with_timezone(&Utc);
        }
        at += Duration::minutes(30);
    }
    Utc.from_utc_datetime(&naive)
}

fn midnight(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    local(zone, day.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// One value of DTSTART, DTEND, RECURRENCE-ID, EXDATE or RDATE.
fn parse_value(value: &str, tzid: Option<&str>, zone: Tz) -> Option<When> {
    let value = value.trim();
    if value.len() == 8 {
        return NaiveDate::parse_from_str(value, "%Y%m%d")
            .ok()
            .map(When::Day);
    }
    if let Some(utc) = value.strip_suffix('Z') {
        let naive = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").ok()?;
        return Some(When::At(Utc.from_utc_datetime(&naive)));
    }
    let naive = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S").ok()?;
    let in_zone = tzid.and_then(zone_named).unwrap_or(zone);
    Some(When::At(local(in_zone, naive)))
}

fn when_of(p: &Property<'_>, zone: Tz) -> Option<When> {
    let value = p.val.as_str();
    let tzid = param(p, "TZID");
    if param(p, "VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE")) {
        return NaiveDate::parse_from_str(value.trim(), "%Y%m%d")
            .ok()
            .map(When::Day);
    }
    parse_value(value, tzid, zone)
}

/// Every value of a list property (EXDATE and RDATE may hold several, comma-separated).
fn list_values(p: &Property<'_>, zone: Tz) -> Vec<When> {
    let tzid = param(p, "TZID");
    let dates = param(p, "VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
    p.val
        .as_str()
        .split(',')
        .filter_map(|v| {
            if dates {
                NaiveDate::parse_from_str(v.trim(), "%Y%m%d")
                    .ok()
                    .map(When::Day)
            } else {
                parse_value(v, tzid, zone)
            }
        })
        .collect()
}

fn start_instant(when: When, zone: Tz) -> DateTime<Utc> {
    match when {
        When::At(t) => t,
        When::Day(d) => midnight(zone, d),
    }
}

/// An RFC 5545 duration (`P1D`, `PT1H30M`, `P2W`, `-PT15M`), at most [`MAX_LENGTH_DAYS`].
fn parse_duration(value: &str) -> Option<Duration> {
    let value = value.trim();
    let (negative, rest) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value.strip_prefix('+').unwrap_or(value)),
    };
    let rest = rest.strip_prefix('P')?;
    let mut seconds: i64 = 0;
    let mut number = String::new();
    let mut in_time = false;
    for c in rest.chars() {
        match c {
            '0'..='9' => number.push(c),
            'T' => in_time = true,
            unit => {
                let n: i64 = number.parse().ok()?;
                number.clear();
                let per = match (unit, in_time) {
                    ('W', false) => 7 * 86_400,
                    ('D', false) => 86_400,
                    ('H', true) => 3_600,
                    ('M', true) => 60,
                    ('S', true) => 1,
                    _ => return None,
                };
                seconds = seconds.checked_add(n.checked_mul(per)?)?;
            }
        }
    }
    if !number.is_empty() || seconds > MAX_LENGTH_DAYS * 86_400 {
        return None;
    }
    let total = Duration::try_seconds(seconds)?;
    Some(if negative { -total } else { total })
}

/// Whether the event makes its attendees busy at all.
fn blocks(event: &Component<'_>) -> bool {
    let cancelled = text(event, "STATUS").is_some_and(|s| s.eq_ignore_ascii_case("CANCELLED"));
    let transparent = text(event, "TRANSP").is_some_and(|s| s.eq_ignore_ascii_case("TRANSPARENT"));
    !cancelled && !transparent
}

/// How long each occurrence lasts: from DTEND, DURATION, or (RFC 5545 3.6.1) a day for a
/// date and nothing for a time.
enum Length {
    Fixed(Duration),
    Days(i64),
}

fn length(event: &Component<'_>, start: When, zone: Tz) -> Option<Length> {
    if let Some(end) = prop(event, "DTEND").and_then(|p| when_of(p, zone)) {
        let length = match (start, end) {
            (When::Day(s), When::Day(e)) => Length::Days((e - s).num_days().max(1)),
            (s, e) => Length::Fixed(start_instant(e, zone) - start_instant(s, zone)),
        };
        let days = match &length {
            Length::Days(n) => *n,
            Length::Fixed(d) => d.num_days(),
        };
        return (days <= MAX_LENGTH_DAYS).then_some(length);
    }
    if let Some(d) = prop(event, "DURATION") {
        let d = parse_duration(d.val.as_str())?;
        return Some(match start {
            When::Day(_) if d.num_seconds() % 86_400 == 0 => Length::Days(d.num_days().max(1)),
            _ => Length::Fixed(d),
        });
    }
    Some(match start {
        When::Day(_) => Length::Days(1),
        When::At(_) => Length::Fixed(Duration::zero()),
    })
}

fn interval(start: When, length: &Length, zone: Tz) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let days = |n: i64| Duration::try_days(n);
    match (start, length) {
        (When::Day(d), Length::Days(n)) => {
            let end = d.checked_add_signed(days(*n)?)?;
            Some((midnight(zone, d), midnight(zone, end)))
        }
        (s, Length::Days(n)) => {
            let at = start_instant(s, zone);
            Some((at, at.checked_add_signed(days(*n)?)?))
        }
        (s, Length::Fixed(d)) => {
            let at = start_instant(s, zone);
            Some((at, at.checked_add_signed(*d)?))
        }
    }
}

fn event_busy(
    event: &Component<'_>,
    zone: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    replaced: &HashMap<String, HashSet<DateTime<Utc>>>,
    budget: &mut u64,
) -> Result<Vec<Busy>, ()> {
    if !blocks(event) {
        return Ok(Vec::new());
    }
    let uid = text(event, "UID").unwrap_or_default();
    let start = prop(event, "DTSTART")
        .and_then(|p| when_of(p, zone))
        .ok_or(())?;
    let length = length(event, start, zone).ok_or(())?;
    let is_override = prop(event, "RECURRENCE-ID").is_some();
    let mut starts: Vec<When> = vec![start];
    if !is_override {
        if let Some(rule) = prop(event, "RRULE") {
            starts = occurrences(event, rule, start, zone, from, to, budget)?;
        }
        for rdate in props(event, "RDATE") {
            starts.extend(list_values(rdate, zone));
        }
        let excluded: HashSet<DateTime<Utc>> = props(event, "EXDATE")
            .flat_map(|p| list_values(p, zone))
            .map(|w| start_instant(w, zone))
            .chain(replaced.get(&uid).into_iter().flatten().copied())
            .collect();
        starts.retain(|w| !excluded.contains(&start_instant(*w, zone)));
    }
    Ok(starts
        .into_iter()
        .filter_map(|s| interval(s, &length, zone))
        .filter(|(s, e)| e > s && *s < to && *e > from)
        .map(|(start, end)| Busy {
            start,
            end,
            uid: uid.clone(),
        })
        .collect())
}

/// The starts of a recurring event in the window (widened by a day each side, so an
/// occurrence that began before `from` and lasts into it is kept).
fn occurrences(
    event: &Component<'_>,
    rule: &Property<'_>,
    start: When,
    zone: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    budget: &mut u64,
) -> Result<Vec<When>, ()> {
    // The rule runs in the zone of DTSTART (so 10:00 stays 10:00 across a DST change).
    let (rrule_zone, local_start): (rrule::Tz, NaiveDateTime) = match start {
        When::Day(d) => (zone.into(), d.and_hms_opt(0, 0, 0).ok_or(())?),
        When::At(at) => {
            let dtstart = prop(event, "DTSTART").ok_or(())?;
            let named = param(dtstart, "TZID").and_then(zone_named);
            let value = dtstart.val.as_str().trim();
            match named {
                Some(z) => (z.into(), at.with_timezone(&z).naive_local()),
                None if value.ends_with('Z') => (rrule::Tz::UTC, at.naive_utc()),
                None => (zone.into(), at.with_timezone(&zone).naive_local()),
            }
        }
    };
    let dt_start = rrule_zone
        .from_local_datetime(&local_start)
        .earliest()
        .ok_or(())?;
    let (rule, cost) = checked_rule(
        rule.val.as_str(),
        rrule_zone,
        zone,
        dt_start.with_timezone(&Utc),
        to,
    )?;
    *budget = budget.checked_sub(cost).ok_or(())?;
    let parsed: rrule::RRule<rrule::Unvalidated> = rule.parse().map_err(|_| ())?;
    let margin = Duration::days(1) + longest(event, start, zone);
    let set = rrule::RRuleSet::new(dt_start)
        .rrule(parsed.validate(dt_start).map_err(|_| ())?)
        .after((from - margin).with_timezone(&rrule_zone))
        .before(to.with_timezone(&rrule_zone));
    let result = set.all(MAX_OCCURRENCES);
    Ok(result
        .dates
        .into_iter()
        .map(|d| match start {
            When::Day(_) => When::Day(d.date_naive()),
            When::At(_) => When::At(d.with_timezone(&Utc)),
        })
        .collect())
}

/// The rule made safe to expand, with what expanding it may cost (rule iterations, from
/// DTSTART to the window's end). UNTIL becomes a UTC time (RFC 5545 lets it be a date, or a
/// floating time, where the `rrule` crate wants UTC for a zoned start). Refused: what is
/// not ASCII, sub-daily frequencies, and rules whose cost passes [`EVENT_ITERATIONS`].
fn checked_rule(
    rule: &str,
    rule_zone: rrule::Tz,
    zone: Tz,
    start: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(String, u64), ()> {
    if !rule.is_ascii() {
        return Err(());
    }
    let mut parts = Vec::new();
    let mut per_year: u64 = 0;
    let mut spread: u64 = 1;
    for part in rule.trim().split(';').filter(|p| !p.is_empty()) {
        let (key, value) = part.split_once('=').ok_or(())?;
        let key = key.trim().to_ascii_uppercase();
        let value = value.trim().to_ascii_uppercase();
        match key.as_str() {
            "FREQ" => {
                per_year = match value.as_str() {
                    "YEARLY" => 1,
                    "MONTHLY" => 12,
                    "WEEKLY" => 53,
                    "DAILY" => 366,
                    _ => return Err(()),
                };
            }
            "BYMONTH" | "BYWEEKNO" | "BYYEARDAY" | "BYMONTHDAY" | "BYDAY" | "BYHOUR"
            | "BYMINUTE" | "BYSECOND" | "BYSETPOS" => {
                spread = spread.saturating_mul(value.split(',').count() as u64);
            }
            "UNTIL" if !value.ends_with('Z') => {
                let until = match parse_value(&value, None, zone).ok_or(())? {
                    // Inclusive: every occurrence on that date.
                    When::Day(d) => midnight(zone, d.succ_opt().ok_or(())?) - Duration::seconds(1),
                    When::At(_) => {
                        let naive = NaiveDateTime::parse_from_str(&value, "%Y%m%dT%H%M%S")
                            .map_err(|_| ())?;
                        rule_zone
                            .from_local_datetime(&naive)
                            .earliest()
                            .ok_or(())?
                            .with_timezone(&Utc)
                    }
                };
                parts.push(format!("UNTIL={}", until.format("%Y%m%dT%H%M%SZ")));
                continue;
            }
            _ => {}
        }
        parts.push(format!("{key}={value}"));
    }
    let years = u64::try_from((to - start).num_days() / 365).unwrap_or(0) + 1;
    let cost = per_year.saturating_mul(years).saturating_mul(spread);
    if per_year == 0 || cost > EVENT_ITERATIONS {
        return Err(());
    }
    Ok((parts.join(";"), cost))
}

fn longest(event: &Component<'_>, start: When, zone: Tz) -> Duration {
    match length(event, start, zone) {
        Some(Length::Fixed(d)) => d.max(Duration::zero()),
        Some(Length::Days(n)) => Duration::days(n),
        None => Duration::zero(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    fn busy(ics: &str) -> Vec<(String, String)> {
        let (found, unreadable) = busy_times(
            ics,
            chrono_tz::Europe::London,
            utc("2026-12-01T00:00:00Z"),
            utc("2027-01-01T00:00:00Z"),
        )
        .expect("parses");
        assert_eq!(unreadable, 0);
        found
            .into_iter()
            .map(|b| (b.start.to_rfc3339(), b.end.to_rfc3339()))
            .collect()
    }

    fn cal(events: &str) -> String {
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{events}END:VCALENDAR\r\n")
    }

    #[test]
    fn a_weekly_meeting_with_an_exception_a_move_and_a_cancelled_instance() {
        let ics = cal(concat!(
            "BEGIN:VEVENT\r\nUID:weekly\r\nDTSTART;TZID=Europe/London:20261207T100000\r\n",
            "DTEND;TZID=Europe/London:20261207T110000\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\n",
            "EXDATE;TZID=Europe/London:20261214T100000\r\nEND:VEVENT\r\n",
            // The third one moved to the afternoon.
            "BEGIN:VEVENT\r\nUID:weekly\r\nRECURRENCE-ID;TZID=Europe/London:20261221T100000\r\n",
            "DTSTART;TZID=Europe/London:20261221T150000\r\nDTEND;TZID=Europe/London:20261221T160000\r\nEND:VEVENT\r\n",
            // The fourth one cancelled.
            "BEGIN:VEVENT\r\nUID:weekly\r\nRECURRENCE-ID:20261228T100000Z\r\nSTATUS:CANCELLED\r\n",
            "DTSTART:20261228T100000Z\r\nDTEND:20261228T110000Z\r\nEND:VEVENT\r\n",
        ));
        assert_eq!(
            busy(&ics),
            vec![
                (
                    "2026-12-07T10:00:00+00:00".into(),
                    "2026-12-07T11:00:00+00:00".into()
                ),
                (
                    "2026-12-21T15:00:00+00:00".into(),
                    "2026-12-21T16:00:00+00:00".into()
                ),
            ]
        );
    }

    #[test]
    fn zones_all_day_events_durations_and_what_does_not_block() {
        let ics = cal(concat!(
            // 09:00 in New York is 14:00 in London.
            "BEGIN:VEVENT\r\nUID:ny\r\nDTSTART;TZID=America/New_York:20261208T090000\r\nDURATION:PT30M\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:day\r\nDTSTART;VALUE=DATE:20261209\r\nDTEND;VALUE=DATE:20261210\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:free\r\nDTSTART:20261210T100000Z\r\nDTEND:20261210T110000Z\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:off\r\nDTSTART:20261211T100000Z\r\nDTEND:20261211T110000Z\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:old\r\nDTSTART:20251211T100000Z\r\nDTEND:20251211T110000Z\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:vendor\r\nDTSTART;TZID=/mozilla.org/20050126_1/Europe/Berlin:20261215T100000\r\nDTEND;TZID=/mozilla.org/20050126_1/Europe/Berlin:20261215T103000\r\nEND:VEVENT\r\n",
        ));
        assert_eq!(
            busy(&ics),
            vec![
                (
                    "2026-12-08T14:00:00+00:00".into(),
                    "2026-12-08T14:30:00+00:00".into()
                ),
                (
                    "2026-12-09T00:00:00+00:00".into(),
                    "2026-12-10T00:00:00+00:00".into()
                ),
                (
                    "2026-12-15T09:00:00+00:00".into(),
                    "2026-12-15T09:30:00+00:00".into()
                ),
            ]
        );
    }

    #[test]
    fn a_daily_rule_from_years_ago_keeps_its_wall_clock_time_in_the_window() {
        let ics = cal(concat!(
            "BEGIN:VEVENT\r\nUID:standup\r\nDTSTART;TZID=Europe/London:20200106T093000\r\n",
            "DTEND;TZID=Europe/London:20200106T094500\r\nRRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20261215T000000Z\r\nEND:VEVENT\r\n",
        ));
        assert_eq!(
            busy(&ics),
            vec![
                (
                    "2026-12-07T09:30:00+00:00".into(),
                    "2026-12-07T09:45:00+00:00".into()
                ),
                (
                    "2026-12-14T09:30:00+00:00".into(),
                    "2026-12-14T09:45:00+00:00".into()
                ),
            ]
        );
    }

    #[test]
    fn what_is_not_icalendar_is_an_error_and_a_broken_event_is_counted() {
        assert!(busy_times("<html>", Tz::UTC, Utc::now(), Utc::now()).is_err());
        let ics = cal("BEGIN:VEVENT\r\nUID:x\r\nDTSTART:not-a-date\r\nEND:VEVENT\r\n");
        let (found, unreadable) = busy_times(
            &ics,
            Tz::UTC,
            utc("2026-12-01T00:00:00Z"),
            utc("2027-01-01T00:00:00Z"),
        )
        .expect("parses");
        assert!(found.is_empty());
        assert_eq!(unreadable, 1);
    }

    #[test]
    fn hostile_calendars_are_refused_or_skipped_without_panicking() {
        let window = (utc("2026-12-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"));
        let run = |ics: &str| busy_times(ics, Tz::UTC, window.0, window.1);
        // Nesting that would overflow a recursive parser, also folded to hide it.
        assert!(run(&"BEGIN:X\r\n".repeat(100_000)).is_err());
        assert!(run(&"BEG\r\n IN:X\r\n".repeat(100_000)).is_err());
        // Text that is not ASCII where a keyword could start is only text.
        let ics = cal(
            "BEGIN:VEVENT\r\nUID:jp\r\nDTSTART:20261207T100000Z\r\nDTEND:20261207T110000Z\r\nDESCRIPTION:議題\r\n 会議の議題\r\nEND:VEVENT\r\n",
        );
        assert_eq!(run(&ics).expect("parses").0.len(), 1);
        for event in [
            "DTSTART:20261207T100000Z\r\nDURATION:P9999999999999W",
            "DTSTART;VALUE=DATE:20261207\r\nDURATION:P99999999D",
            "DTSTART:20261207T100000Z\r\nDTEND:99991231T000000Z",
            "DTSTART:00010101T000000Z\r\nRRULE:FREQ=SECONDLY",
            "DTSTART:00010101T000000Z\r\nRRULE:FREQ=DAILY",
            "DTSTART:00010101T000000Z\r\nRRULE:FREQ=YEARLY;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12;BYMONTHDAY=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28",
            "DTSTART:20261201T000000Z\r\nRRULE:FREQ=WEEKLY;BYDAY=会議",
            "DTSTART:20261201T000000Z\r\nRRULE:FREQ=FORTNIGHTLY",
        ] {
            let ics = cal(&format!(
                "BEGIN:VEVENT\r\nUID:x\r\n{event}\r\nEND:VEVENT\r\n"
            ));
            let (found, unreadable) = run(&ics).expect("parses");
            assert!(found.is_empty() && unreadable == 1, "{event}: {found:?}");
        }
    }

    #[test]
    fn a_recurring_all_day_event_ends_on_its_until_date() {
        let ics = cal(concat!(
            "BEGIN:VEVENT\r\nUID:away\r\nDTSTART;VALUE=DATE:20261207\r\n",
            "RRULE:FREQ=DAILY;UNTIL=20261208\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:floating\r\nDTSTART:20261214T100000\r\nDTEND:20261214T103000\r\n",
            "RRULE:FREQ=WEEKLY;UNTIL=20261221T100000\r\nEND:VEVENT\r\n",
        ));
        assert_eq!(
            busy(&ics),
            vec![
                (
                    "2026-12-07T00:00:00+00:00".into(),
                    "2026-12-08T00:00:00+00:00".into()
                ),
                (
                    "2026-12-08T00:00:00+00:00".into(),
                    "2026-12-09T00:00:00+00:00".into()
                ),
                (
                    "2026-12-14T10:00:00+00:00".into(),
                    "2026-12-14T10:30:00+00:00".into()
                ),
                (
                    "2026-12-21T10:00:00+00:00".into(),
                    "2026-12-21T10:30:00+00:00".into()
                ),
            ]
        );
    }

    #[test]
    fn windows_zone_names_are_read() {
        for (windows, iana) in WINDOWS_ZONES {
            assert!(
                iana.parse::<Tz>().is_ok(),
                "{windows} → {iana} is not a zone"
            );
        }
        let ics = cal(
            "BEGIN:VEVENT\r\nUID:o\r\nDTSTART;TZID=W. Europe Standard Time:20261208T100000\r\nDTEND;TZID=W. Europe Standard Time:20261208T110000\r\nEND:VEVENT\r\n",
        );
        assert_eq!(
            busy(&ics),
            vec![(
                "2026-12-08T09:00:00+00:00".into(),
                "2026-12-08T10:00:00+00:00".into()
            )]
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("PT1H30M"), Some(Duration::minutes(90)));
        assert_eq!(parse_duration("P1W"), Some(Duration::weeks(1)));
        assert_eq!(parse_duration("P1DT2H"), Some(Duration::hours(26)));
        assert_eq!(parse_duration("-PT15M"), Some(Duration::minutes(-15)));
        assert_eq!(parse_duration("1H"), None);
    }
}
