//! The built-in engine: no network, no model. It recognises what the visitor wants, answers
//! from the site's own content with its sources, and walks the visitor through a quote or a
//! booking step by step, remembering where it is in the conversation's state. When the
//! content does not cover a question, it says so and offers a person.

use chrono_tz::Tz;

use super::model::{
    Action, BookingQuestion, Flow, Part, QuotePrefill, QuoteQuestion, Reply, SlotOption, Source,
    State,
};
use super::tools::{self, CallKind, Ctx};
use super::understand::{self, Intent};
use crate::error::Result;
use crate::scheduling::BookingRequest;

pub const SLOTS_SHOWN: usize = 5;

fn action(method: &str, path: &str) -> Action {
    Action {
        method: method.into(),
        path: path.into(),
    }
}

pub async fn greeting(ctx: &Ctx) -> Result<Reply> {
    let firm = crate::site::get(&ctx.app.db)
        .await?
        .map_or_else(|| "us".to_owned(), |s| s.firm_name);
    Ok(Reply::builtin(
        Intent::Greeting,
        format!(
            "Hello! I'm the assistant of {firm}. I can help you explore our services, get a custom \
             quote, or schedule a call — or answer a question from what we've written. What brings you here?"
        ),
        Vec::new(),
    ))
}

pub async fn reply(ctx: &Ctx, state: &mut State, text: &str) -> Result<Reply> {
    let wants_out = matches!(
        understand::normalize(text).as_str(),
        "cancel" | "stop" | "never mind" | "nevermind" | "forget it" | "no thanks" | "start over"
    );
    match std::mem::take(&mut state.flow) {
        Flow::Idle => {}
        _ if wants_out => {
            return Ok(Reply::builtin(
                Intent::Question,
                "No problem — I've dropped that. What else can I help with?",
                Vec::new(),
            ));
        }
        flow @ Flow::Booking { .. } if declines_the_times(&flow, text) => {
            let mut reply = human(ctx, Intent::Scheduling).await?;
            reply.text = format!("No problem — nothing is booked. {}", reply.text);
            return Ok(reply);
        }
        // A question in the middle of a flow is answered, and the flow goes on where it was.
        flow @ (Flow::Booking { .. } | Flow::Quote { .. }) if may_be_aside(&flow, text) => {
            if let Some(reply) = aside(ctx, text).await? {
                return Ok(resume(reply, state, flow));
            }
            match flow {
                // Not a choice of time, or not an answer to the quote's question, but
                // something else entirely: answered as a new message.
                flow @ Flow::Booking { .. } if asks_something_else(&flow, text) => {}
                flow @ Flow::Quote { .. } if leaves_the_quote(&flow, text) => {}
                Flow::Quote { draft, asking } => {
                    return quote_step(ctx, state, draft, asking, text).await;
                }
                flow => return booking_flow(ctx, state, flow, text).await,
            }
        }
        flow @ Flow::Booking { .. } if asks_something_else(&flow, text) => {}
        flow @ Flow::Quote { .. } if leaves_the_quote(&flow, text) => {}
        Flow::Quote { draft, asking } => return quote_step(ctx, state, draft, asking, text).await,
        flow @ Flow::Booking { .. } => return booking_flow(ctx, state, flow, text).await,
        Flow::CallOffered { name, email } => match understand::yes_no(text) {
            Some(true) => return start_booking(ctx, state, text, name, email).await,
            Some(false) => {
                return Ok(Reply::builtin(
                    Intent::Thanks,
                    "Alright. Anything else I can help with?",
                    Vec::new(),
                ));
            }
            // Something else entirely: answer it as a new message.
            None => {}
        },
    }
    let requests = understand::requests(text);
    if requests.len() > 1 {
        return several(ctx, state, requests).await;
    }
    single(ctx, state, text).await
}

/// A message asking for one thing.
async fn single(ctx: &Ctx, state: &mut State, text: &str) -> Result<Reply> {
    let intent = understand::intent(text);
    // A question about a topic that mentions contact, services or costs in passing ("how
    // do you make contact forms accessible?") is answered from what we wrote about it.
    let in_passing = matches!(intent, Intent::Contact | Intent::Services | Intent::Human)
        || (intent == Intent::Quote && !understand::wants_a_quote(text));
    if in_passing
        && understand::is_question(text)
        && understand::topic_ideas(text, intent).len() >= 2
    {
        let found = tools::answers(ctx, text, 3).await?;
        if !found.is_empty() {
            let mut reply = cite(found);
            match intent {
                Intent::Quote => reply.text.push_str(
                    " If you'd like an estimate for your own project, just ask me for a quote.",
                ),
                Intent::Human => {
                    let person = human(ctx, intent).await?;
                    reply.text = format!("{}\n\n{}", reply.text, person.text);
                    reply.parts.extend(person.parts);
                }
                _ => {}
            }
            return Ok(reply);
        }
        // "Do you do Salesforce consulting?" names something we have not written about:
        // saying so beats listing everything else.
        if matches!(intent, Intent::Services | Intent::Contact) {
            return answer(ctx, text).await;
        }
    }
    match intent {
        Intent::Greeting => greeting(ctx).await,
        Intent::Thanks => Ok(thanks(text)),
        Intent::Services => services(ctx).await,
        // "How do you estimate a project?" asks how, not for a quote: what we wrote answers
        // it, and a quote is offered.
        Intent::Quote if understand::is_question(text) && !understand::wants_a_quote(text) => {
            let found = tools::answers(ctx, text, 3).await?;
            if found.is_empty() {
                return start_quote(ctx, state, text).await;
            }
            let mut reply = cite(found);
            reply.text.push_str(
                " If you'd like an estimate for your own project, just ask me for a quote.",
            );
            Ok(reply)
        }
        Intent::Quote => start_quote(ctx, state, text).await,
        Intent::Scheduling => start_booking(ctx, state, text, None, None).await,
        Intent::Contact | Intent::Human => human(ctx, intent).await,
        Intent::Question => answer(ctx, text).await,
    }
}

/// A message asking for several things: each answered in turn, the one that starts a quote
/// or a booking last (only one can be under way).
async fn several(ctx: &Ctx, state: &mut State, requests: Vec<(String, Intent)>) -> Result<Reply> {
    let starts_a_flow = |(text, intent): &(String, Intent)| match intent {
        Intent::Scheduling => true,
        Intent::Quote => !understand::is_question(text) || understand::wants_a_quote(text),
        _ => false,
    };
    let (flows, asides): (Vec<_>, Vec<_>) = requests
        .into_iter()
        // Hello and thanks go without saying when there is something to answer.
        .filter(|(_, intent)| !matches!(intent, Intent::Greeting | Intent::Thanks))
        .partition(starts_a_flow);
    let mut replies = Vec::new();
    for (text, _) in asides.iter().chain(flows.last()) {
        replies.push(single(ctx, state, text).await?);
    }
    let Some(last) = replies.pop() else {
        return greeting(ctx).await;
    };
    let mut text = String::new();
    let mut parts = Vec::new();
    for reply in replies {
        text.push_str(&reply.text);
        text.push_str("\n\n");
        parts.extend(reply.parts);
    }
    text.push_str(&last.text);
    parts.extend(last.parts);
    Ok(Reply::builtin(
        last.intent,
        text,
        one_list_of_sources(parts),
    ))
}

/// The parts with every source in one list, each once, where the first list was.
fn one_list_of_sources(parts: Vec<Part>) -> Vec<Part> {
    let mut sources: Vec<Source> = Vec::new();
    let mut merged = Vec::new();
    let mut at = None;
    for part in parts {
        match part {
            Part::Sources { items } => {
                at.get_or_insert(merged.len());
                for item in items {
                    if !sources.contains(&item) {
                        sources.push(item);
                    }
                }
            }
            other => merged.push(other),
        }
    }
    if let Some(at) = at {
        merged.insert(at, Part::Sources { items: sources });
    }
    merged
}

fn thanks(text: &str) -> Reply {
    let normalized = understand::normalize(text);
    let leaving = ["bye", "goodbye", "see you", "see ya", "that's all"]
        .iter()
        .any(|p| normalized.contains(p));
    Reply::builtin(
        Intent::Thanks,
        if leaving {
            "Thanks for stopping by — come back any time. If anything comes up, you can also book a call or ask for a quote here."
        } else {
            "You're welcome! Anything else — a question, a quote, or a call?"
        },
        Vec::new(),
    )
}

async fn start_quote(ctx: &Ctx, state: &mut State, text: &str) -> Result<Reply> {
    let mut draft = QuotePrefill::default();
    absorb(&mut draft, text, None);
    if understand::search_terms(text).split(' ').count() >= 4 {
        draft.description = Some(text.trim().to_owned());
    }
    ask_next(ctx, state, draft, Intent::Quote).await
}

/// Whether a message in a flow may be about something else: phrased as a question, and
/// not the answer the flow asked for (a time's number, a yes or no to consent).
fn may_be_aside(flow: &Flow, text: &str) -> bool {
    let consent = matches!(
        flow,
        Flow::Quote {
            asking: QuoteQuestion::Consent,
            ..
        } | Flow::Booking {
            asking: BookingQuestion::Consent,
            ..
        }
    );
    let picks = matches!(flow, Flow::Booking { asking: BookingQuestion::Slot, offered, .. }
        if understand::choice(text, offered.len()).is_some());
    let answers_consent = consent && understand::yes_no(text).is_some();
    !(picks || answers_consent)
        && understand::email(text).is_none()
        && (understand::is_question(text)
            || matches!(
                understand::intent(text),
                Intent::Contact | Intent::Human | Intent::Services
            ))
}

/// An answer to something asked in passing: contact details, the services, or what the
/// content says about a question; none when the content has no answer.
async fn aside(ctx: &Ctx, text: &str) -> Result<Option<Reply>> {
    match understand::intent(text) {
        intent @ (Intent::Contact | Intent::Human) => Ok(Some(human(ctx, intent).await?)),
        Intent::Services => Ok(Some(services(ctx).await?)),
        Intent::Scheduling => Ok(None),
        Intent::Quote if understand::wants_a_quote(text) => Ok(None),
        _ => {
            let found = tools::answers(ctx, text, 3).await?;
            Ok((!found.is_empty()).then(|| cite(found)))
        }
    }
}

/// The aside's answer, then the flow's question again; the flow stays where it was.
fn resume(mut reply: Reply, state: &mut State, flow: Flow) -> Reply {
    let again = match &flow {
        Flow::Quote { asking, .. } => {
            let question = QUOTE_QUESTIONS
                .iter()
                .find(|(q, _)| q == asking)
                .map_or(CONSENT_QUESTION, |(_, text)| *text);
            format!("Back to your quote: {question}")
        }
        Flow::Booking {
            asking: BookingQuestion::Slot,
            ..
        } => "When you're ready, pick one of the times I offered by its number.".to_owned(),
        Flow::Booking {
            asking: BookingQuestion::Name,
            ..
        } => "Back to your booking: what's your name?".to_owned(),
        Flow::Booking {
            asking: BookingQuestion::Email,
            ..
        } => "Back to your booking: which email address should the invite go to?".to_owned(),
        Flow::Booking { .. } => {
            "Back to your booking: may we store your details to hold the call? Please answer yes or no."
                .to_owned()
        }
        _ => String::new(),
    };
    if !again.is_empty() {
        reply.text = format!("{}\n\n{again}", reply.text);
    }
    state.flow = flow;
    reply
}

/// Whether the visitor, shown times to choose from, turned them all down.
fn declines_the_times(flow: &Flow, text: &str) -> bool {
    is_choosing_a_time(flow, text) && understand::yes_no(text) == Some(false)
}

/// Whether the visitor, shown times to choose from, moved on to another subject.
fn asks_something_else(flow: &Flow, text: &str) -> bool {
    is_choosing_a_time(flow, text)
        && !matches!(
            understand::intent(text),
            Intent::Question | Intent::Scheduling
        )
}

/// Whether a message in the middle of a quote answers nothing it asked and wants something
/// else (the phone number, a call, the services).
fn leaves_the_quote(flow: &Flow, text: &str) -> bool {
    let Flow::Quote { draft, asking } = flow else {
        return false;
    };
    let mut answered = draft.clone();
    absorb(&mut answered, text, Some(*asking));
    *asking != QuoteQuestion::Consent
        && answered == *draft
        && !matches!(
            understand::intent(text),
            Intent::Question | Intent::Quote | Intent::Thanks
        )
}

/// Asked to pick a time, and the message picks none.
fn is_choosing_a_time(flow: &Flow, text: &str) -> bool {
    matches!(flow, Flow::Booking { asking, offered, .. }
        if *asking == BookingQuestion::Slot && understand::choice(text, offered.len()).is_none())
}

async fn services(ctx: &Ctx) -> Result<Reply> {
    let items = tools::list_services(ctx).await?;
    if items.is_empty() {
        return human(ctx, Intent::Services).await;
    }
    let names: Vec<String> = items.iter().map(|s| s.title.clone()).collect();
    let sources = items
        .iter()
        .map(|s| Source {
            kind: "service".into(),
            slug: s.slug.clone(),
            title: s.title.clone(),
            path: format!("/v1/services/{}", s.slug),
        })
        .collect();
    Ok(Reply::builtin(
        Intent::Services,
        format!(
            "We offer {}. Would you like a quote for a project, or a call to talk it through?",
            join_words(&names)
        ),
        vec![Part::Services { items }, Part::Sources { items: sources }],
    ))
}

fn join_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
    }
}

/// Answers from the site's content, citing it; honest when the content says nothing.
async fn answer(ctx: &Ctx, text: &str) -> Result<Reply> {
    let found = tools::answers(ctx, text, 3).await?;
    if !found.is_empty() {
        return Ok(cite(found));
    }
    // "Can you build us X?" asks what we do: say what we offer, without claiming X.
    if understand::asks_to_build(text) {
        let mut reply = services(ctx).await?;
        reply.text = format!(
            "I can't see that among what we've written about, so I won't promise it — but here is what we do. {}",
            reply.text
        );
        return Ok(reply);
    }
    let mut reply = human(ctx, Intent::Question).await?;
    reply.text = format!(
        "I don't know — our site doesn't cover that, and I'd rather not guess. {}",
        reply.text
    );
    Ok(reply)
}

/// What the best source says, with the sources.
fn cite(found: Vec<tools::Found>) -> Reply {
    let text = match found.first() {
        Some(best) => format!(
            "Here's what we've written about that, in “{}”: “…{}…” You'll find more in the sources below.",
            best.source.title,
            best.snippet.trim()
        ),
        None => "I don't know — our site doesn't cover that.".to_owned(),
    };
    Reply::builtin(
        Intent::Question,
        text,
        vec![Part::Sources {
            items: found.into_iter().map(|f| f.source).collect(),
        }],
    )
}

async fn human(ctx: &Ctx, intent: Intent) -> Result<Reply> {
    let (email, phone) = tools::contact(ctx).await?;
    let reach = match (&email, &phone) {
        (Some(e), Some(p)) => format!("You can reach our team at {e} or {p}"),
        (Some(e), None) => format!("You can reach our team at {e}"),
        _ => "Our team reads every message".to_owned(),
    };
    Ok(Reply::builtin(
        intent,
        format!(
            "{reach}, or leave your details with the consultation form and a person will get back to you. I can also book you a call."
        ),
        vec![Part::Human {
            email,
            phone,
            action: action("POST", "/v1/consultations"),
        }],
    ))
}

/// Takes what the message says into the quote draft; `asking` names the field just asked
/// for, which a bare answer fills.
fn absorb(draft: &mut QuotePrefill, text: &str, asking: Option<QuoteQuestion>) {
    let trimmed = text.trim();
    if let Some(email) = understand::email(text) {
        draft.email = Some(email);
    }
    if let Some(name) = understand::name(text, asking == Some(QuoteQuestion::Name)) {
        draft.name = Some(name);
    }
    if let Some(company) = understand::company(text) {
        draft.company = Some(company);
    }
    if let Some(budget) = understand::budget(text) {
        draft.budget_range = Some(budget.into());
    }
    if let Some(timeline) = understand::timeline(text) {
        draft.timeline = Some(timeline.into());
    }
    if let Some(kind) = understand::project_type(text) {
        draft.project_type.get_or_insert_with(|| kind.into());
    }
    match asking {
        Some(QuoteQuestion::Description) if !trimmed.is_empty() => {
            draft.description = Some(trimmed.to_owned())
        }
        Some(QuoteQuestion::Company) if !trimmed.is_empty() && draft.company.is_none() => {
            let none = matches!(
                understand::normalize(trimmed).as_str(),
                "none" | "no company" | "just me" | "myself" | "n a" | "personal"
            );
            draft.company = match understand::yes_no(trimmed) {
                _ if none => Some("Independent".into()),
                Some(false) => Some("Independent".into()),
                // "yes" is not a company's name: the question is asked again.
                Some(true) => None,
                None => Some(trimmed.to_owned()),
            };
        }
        Some(QuoteQuestion::ProjectType) if draft.project_type.is_none() => {
            draft.project_type = Some("other".into())
        }
        _ => {}
    }
}

/// The quote's questions, in the order they are asked.
const QUOTE_QUESTIONS: &[(QuoteQuestion, &str)] = &[
    (
        QuoteQuestion::Description,
        "What would you like us to build? A sentence or two is plenty.",
    ),
    (
        QuoteQuestion::ProjectType,
        "Is it a website, a web app or portal, a mobile app, an integration, a modernisation of an existing system, or an AI assistant?",
    ),
    (
        QuoteQuestion::BudgetRange,
        "Roughly what budget do you have in mind? (for example 25k, or \"not sure\")",
    ),
    (
        QuoteQuestion::Timeline,
        "And when would you like it done? (as soon as possible, within 3 months, 6 months, flexible...)",
    ),
    (QuoteQuestion::Name, "What's your name?"),
    (
        QuoteQuestion::Email,
        "Which email address should we send the plan to?",
    ),
    (
        QuoteQuestion::Company,
        "And your company's name? (\"none\" is fine)",
    ),
];

fn is_missing(draft: &QuotePrefill, question: QuoteQuestion) -> bool {
    match question {
        QuoteQuestion::Description => draft.description.is_none(),
        QuoteQuestion::ProjectType => draft.project_type.is_none(),
        QuoteQuestion::BudgetRange => draft.budget_range.is_none(),
        QuoteQuestion::Timeline => draft.timeline.is_none(),
        QuoteQuestion::Name => draft.name.is_none(),
        QuoteQuestion::Email => draft.email.is_none(),
        QuoteQuestion::Company => draft.company.is_none(),
        QuoteQuestion::Consent => false,
    }
}

/// The next question of the quote; none once everything is known (then consent is asked).
fn next_question(draft: &QuotePrefill) -> Option<(QuoteQuestion, &'static str)> {
    QUOTE_QUESTIONS
        .iter()
        .copied()
        .find(|(question, _)| is_missing(draft, *question))
}

const CONSENT_QUESTION: &str = "Thanks! May we store these details and contact you about your project? Please answer yes or no.";

async fn ask_next(
    _ctx: &Ctx,
    state: &mut State,
    draft: QuotePrefill,
    intent: Intent,
) -> Result<Reply> {
    let (asking, question) =
        next_question(&draft).unwrap_or((QuoteQuestion::Consent, CONSENT_QUESTION));
    let form = Part::QuoteForm {
        prefill: draft.clone(),
        action: action("POST", "/v1/plan-requests"),
    };
    let opening = if draft == QuotePrefill::default() || asking == QuoteQuestion::Description {
        "I'd be glad to put together a custom development plan and quote. "
    } else {
        ""
    };
    state.flow = Flow::Quote { draft, asking };
    Ok(Reply::builtin(
        intent,
        format!("{opening}{question}"),
        vec![form],
    ))
}

async fn quote_step(
    ctx: &Ctx,
    state: &mut State,
    mut draft: QuotePrefill,
    asking: QuoteQuestion,
    text: &str,
) -> Result<Reply> {
    if asking == QuoteQuestion::Consent {
        return match understand::yes_no(text) {
            Some(true) => create_quote(ctx, state, draft).await,
            Some(false) => Ok(Reply::builtin(
                Intent::Quote,
                "Understood — nothing has been saved. If you change your mind, just ask for a quote again.",
                Vec::new(),
            )),
            None => {
                state.flow = Flow::Quote { draft, asking };
                Ok(Reply::builtin(Intent::Quote, CONSENT_QUESTION, Vec::new()))
            }
        };
    }
    absorb(&mut draft, text, Some(asking));
    if asking == QuoteQuestion::Email && draft.email.is_none() {
        state.flow = Flow::Quote { draft, asking };
        return Ok(Reply::builtin(
            Intent::Quote,
            "That doesn't look like an email address — could you check it?",
            Vec::new(),
        ));
    }
    if asking == QuoteQuestion::BudgetRange && draft.budget_range.is_none() {
        draft.budget_range = Some("not_sure".into());
    }
    if asking == QuoteQuestion::Timeline && draft.timeline.is_none() {
        draft.timeline = Some("flexible".into());
    }
    ask_next(ctx, state, draft, Intent::Quote).await
}

async fn create_quote(ctx: &Ctx, state: &mut State, draft: QuotePrefill) -> Result<Reply> {
    match tools::create_quote(ctx, &draft, true).await {
        Ok(receipt) => {
            state.flow = Flow::CallOffered {
                name: draft.name.clone(),
                email: draft.email.clone(),
            };
            Ok(Reply::builtin(
                Intent::Quote,
                format!(
                    "Done — your request is in, reference {}. We'll email {} within one business day. Would you like to book a call as well?",
                    receipt.reference,
                    draft.email.as_deref().unwrap_or("you")
                ),
                vec![Part::LeadCreated {
                    reference: receipt.reference,
                }],
            ))
        }
        Err(err) => match err.for_visitor() {
            // Refused (a detail the form does not take, the rate limit): nothing is stored;
            // the visitor finishes in the form, prefilled, or asks again.
            Some(problem) => {
                let form = Part::QuoteForm {
                    prefill: draft,
                    action: action("POST", "/v1/plan-requests"),
                };
                Ok(Reply::builtin(
                    Intent::Quote,
                    format!(
                        "I couldn't send that: {problem}. The form below has what you told me — correct it there and send it, or ask me for a quote again."
                    ),
                    vec![form],
                ))
            }
            None => Err(err),
        },
    }
}

fn zone_of(state: &State) -> Tz {
    state
        .time_zone
        .as_deref()
        .and_then(|z| z.parse().ok())
        .unwrap_or(Tz::UTC)
}

async fn start_booking(
    ctx: &Ctx,
    state: &mut State,
    text: &str,
    visitor: Option<String>,
    email: Option<String>,
) -> Result<Reply> {
    let types = tools::call_types(ctx).await?;
    let normalized = understand::normalize(text);
    let mentioned = |kind: &&CallKind| {
        let name = kind.name.to_lowercase();
        normalized.contains(&name)
            || name
                .split(' ')
                .any(|w| w.len() > 4 && normalized.contains(w))
            || normalized.contains(kind.slug.as_str())
    };
    let Some(kind) = types.iter().find(mentioned).or_else(|| types.first()) else {
        return human(ctx, Intent::Scheduling).await;
    };
    let zone = zone_of(state);
    let today = chrono::Datelike::weekday(&chrono::Utc::now().with_timezone(&zone));
    let when = understand::when(text, today.num_days_from_monday());
    offer_slots(ctx, state, kind, zone, visitor, email, when).await
}

async fn offer_slots(
    ctx: &Ctx,
    state: &mut State,
    kind: &CallKind,
    zone: Tz,
    visitor: Option<String>,
    email: Option<String>,
    when: understand::When,
) -> Result<Reply> {
    let mut offered = Vec::new();
    let mut preface = String::new();
    if when != understand::When::default() {
        offered = tools::find_slots_when(ctx, &kind.slug, zone, SLOTS_SHOWN, when).await?;
        if offered.is_empty() {
            preface = "Nothing is free at the time you asked for, I'm afraid — these are the nearest free times. ".to_owned();
        }
    }
    if offered.is_empty() {
        offered = tools::find_slots(ctx, &kind.slug, zone, SLOTS_SHOWN).await?;
    }
    if offered.is_empty() {
        let mut reply = human(ctx, Intent::Scheduling).await?;
        reply.text = format!(
            "There are no free times for a {} in the next two weeks, I'm afraid. {}",
            kind.name, reply.text
        );
        return Ok(reply);
    }
    let list: Vec<String> = offered
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {}", i + 1, pretty(&s.start)))
        .collect();
    let part = Part::Slots {
        call_type: kind.slug.clone(),
        time_zone: zone.name().into(),
        items: offered.clone(),
        action: action("POST", "/v1/bookings"),
    };
    state.flow = Flow::Booking {
        call_type: kind.slug.clone(),
        call_name: kind.name.clone(),
        time_zone: zone.name().into(),
        offered,
        chosen: None,
        name: visitor,
        email,
        asking: BookingQuestion::Slot,
    };
    Ok(Reply::builtin(
        Intent::Scheduling,
        format!(
            "{preface}Here are some free times for a {} ({} minutes), in {}:\n{}\nWhich one suits you? (answer with its number)",
            kind.name,
            kind.minutes,
            zone.name(),
            list.join("\n")
        ),
        vec![part],
    ))
}

/// "2026-12-07T10:00:00-05:00" → "2026-12-07 10:00 (UTC-05:00)".
fn pretty(start: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(start) {
        Ok(t) => t.format("%a %-d %b %H:%M (UTC%:z)").to_string(),
        Err(_) => start.to_owned(),
    }
}

/// One step of the booking flow: choose a time, give a name and email, agree, book.
pub async fn booking_flow(ctx: &Ctx, state: &mut State, flow: Flow, text: &str) -> Result<Reply> {
    let Flow::Booking {
        call_type,
        call_name,
        time_zone,
        offered,
        mut chosen,
        mut name,
        mut email,
        asking,
    } = flow
    else {
        return Ok(Reply::builtin(
            Intent::Scheduling,
            "Which call would you like to book?",
            Vec::new(),
        ));
    };
    if asking == BookingQuestion::Slot {
        chosen = understand::choice(text, offered.len()).and_then(|i| offered.get(i).cloned());
        if chosen.is_none() {
            state.flow = Flow::Booking {
                call_type,
                call_name,
                time_zone,
                offered,
                chosen,
                name,
                email,
                asking,
            };
            return Ok(Reply::builtin(
                Intent::Scheduling,
                "Which of the times above? Answer with its number, like 2.",
                Vec::new(),
            ));
        }
    }
    if let Some(found) = understand::email(text) {
        email = Some(found);
    }
    if let Some(found) = understand::name(text, asking == BookingQuestion::Name) {
        name = Some(found);
    }
    if asking == BookingQuestion::Consent {
        match understand::yes_no(text) {
            Some(true) => return book(ctx, state, call_type, time_zone, chosen, name, email).await,
            Some(false) => {
                return Ok(Reply::builtin(
                    Intent::Scheduling,
                    "Understood — nothing was booked or saved.",
                    Vec::new(),
                ));
            }
            None => {}
        }
    }
    let (next, question) = if name.is_none() {
        (
            BookingQuestion::Name,
            "Great choice. What's your name?".to_owned(),
        )
    } else if email.is_none() {
        (
            BookingQuestion::Email,
            if asking == BookingQuestion::Email {
                "That doesn't look like an email address — could you check it?".to_owned()
            } else {
                "Which email address should the invite go to?".to_owned()
            },
        )
    } else {
        (
            BookingQuestion::Consent,
            format!(
                "To confirm: a {} on {}, for {} ({}). May we store these details to hold the call? Please answer yes or no.",
                if call_name.is_empty() {
                    &call_type
                } else {
                    &call_name
                },
                chosen.as_ref().map_or(String::new(), |s| pretty(&s.start)),
                name.clone().unwrap_or_default(),
                email.clone().unwrap_or_default()
            ),
        )
    };
    state.flow = Flow::Booking {
        call_type,
        call_name,
        time_zone,
        offered,
        chosen,
        name,
        email,
        asking: next,
    };
    Ok(Reply::builtin(Intent::Scheduling, question, Vec::new()))
}

/// Only a time someone else took is offered again; another conflict (a retry still in
/// flight, say) is explained like any other failure.
fn is_slot_taken(err: &crate::error::AppError) -> bool {
    err.kind() == crate::scheduling::SLOT_TAKEN
}

/// Free times of `kind` offered (again), after `preface`.
async fn offer_again(
    ctx: &Ctx,
    state: &mut State,
    kind: &CallKind,
    time_zone: &str,
    name: Option<String>,
    email: Option<String>,
    preface: &str,
) -> Result<Reply> {
    let zone: Tz = time_zone.parse().unwrap_or(Tz::UTC);
    let when = understand::When::default();
    let mut reply = offer_slots(ctx, state, kind, zone, name, email, when).await?;
    reply.text = format!("{preface} {}", reply.text);
    Ok(reply)
}

async fn book(
    ctx: &Ctx,
    state: &mut State,
    call_type: String,
    time_zone: String,
    chosen: Option<SlotOption>,
    name: Option<String>,
    email: Option<String>,
) -> Result<Reply> {
    let types = tools::call_types(ctx).await?;
    if let Some(kind) = types
        .iter()
        .find(|kind| kind.slug == call_type && kind.asks)
    {
        // Its questions are the form's to ask: offer the times with the form.
        let preface = format!(
            "A {} needs a few answers first: pick a time below and the form asks them.",
            kind.name
        );
        let reply = offer_again(ctx, state, kind, &time_zone, name, email, &preface).await?;
        // The form books it, not the chat: no step of the chat waits for a choice.
        state.flow = Flow::Idle;
        return Ok(reply);
    }
    let (first_name, last_name) = understand::split_name(name.as_deref().unwrap_or_default());
    let request = BookingRequest {
        call_type: call_type.clone(),
        start: chosen.map(|s| s.start).unwrap_or_default(),
        time_zone: time_zone.clone(),
        first_name,
        last_name,
        email: email.clone().unwrap_or_default(),
        notes: "Booked through the site assistant.".into(),
        consent: true,
        consent_text_version: Some("assistant".into()),
        ..BookingRequest::default()
    };
    match tools::book_call(ctx, request).await {
        Ok(created) => Ok(Reply::builtin(
            Intent::Scheduling,
            format!(
                "Booked! Your {} with {} is on {}. The invite is on its way to {}; you can move or cancel it from the link in that email.",
                created.booking.call_type_name,
                created.booking.host_name,
                pretty(&created.booking.start),
                created.booking.email
            ),
            vec![Part::BookingCreated {
                start: created.booking.start,
                host: created.booking.host_name,
                manage_url: created.manage_url,
            }],
        )),
        Err(err) if is_slot_taken(&err) => {
            let Some(kind) = types.iter().find(|kind| kind.slug == call_type) else {
                return human(ctx, Intent::Scheduling).await;
            };
            let preface = "Someone took that time just before you, sorry.";
            offer_again(ctx, state, kind, &time_zone, name, email, preface).await
        }
        Err(err) => match err.for_visitor() {
            Some(problem) => Ok(Reply::builtin(
                Intent::Scheduling,
                format!("I couldn't book that: {problem}."),
                Vec::new(),
            )),
            None => Err(err),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    #[test]
    fn only_a_taken_slot_is_offered_again() {
        let taken = AppError::conflict(
            crate::scheduling::SLOT_TAKEN,
            "This time is no longer free.",
        );
        assert!(is_slot_taken(&taken));
        // The same variant, another kind: a retry of the booking still being processed.
        let in_flight = AppError::conflict(
            "request-in-progress",
            "A request with this Idempotency-Key is still being processed; retry in a moment.",
        );
        assert!(!is_slot_taken(&in_flight));
        assert_eq!(in_flight.kind(), "request-in-progress");
        assert!(
            in_flight
                .for_visitor()
                .is_some_and(|text| text.contains("still being processed"))
        );
    }
}
