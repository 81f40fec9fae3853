//! Understanding a visitor's message without a language model: what they want (intent) and
//! the details they gave (an email, a name, a budget, a timeline...). Pure functions.

use crate::validation::is_valid_email;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Greeting,
    /// What the firm offers.
    Services,
    /// Prices, estimates, a quote or a plan.
    Quote,
    /// A call or meeting.
    Scheduling,
    /// How to reach the firm.
    Contact,
    /// A person, not a bot.
    Human,
    /// A question about a topic: answered from the site's content.
    Question,
    Thanks,
}

const GREETINGS: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "hiya",
    "good morning",
    "good afternoon",
    "good evening",
];
const THANKS: &[&str] = &[
    "thanks",
    "thank you",
    "cheers",
    "great thanks",
    "bye",
    "goodbye",
    "good bye",
    "see you",
    "see ya",
    "that's all",
    "that is all",
];

/// Phrases for each intent, with weights. A phrase counts when it appears as whole words.
const SIGNALS: &[(Intent, &[(&str, u32)])] = &[
    (
        Intent::Human,
        &[
            ("human", 3),
            ("real person", 4),
            ("a person", 3),
            ("someone", 2),
            ("agent", 2),
            ("representative", 3),
            ("talk to you", 1),
            ("speak to", 2),
        ],
    ),
    (
        Intent::Scheduling,
        &[
            ("call", 3),
            ("meeting", 3),
            ("meet", 2),
            ("schedule", 3),
            ("book", 3),
            ("appointment", 3),
            ("slot", 2),
            ("available", 2),
            ("availability", 3),
            ("when can", 2),
            ("video call", 3),
            ("demo", 2),
            ("chat with", 1),
            ("video chat", 3),
            ("are you free", 3),
            ("free for", 2),
            ("an hour with", 3),
            ("half an hour", 2),
            ("talk it through", 2),
            ("go through", 1),
            ("today", 1),
            ("tomorrow", 2),
            ("this afternoon", 2),
            ("afternoon", 1),
            ("morning", 1),
            ("next week", 2),
            ("this week", 2),
            ("monday", 2),
            ("tuesday", 2),
            ("wednesday", 2),
            ("thursday", 2),
            ("friday", 2),
        ],
    ),
    (
        Intent::Quote,
        &[
            ("quote", 4),
            ("estimate", 4),
            ("price", 3),
            ("pricing", 4),
            ("cost", 3),
            ("costs", 3),
            ("how much", 4),
            ("budget", 3),
            ("proposal", 3),
            ("plan", 2),
            ("rates", 3),
            ("rate", 2),
            ("fee", 2),
            ("fees", 2),
            ("charge", 2),
            ("project", 2),
            ("we need", 2),
            ("i need", 2),
            ("looking for", 1),
        ],
    ),
    (
        Intent::Contact,
        &[
            ("contact", 4),
            ("email address", 3),
            ("phone", 3),
            ("address", 2),
            ("office", 2),
            ("where are you", 3),
            ("located", 3),
            ("reach you", 3),
            ("get in touch", 3),
        ],
    ),
    (
        Intent::Services,
        &[
            ("services", 4),
            ("service", 3),
            ("what do you do", 5),
            ("what can you do", 4),
            ("offer", 3),
            ("expertise", 4),
            ("capabilities", 4),
            ("specialise", 3),
            ("specialize", 3),
            ("help us with", 2),
            ("do you build", 3),
            ("do you do", 3),
            ("what do you guys do", 5),
            ("what you do", 4),
            ("actually do", 3),
            ("kinds of work", 4),
            ("kind of work", 4),
            ("types of work", 4),
            ("kinds of projects", 4),
            ("types of projects", 4),
            ("what can you help", 4),
            ("what you offer", 4),
            ("areas of expertise", 5),
            ("what do you offer", 5),
        ],
    ),
];

pub fn normalize(text: &str) -> String {
    // Phone keyboards type ’ for ': "don’t" must read as "don't".
    let chars: Vec<char> = text
        .to_lowercase()
        .chars()
        .map(|c| {
            if matches!(c, '\u{2019}' | '\u{2018}') {
                '\''
            } else {
                c
            }
        })
        .collect();
    // A dot stays inside a word ("ada@example.com", "node.js"); at a word's end it is punctuation.
    let inside_word = |i: usize| {
        i > 0
            && chars[i - 1].is_alphanumeric()
            && chars.get(i + 1).is_some_and(|c| c.is_alphanumeric())
    };
    let cleaned: String = chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let keep = c.is_alphanumeric() || c == '@' || c == '\'' || (c == '.' && inside_word(i));
            if keep { c } else { ' ' }
        })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn contains_phrase(normalized: &str, phrase: &str) -> bool {
    let padded = format!(" {normalized} ");
    padded.contains(&format!(" {phrase} "))
}

/// The visitor's intent; a question about a topic when nothing else stands out.
pub fn intent(text: &str) -> Intent {
    let normalized = normalize(text);
    // "Good morning" greets; it does not ask for a morning.
    let mut scored = format!(" {normalized} ");
    for greeting in ["good morning", "good afternoon", "good evening"] {
        scored = scored.replace(&format!(" {greeting} "), " ");
    }
    let scored = scored.trim();
    let scores: Vec<(Intent, u32)> = SIGNALS
        .iter()
        .map(|(intent, phrases)| {
            let score = phrases
                .iter()
                .filter(|(phrase, _)| contains_phrase(scored, phrase))
                .map(|(_, weight)| weight)
                .sum();
            (*intent, score)
        })
        .collect();
    // Ties go to the earlier intent in SIGNALS: asking for a human beats everything.
    let best = scores
        .iter()
        .fold((Intent::Question, 0), |best, (intent, score)| {
            if *score > best.1 {
                (*intent, *score)
            } else {
                best
            }
        });
    // "Can you help us with X?" is a question about X, not about the catalogue.
    if best.0 == Intent::Services && best.1 < 3 {
        return Intent::Question;
    }
    if best.1 > 0 {
        return best.0;
    }
    let words = normalized.split(' ').count();
    let greets = GREETINGS
        .iter()
        .any(|g| normalized == *g || normalized.starts_with(&format!("{g} ")));
    if words <= 4 && greets {
        return Intent::Greeting;
    }
    if words <= 5 && THANKS.iter().any(|t| contains_phrase(&normalized, t)) {
        return Intent::Thanks;
    }
    Intent::Question
}

/// Yes, no, or neither. A negation anywhere makes a "yes" unclear ("sure, but no", "ok,
/// don't"): consent is given only by a plain yes.
pub fn yes_no(text: &str) -> Option<bool> {
    const YES: &[&str] = &[
        "yes", "y", "yeah", "yep", "sure", "ok", "okay", "agree", "agreed", "correct",
    ];
    const YES_PHRASES: &[&str] = &["i agree", "of course", "go ahead", "that's fine"];
    const NO: &[&str] = &[
        "no", "n", "nope", "none", "don't", "dont", "not", "never", "cancel", "stop", "nah",
        "won't", "wont", "disagree", "cannot", "can't", "cant",
    ];
    let normalized = normalize(text);
    let words: Vec<&str> = normalized.split(' ').collect();
    let first = words.first().copied().unwrap_or_default();
    let negated = words.iter().any(|w| NO.contains(w) || w.ends_with("n't"));
    let affirmed = YES.contains(&first) || YES_PHRASES.iter().any(|p| normalized.starts_with(p));
    match (affirmed, negated) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

/// Whether the message agrees to the visitor's details being stored: a plain yes, or
/// words that say so ("yes, you may store my details", "I agree"), with no negation
/// anywhere ("ok but don't save my details", "I consent to nothing").
pub fn consents(text: &str) -> bool {
    // "Sure, which times are free?", "Do you store my details?": questions agree to nothing.
    if is_question(text) {
        return false;
    }
    yes_no(text) == Some(true) || explicit_consent(text)
}

/// Whether the message itself says the visitor agrees to their details being stored ("you
/// may store my details", "I consent"), whatever was asked before; never a question, never
/// with a negation.
pub fn explicit_consent(text: &str) -> bool {
    if is_question(text) {
        return false;
    }
    const AGREES: &[&str] = &[
        "i agree",
        "i consent",
        "you may store",
        "you can store",
        "you may save",
        "you can save",
        "you may keep",
        "store my details",
        "save my details",
        "keep my details",
        // Sending a request or booking a call stores the details given for it.
        "send it",
        "send my request",
        "send the request",
        "book it",
        "book that",
        "book this",
    ];
    const NEGATIONS: &[&str] = &[
        "no", "not", "never", "nothing", "don't", "dont", "won't", "wont", "cannot", "can't",
        "cant", "without",
    ];
    let normalized = normalize(text);
    let negated = normalized
        .split(' ')
        .any(|w| NEGATIONS.contains(&w) || w.ends_with("n't"));
    !negated && AGREES.iter().any(|p| contains_phrase(&normalized, p))
}

/// Whether an assistant's message asks the visitor to agree to something being stored,
/// sent or booked (what a "yes" after it agrees to).
pub fn asks_for_consent(text: &str) -> bool {
    const ASKS: &[&str] = &[
        "store",
        "save",
        "keep your",
        "consent",
        "agree",
        "your details",
        "send it",
        "send the",
        "send your",
        "book it",
        "book this",
        "book that",
        "shall i book",
        "should i book",
        "go ahead",
        "confirm",
    ];
    let normalized = normalize(text);
    ASKS.iter()
        .any(|p| contains_phrase(&normalized, p) || normalized.contains(p))
}

/// The first email address in the text.
pub fn email(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '<' | '>' | '(' | ')' | '"'))
        .map(|w| w.trim_matches(|c: char| c == '.' || c == ':'))
        .find(|w| w.contains('@') && is_valid_email(w))
        .map(str::to_lowercase)
}

/// A name the visitor gave: "I'm Ada Lovelace", "my name is Ada", or a short reply that is
/// only words (when the name was just asked for).
pub fn name(text: &str, just_asked: bool) -> Option<String> {
    let trimmed = text.trim();
    // ASCII lowering keeps every byte where it was, so positions found in `lower` are
    // positions in `trimmed` ("İ" would not stay the same length under full lowering).
    let lower = trimmed.to_ascii_lowercase();
    for lead in [
        "my name is ",
        "i'm ",
        "i am ",
        "this is ",
        "name: ",
        "it's ",
    ] {
        if let Some(at) = lower.find(lead) {
            let rest = &trimmed[at + lead.len()..];
            let words: Vec<&str> = rest
                .split([',', '.', '\n', ' '])
                .filter(|w| !w.is_empty())
                .take_while(|w| {
                    w.chars().next().is_some_and(char::is_uppercase) && !w.contains('@')
                })
                .take(4)
                .collect();
            if !words.is_empty() {
                return Some(words.join(" "));
            }
        }
    }
    let looks_like_name = trimmed.split_whitespace().count() <= 4
        && trimmed
            .chars()
            .all(|c| c.is_alphabetic() || c == ' ' || c == '-' || c == '\'')
        && trimmed.chars().any(char::is_alphabetic);
    // "yes" or "ok" is an answer to something else, not a name.
    (just_asked && looks_like_name && yes_no(trimmed).is_none()).then(|| trimmed.to_owned())
}

/// A company the visitor named in passing: "our company is Acme Ltd", "company: Acme".
pub fn company(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let lower = trimmed.to_ascii_lowercase();
    for lead in [
        "company is called ",
        "company is ",
        "company called ",
        "company named ",
        "company: ",
        "company ",
    ] {
        if let Some(at) = lower.find(lead) {
            let words: Vec<&str> = trimmed[at + lead.len()..]
                .split([',', '.', '\n', ' ', ';'])
                .filter(|w| !w.is_empty())
                .take_while(|w| {
                    w.chars()
                        .next()
                        .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
                })
                .take(5)
                .collect();
            if !words.is_empty() {
                return Some(words.join(" "));
            }
        }
    }
    None
}

/// Splits a full name into first and last (the last word is the last name).
pub fn split_name(full: &str) -> (String, String) {
    let mut words: Vec<&str> = full.split_whitespace().collect();
    match words.len() {
        0 => (String::new(), String::new()),
        1 => (words[0].to_owned(), "-".to_owned()),
        _ => {
            let last = words.pop().unwrap_or_default().to_owned();
            (words.join(" "), last)
        }
    }
}

/// An amount mentioned, in units: "25k", "£30,000", "50 000", "1.5m".
fn amounts(text: &str) -> Vec<f64> {
    let normalized = text.to_lowercase().replace([',', '£', '$', '€'], "");
    let mut found = Vec::new();
    let words = join_digit_groups(normalized.split_whitespace());
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    for (i, word) in words.iter().enumerate() {
        let (number, multiplier) = if let Some(n) = word.strip_suffix('k') {
            (n, 1_000.0)
        } else if let Some(n) = word.strip_suffix('m') {
            (n, 1_000_000.0)
        } else if matches!(words.get(i + 1), Some(&"k") | Some(&"thousand")) {
            (*word, 1_000.0)
        } else {
            (*word, 1.0)
        };
        if let Ok(value) = number
            .trim_matches(|c: char| !c.is_ascii_digit() && c != '.')
            .parse::<f64>()
        {
            let value = value * multiplier;
            if value >= 500.0 {
                found.push(value);
            }
        }
    }
    found
}

/// "150 000" is one number: a group of three digits joins the digits before it.
fn join_digit_groups<'a>(words: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut joined: Vec<String> = Vec::new();
    for word in words {
        let is_group = word.len() == 3 && word.chars().all(|c| c.is_ascii_digit());
        match joined.last_mut() {
            Some(last)
                if is_group && !last.is_empty() && last.chars().all(|c| c.is_ascii_digit()) =>
            {
                last.push_str(word)
            }
            _ => joined.push(word.to_owned()),
        }
    }
    joined
}

/// The plan form's budget range for what the visitor said.
pub fn budget(text: &str) -> Option<&'static str> {
    let normalized = normalize(text);
    let Some(amount) = amounts(text).into_iter().reduce(f64::max) else {
        let unsure = [
            "not sure",
            "no idea",
            "don't know",
            "dont know",
            "unsure",
            "budget is flexible",
        ]
        .iter()
        .any(|p| contains_phrase(&normalized, p));
        return unsure.then_some("not_sure");
    };
    Some(match amount {
        a if a < 10_000.0 => "under_10k",
        a if a < 25_000.0 => "10k_25k",
        a if a < 50_000.0 => "25k_50k",
        a if a <= 100_000.0 => "50k_100k",
        _ => "over_100k",
    })
}

/// The plan form's timeline for what the visitor said.
pub fn timeline(text: &str) -> Option<&'static str> {
    let normalized = normalize(text);
    let has = |p: &str| contains_phrase(&normalized, p);
    if has("asap")
        || has("as soon as possible")
        || has("urgent")
        || has("urgently")
        || has("right away")
        || has("immediately")
    {
        return Some("asap");
    }
    if has("flexible") || has("no rush") || has("whenever") || has("not sure") {
        return Some("flexible");
    }
    let months = normalized
        .split(' ')
        .collect::<Vec<_>>()
        .windows(2)
        .find_map(|w| {
            let n = match w[0] {
                "one" | "a" => Some(1),
                "two" => Some(2),
                "three" => Some(3),
                "four" => Some(4),
                "five" => Some(5),
                "six" => Some(6),
                "nine" => Some(9),
                "twelve" => Some(12),
                other => other.parse::<u32>().ok(),
            }?;
            match w[1] {
                "month" | "months" => Some(n),
                "week" | "weeks" => Some(n / 4),
                "year" | "years" => n.checked_mul(12),
                _ => None,
            }
        });
    match months {
        Some(0..=1) => Some("asap"),
        Some(2..=3) => Some("1_3_months"),
        Some(4..=6) => Some("3_6_months"),
        Some(_) => Some("6_plus_months"),
        None if has("next year") => Some("6_plus_months"),
        None if has("next month") || has("this month") => Some("1_3_months"),
        None => None,
    }
}

/// The plan form's project type for what the visitor described.
pub fn project_type(text: &str) -> Option<&'static str> {
    let normalized = normalize(text);
    let has = |p: &str| contains_phrase(&normalized, p);
    let rules: &[(&[&str], &str)] = &[
        (
            &[
                "ai",
                "assistant",
                "chatbot",
                "llm",
                "machine learning",
                "gpt",
            ],
            "ai_assistant",
        ),
        (
            &["mobile", "ios", "android", "app store", "mobile app"],
            "mobile_app",
        ),
        (
            &[
                "legacy",
                "modernise",
                "modernize",
                "rewrite",
                "migrate",
                "migration",
                "monolith",
            ],
            "modernisation",
        ),
        (
            &[
                "api",
                "integration",
                "integrate",
                "crm",
                "webhook",
                "webhooks",
            ],
            "api_integration",
        ),
        (
            &[
                "web app",
                "portal",
                "dashboard",
                "saas",
                "platform",
                "web application",
            ],
            "web_app",
        ),
        (
            &["website", "site", "landing page", "marketing site", "blog"],
            "website",
        ),
    ];
    rules
        .iter()
        .find(|(words, _)| words.iter().any(|w| has(w)))
        .map(|(_, kind)| *kind)
}

/// A choice among `count` numbered options: "2", "the second", "option 3", "first".
pub fn choice(text: &str, count: usize) -> Option<usize> {
    let normalized = normalize(text);
    let ordinals = [
        "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
    ];
    for word in normalized.split(' ') {
        if let Ok(n) = word.trim_end_matches('.').parse::<usize>() {
            if (1..=count).contains(&n) {
                return Some(n - 1);
            }
        }
        if let Some(n) = ordinals.iter().position(|o| *o == word) {
            if n < count {
                return Some(n);
            }
        }
    }
    None
}

const MAX_SEARCH_WORDS: usize = 12;

/// Words worth searching the site for: the question without filler.
pub fn search_terms(text: &str) -> String {
    content_words(text, false)
}

fn content_words(text: &str, whole: bool) -> String {
    const FILLER: &[&str] = &[
        "what",
        "whats",
        "what's",
        "how",
        "do",
        "does",
        "did",
        "you",
        "your",
        "yours",
        "is",
        "are",
        "the",
        "a",
        "an",
        "can",
        "could",
        "would",
        "should",
        "i",
        "we",
        "me",
        "us",
        "about",
        "tell",
        "know",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "and",
        "or",
        "it",
        "this",
        "that",
        "there",
        "any",
        "have",
        "has",
        "please",
        "why",
        "when",
        "where",
        "which",
        "who",
        "my",
        "our",
        "be",
        "use",
        "using",
        "think",
        "something",
        "anything",
    ];
    normalize(text)
        .split(' ')
        .filter(|w| w.len() > 1 && !FILLER.contains(w) && !w.contains('@'))
        // A search of a few words finds what a paragraph would; a paragraph costs more.
        .take(if whole { usize::MAX } else { MAX_SEARCH_WORDS })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Words that say the same thing on a software firm's site: a question using one finds
/// content using another. Stems are Postgres's (english): "estimate" also finds "estimating".
const THESAURUS: &[&[&str]] = &[
    &[
        "cost", "costs", "price", "pricing", "estimate", "quote", "budget", "ballpark", "charge",
        "fee",
    ],
    &["fixed price", "fixed number", "fixed bid", "fixed"],
    &["range", "ranges", "ballpark"],
    &["kubernetes", "k8s"],
    &["search", "full text", "elasticsearch", "search engine"],
    &[
        "cache", "caching", "cached", "stale", "outdated", "old text",
    ],
    &[
        "monitoring",
        "monitor",
        "observability",
        "metrics",
        "logging",
        "logs",
        "log",
        "tracing",
        "alerting",
        "keep an eye",
    ],
    &[
        "password",
        "passwords",
        "login",
        "authentication",
        "auth",
        "token",
        "tokens",
        "credentials",
        "sign in",
    ],
    &[
        "fast",
        "speed",
        "slow",
        "performance",
        "loads",
        "load time",
        "latency",
        "web vitals",
    ],
    &[
        "chatbot",
        "chat bot",
        "bot",
        "assistant",
        "ai",
        "llm",
        "language model",
    ],
    &[
        "mistake", "mistakes", "pitfall", "pitfalls", "gotcha", "gotchas",
    ],
    &[
        "rewrite",
        "rebuild",
        "modernise",
        "modernize",
        "modernisation",
        "legacy",
        "old app",
        "old system",
        "monolith",
    ],
    &[
        "bit by bit",
        "gradually",
        "incrementally",
        "piece by piece",
        "strangler",
        "strangling",
        "route by route",
    ],
    &["test", "tests", "testing", "mock", "mocks", "mocking"],
    &[
        "deploy",
        "deployment",
        "deploys",
        "ci",
        "cd",
        "pipeline",
        "pipelines",
        "shipping",
        "release",
    ],
    &["health check", "liveness", "readiness", "probe", "probes"],
    &[
        "organise",
        "organize",
        "structure",
        "layout",
        "folders",
        "shape",
    ],
    &[
        "accessible",
        "accessibility",
        "screen reader",
        "screen readers",
        "a11y",
        "disabled",
    ],
    &[
        "tech stack",
        "stack",
        "technologies",
        "technology",
        "framework",
        "frameworks",
    ],
    &[
        "invest",
        "investor",
        "investment",
        "due diligence",
        "audit",
        "acquisition",
    ],
    &[
        "crm",
        "integration",
        "integrate",
        "integrations",
        "hook",
        "billing",
        "erp",
        "webhooks",
    ],
    &[
        "prevent",
        "impossible",
        "avoid",
        "guarantee",
        "make sure",
        "stop",
    ],
    &["backend", "back end", "server side", "server"],
    &["database", "db", "postgres", "postgresql"],
    &["migration", "migrations", "schema"],
    &[
        "double booking",
        "overlap",
        "overlapping",
        "two bookings",
        "same time",
    ],
    &["replicas", "copies", "instances", "several"],
    &["async", "tokio", "await"],
    &[
        "node",
        "node.js",
        "javascript",
        "go",
        "golang",
        "java",
        "python",
    ],
    &["website", "site", "marketing site", "web"],
    &["form", "forms", "contact form"],
    &["team", "small team", "startup", "small company", "agency"],
    &["choose", "choosing", "choice", "decide", "pick", "select"],
    &[
        "cheap",
        "afford",
        "inexpensive",
        "low cost",
        "on a budget",
        "frugal",
    ],
];

/// Conversational words that say nothing about the topic ("should we bother with ...").
const CHATTER: &[&str] = &[
    "guys",
    "folks",
    "actually",
    "really",
    "just",
    "like",
    "bother",
    "figure",
    "out",
    "usually",
    "generally",
    "normally",
    "typically",
    "want",
    "wants",
    "wanted",
    "need",
    "needs",
    "get",
    "got",
    "go",
    "make",
    "makes",
    "made",
    "good",
    "best",
    "better",
    "way",
    "ways",
    "worth",
    "thing",
    "things",
    "stuff",
    "some",
    "someone",
    "somebody",
    "kind",
    "kinds",
    "sort",
    "lot",
    "lots",
    "much",
    "many",
    "very",
    "quite",
    "also",
    "even",
    "still",
    "okay",
    "ok",
    "hey",
    "hi",
    "hello",
    "thanks",
    "thank",
    "wondering",
    "wonder",
    "curious",
    "question",
    "quick",
    "tell",
    "explain",
    "say",
    "said",
    "mean",
    "means",
    "recommend",
    "advice",
    "opinion",
    "view",
    "idea",
    "one",
    "ones",
    "more",
    "less",
    "first",
    "before",
    "after",
    "wait",
    "sure",
    "well",
    "yes",
    "no",
    "not",
    "isn't",
    "don't",
    "doesn't",
    "can't",
    "won't",
    "we're",
    "you're",
    "i'm",
    "it's",
    "what's",
    "how's",
    "there's",
    "that's",
    "ur",
    "u",
    "pls",
    "plz",
    "will",
    "shall",
    "may",
    "might",
    "must",
    "let",
    "keep",
    "keeps",
    "give",
    "take",
    "work",
    "works",
    "help",
    "harder",
    "hard",
    "easy",
    "start",
    "starting",
    "new",
    "old",
    "up",
    "them",
    "they",
    "their",
    "these",
    "those",
    "people",
    "anyone",
    "everyone",
    "all",
    "every",
    "each",
    "other",
    "others",
    "than",
    "over",
    "into",
    "from",
    "at",
    "by",
    "as",
    "if",
    "so",
    "but",
    "then",
    "now",
    "while",
    "without",
    "own",
    "same",
    "right",
    "here",
    "was",
    "were",
    "been",
    "being",
    "am",
    "had",
    "its",
    "his",
    "her",
    "him",
    "she",
    "he",
    "again",
    "ever",
    "handle",
    "front",
    "hit",
    "set",
    "day",
    "days",
    "doing",
    "itself",
    "stay",
    "difference",
    "between",
    "once",
    "running",
    "person",
    "ours",
    "company",
    "companies",
    "business",
    "able",
    "possible",
    "approach",
    "usual",
    "go",
    "going",
    "look",
    "looks",
];

/// What a question is about, for finding the content that covers it: each idea the words or
/// phrases that say it, the visitor's own first, then their synonyms.
pub fn ideas(text: &str) -> Vec<Vec<String>> {
    let normalized = normalize(text);
    let mut rest = format!(" {normalized} ");
    // Each idea with the thesaurus group it came from: words of one group are one idea.
    let mut ideas: Vec<(Option<usize>, Vec<String>)> = Vec::new();
    let add = |said: &str, ideas: &mut Vec<(Option<usize>, Vec<String>)>| {
        let group = THESAURUS.iter().position(|g| g.contains(&said));
        let idea = match ideas
            .iter_mut()
            .find(|(g, phrases)| (group.is_some() && *g == group) || phrases[0] == said)
        {
            Some((_, phrases)) => phrases,
            None => {
                ideas.push((group, Vec::new()));
                let Some((_, phrases)) = ideas.last_mut() else {
                    return;
                };
                phrases
            }
        };
        let synonyms = group.map(|g| THESAURUS[g]).unwrap_or_default();
        for phrase in std::iter::once(said).chain(synonyms.iter().copied()) {
            if !idea.iter().any(|p| p == phrase) {
                idea.push(phrase.to_owned());
            }
        }
    };
    // The thesaurus's phrases of several words first ("due diligence", "screen reader").
    for phrase in THESAURUS
        .iter()
        .flat_map(|g| g.iter().copied())
        .filter(|p| p.contains(' '))
    {
        let padded = format!(" {phrase} ");
        if rest.contains(&padded) {
            rest = rest.replace(&padded, " ");
            add(phrase, &mut ideas);
        }
    }
    for word in content_words(&rest, true).split(' ') {
        if word.is_empty() || CHATTER.contains(&word) {
            continue;
        }
        add(word, &mut ideas);
    }
    ideas.truncate(MAX_SEARCH_WORDS);
    ideas.into_iter().map(|(_, phrases)| phrases).collect()
}

/// The ideas of a message that are not the words of its intent ("contact forms for screen
/// readers" is about forms and screen readers, whatever "contact" suggests).
pub fn topic_ideas(text: &str, intent: Intent) -> Vec<Vec<String>> {
    let own: Vec<&str> = SIGNALS
        .iter()
        .filter(|(i, _)| *i == intent)
        .flat_map(|(_, phrases)| phrases.iter().flat_map(|(p, _)| p.split(' ')))
        .collect();
    ideas(text)
        .into_iter()
        .filter(|idea| !own.contains(&idea[0].as_str()))
        .collect()
}

/// The requests of a message that asks for more than one thing ("What do you offer? And can
/// we book a call?"), each with its intent; one request when it asks for one thing.
pub fn requests(text: &str) -> Vec<(String, Intent)> {
    let mut pieces: Vec<String> = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        current.push(c);
        if matches!(c, '?' | '!') {
            pieces.push(std::mem::take(&mut current));
        }
    }
    pieces.push(current);
    // ", and can we ...", "; also, what ..." start another request.
    let starts = [
        ", and ",
        "; and ",
        " and also ",
        ", also ",
        "; also ",
        ". also ",
        ". and ",
    ];
    let askers = [
        "can ", "could ", "do ", "does ", "what", "how ", "is ", "are ", "would ", "will ",
        "should ", "when ", "where ", "who ", "why ",
    ];
    let mut split: Vec<String> = Vec::new();
    for piece in pieces {
        let mut piece = piece;
        'outer: loop {
            // ASCII lowering keeps every byte where it was (the markers are ASCII), so
            // positions found in `lower` are positions in `piece`.
            let lower = piece.to_ascii_lowercase();
            for start in starts {
                let Some(at) = lower.find(start) else {
                    continue;
                };
                let after = at + start.len();
                if askers.iter().any(|a| lower[after..].starts_with(a)) {
                    split.push(piece[..at].to_owned());
                    piece = piece[after..].to_owned();
                    continue 'outer;
                }
            }
            split.push(piece);
            break;
        }
    }
    let mut requests: Vec<(String, Intent)> = Vec::new();
    for piece in split {
        let trimmed = piece
            .trim()
            .trim_start_matches(|c: char| !c.is_alphanumeric())
            .to_owned();
        let trimmed = strip_leading(&trimmed, &["also", "and", "oh", "plus"]);
        if normalize(&trimmed).is_empty() {
            continue;
        }
        let intent = intent(&trimmed);
        match requests.last_mut() {
            // More about the same request ("I'd like a quote. It's a web app, by June."), or
            // a short follow-up to a question ("... How many?"), belongs to it.
            Some((text, last))
                if kind(text, *last) == kind(&trimmed, intent)
                    && (kind(text, *last) != Kind::Answer
                        || (*last == intent && ideas(&trimmed).len() < 2)) =>
            {
                text.push(' ');
                text.push_str(&trimmed);
            }
            _ => requests.push((trimmed, intent)),
        }
    }
    // A message is answered in at most three parts; the rest goes with the third.
    if requests.len() > MAX_REQUESTS {
        let rest: Vec<String> = requests
            .drain(MAX_REQUESTS..)
            .map(|(text, _)| text)
            .collect();
        if let Some((text, intent)) = requests.last_mut() {
            text.push(' ');
            text.push_str(&rest.join(" "));
            *intent = self::intent(text);
        }
    }
    requests
}

const MAX_REQUESTS: usize = 3;

/// What a request needs: a quote or a booking started, an answer, or only politeness.
#[derive(PartialEq)]
enum Kind {
    Quote,
    Booking,
    Answer,
    Social,
}

fn kind(text: &str, intent: Intent) -> Kind {
    match intent {
        Intent::Scheduling => Kind::Booking,
        Intent::Quote if wants_a_quote(text) || !is_question(text) => Kind::Quote,
        Intent::Greeting | Intent::Thanks => Kind::Social,
        _ => Kind::Answer,
    }
}

fn strip_leading(text: &str, words: &[&str]) -> String {
    let mut rest = text.trim();
    loop {
        let lower = rest.to_ascii_lowercase();
        let Some(word) = words.iter().find(|w| {
            lower.starts_with(*w)
                && lower[w.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| !c.is_alphanumeric())
        }) else {
            return rest.to_owned();
        };
        rest = rest[word.len()..].trim_start_matches(|c: char| !c.is_alphanumeric());
    }
}

/// Whether the message is phrased as a question ("how do you estimate?") rather than a
/// request ("we need a quote").
pub fn is_question(text: &str) -> bool {
    const ASKERS: &[&str] = &[
        "how", "what", "whats", "what's", "why", "is", "are", "do", "does", "should", "can",
        "could", "would", "will", "which", "when", "where", "who", "wait", "before",
    ];
    let normalized = normalize(text);
    text.trim_end().ends_with('?')
        || normalized
            .split(' ')
            .next()
            .is_some_and(|w| ASKERS.contains(&w))
}

/// Whether the message asks for a quote for the visitor's own project, not how quotes are made.
pub fn wants_a_quote(text: &str) -> bool {
    const ASKS: &[&str] = &[
        "quote",
        "how much",
        "proposal",
        "price for",
        "estimate for",
        "cost for",
        "would you charge",
        "do you charge",
        "would it cost",
        "will it cost",
        "would that cost",
        "does it cost",
        "our budget",
        "my budget",
    ];
    let normalized = normalize(text);
    ASKS.iter().any(|p| contains_phrase(&normalized, p))
}

/// Whether the message asks the firm to build or make something for the visitor.
pub fn asks_to_build(text: &str) -> bool {
    const ASKS: &[&str] = &[
        "can you build",
        "could you build",
        "can you make",
        "could you make",
        "can you develop",
        "could you develop",
        "can you create",
        "build us",
        "build for us",
        "make us",
        "develop for us",
    ];
    let normalized = normalize(text);
    ASKS.iter().any(|p| contains_phrase(&normalized, p))
}

/// Part of a day a visitor asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayPart {
    Morning,
    Afternoon,
    Evening,
}

impl DayPart {
    /// The local hours it spans, from (inclusive) to (exclusive).
    pub fn hours(self) -> (u32, u32) {
        match self {
            DayPart::Morning => (6, 12),
            DayPart::Afternoon => (12, 17),
            DayPart::Evening => (17, 23),
        }
    }
}

/// When a visitor would like to talk: a day, a part of the day, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct When {
    /// Days from today (0 today, 1 tomorrow...), as a range of days.
    pub days: Option<(i64, i64)>,
    pub part: Option<DayPart>,
}

/// The time a visitor asked for ("tomorrow afternoon", "on Thursday", "next week"), seen
/// from `today` (the visitor's weekday, 0 = Monday).
pub fn when(text: &str, today: u32) -> When {
    let normalized = normalize(text);
    let has = |p: &str| contains_phrase(&normalized, p);
    let weekdays = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let days = if has("today") || has("this afternoon") || has("this morning") {
        Some((0, 0))
    } else if has("day after tomorrow") {
        Some((2, 2))
    } else if has("tomorrow") {
        Some((1, 1))
    } else if let Some(day) = weekdays
        .iter()
        .position(|d| has(d) || has(&format!("{d}s")))
    {
        let day = u32::try_from(day).unwrap_or(0);
        let ahead = i64::from((day + 7 - today) % 7);
        // "on Thursday", said on a Thursday, is next week's.
        let ahead = if ahead == 0 { 7 } else { ahead };
        Some((ahead, ahead))
    } else if has("next week") {
        let to_monday = i64::from(7 - today);
        Some((to_monday, to_monday + 6))
    } else if has("this week") {
        Some((0, i64::from(6 - today)))
    } else {
        None
    };
    let part = if has("morning") && !has("good morning") {
        Some(DayPart::Morning)
    } else if has("afternoon") && !has("good afternoon") {
        Some(DayPart::Afternoon)
    } else if has("evening") && !has("good evening") {
        Some(DayPart::Evening)
    } else {
        None
    };
    When { days, part }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intents_of_typical_messages() {
        let table = [
            ("Hi!", Intent::Greeting),
            ("What services do you offer?", Intent::Services),
            ("What do you do?", Intent::Services),
            ("How much would a customer portal cost?", Intent::Quote),
            ("Can I get a quote for a mobile app?", Intent::Quote),
            ("I'd like to book a call next week", Intent::Scheduling),
            ("When are you available for a meeting?", Intent::Scheduling),
            ("What's your phone number?", Intent::Contact),
            ("Can I talk to a real person?", Intent::Human),
            (
                "How do you handle caching without stale pages?",
                Intent::Question,
            ),
            ("Can you help us with full-text search?", Intent::Question),
            ("Do you use Kubernetes?", Intent::Question),
            ("thanks!", Intent::Thanks),
        ];
        for (message, expected) in table {
            assert_eq!(intent(message), expected, "{message}");
        }
    }

    #[test]
    fn details_are_picked_out_of_sentences() {
        assert_eq!(
            email("Sure, it's Ada@Example.com."),
            Some("ada@example.com".into())
        );
        assert_eq!(email("no email here"), None);
        assert_eq!(
            name("Hi, I'm Ada Lovelace from Engines Ltd", false),
            Some("Ada Lovelace".into())
        );
        assert_eq!(name("my name is Grace", false), Some("Grace".into()));
        assert_eq!(name("Grace Hopper", true), Some("Grace Hopper".into()));
        assert_eq!(name("Grace Hopper", false), None);
        assert_eq!(
            split_name("Ada King Lovelace"),
            ("Ada King".into(), "Lovelace".into())
        );
        assert_eq!(yes_no("Yes, that's fine"), Some(true));
        assert_eq!(yes_no("no thanks"), Some(false));
        assert_eq!(yes_no("maybe"), None);
        assert_eq!(yes_no("yes please"), Some(true));
        assert_eq!(yes_no("I agree"), Some(true));
        for unclear in [
            "please don't",
            "ok no",
            "sure, but no",
            "yes, don't call me though",
            "yes, don\u{2019}t call me though",
            "ok, but I cannot agree",
        ] {
            assert_ne!(yes_no(unclear), Some(true), "{unclear}");
        }
        assert_eq!(yes_no("please don't"), Some(false));
        assert_eq!(yes_no("I don't agree"), Some(false));
    }

    #[test]
    fn budgets_timelines_and_project_types() {
        assert_eq!(budget("around £30k"), Some("25k_50k"));
        assert_eq!(budget("maybe 8,000 dollars"), Some("under_10k"));
        assert_eq!(budget("we have 150 000"), Some("over_100k"));
        assert_eq!(budget("not sure yet"), Some("not_sure"));
        assert_eq!(budget("soon"), None);
        assert_eq!(timeline("within 3 months"), Some("1_3_months"));
        assert_eq!(timeline("we need it asap"), Some("asap"));
        assert_eq!(timeline("budget 8k, asap. My name is Bo"), Some("asap"));
        assert_eq!(
            normalize("Mail ada@example.com. Node.js?"),
            "mail ada@example.com node.js"
        );
        assert_eq!(timeline("in six months or so"), Some("3_6_months"));
        assert_eq!(timeline("next year"), Some("6_plus_months"));
        assert_eq!(
            project_type("a customer portal with a dashboard"),
            Some("web_app")
        );
        assert_eq!(project_type("an iOS and Android app"), Some("mobile_app"));
        assert_eq!(
            project_type("move our legacy monolith off Oracle"),
            Some("modernisation")
        );
        assert_eq!(
            project_type("hook our CRM up via an API"),
            Some("api_integration")
        );
    }

    #[test]
    fn yes_is_not_a_name_and_companies_are_found_in_passing() {
        assert_eq!(name("yes", true), None);
        assert_eq!(name("Ana Silva", true), Some("Ana Silva".into()));
        assert_eq!(name("Ana Silva", false), None);
        assert_eq!(
            company("Our company is Clinica Norte, in Porto"),
            Some("Clinica Norte".into())
        );
        assert_eq!(company("company: Acme Ltd"), Some("Acme Ltd".into()));
        assert_eq!(company("the company wants an app"), None);
    }

    #[test]
    fn text_that_changes_length_when_lowered_is_safe() {
        // "İ" is two bytes, its full lowercase three: positions must not be mixed up.
        assert_eq!(
            name("İ need a quote, I'm Éric Ünal", false),
            Some("Éric Ünal".into())
        );
        assert_eq!(company("İİİİ company: Ünal GmbH"), Some("Ünal GmbH".into()));
        assert_eq!(timeline("in 400000000 years"), None);
        assert_eq!(intent("İ need a quote"), Intent::Quote);
    }

    #[test]
    fn amounts_win_over_a_flexible_timeline() {
        assert_eq!(budget("budget 20k, flexible timeline"), Some("10k_25k"));
        assert_eq!(budget("the budget is flexible"), Some("not_sure"));
        assert_eq!(budget("no idea yet"), Some("not_sure"));
        assert_eq!(budget("soon"), None);
    }

    #[test]
    fn choices_and_search_terms() {
        assert_eq!(choice("the second one please", 5), Some(1));
        assert_eq!(choice("3", 5), Some(2));
        assert_eq!(choice("9", 5), None);
        assert_eq!(
            search_terms("What do you think about Postgres full-text search?"),
            "postgres full text search"
        );
    }

    #[test]
    fn ideas_merge_synonyms_and_drop_chatter() {
        let found = ideas("should a small team bother with k8s or kubernetes?");
        let firsts: Vec<&str> = found.iter().map(|i| i[0].as_str()).collect();
        assert_eq!(firsts, ["small team", "k8s"], "{found:?}");
        assert!(
            found[1].contains(&"kubernetes".to_owned()),
            "one idea, both words"
        );
        assert!(ideas("ok thanks").is_empty());
        assert_eq!(
            topic_ideas(
                "how do you make contact forms work for screen readers?",
                Intent::Contact
            )
            .len(),
            2
        );
        assert!(topic_ideas("What services do you offer?", Intent::Services).is_empty());
    }

    #[test]
    fn a_message_with_two_requests_is_two() {
        let both = requests("What's your email address, and do you offer technical due diligence?");
        assert_eq!(both.len(), 2, "{both:?}");
        assert_eq!(both[0].1, Intent::Contact);
        let both = requests("Is Rust good for web backends? And can we book a call next week?");
        assert_eq!(both[1].1, Intent::Scheduling, "{both:?}");
        assert_eq!(both[1].0, "can we book a call next week?");
        // One request said in two sentences stays one.
        assert_eq!(
            requests("I'd like a quote. We need it for a web app!").len(),
            1
        );
        assert_eq!(requests("What services do you offer?").len(), 1);
        // No panic where lowering changes byte lengths.
        assert!(!requests("İİ, and can we talk? ÉÉ, also what").is_empty());
        // One character shorter and one longer when lowered: the same total length.
        assert_eq!(requests("ẞé, and can we talk Ⱥ").len(), 2);
    }

    #[test]
    fn questions_about_quotes_are_not_requests_for_one() {
        assert!(is_question("How do you estimate a project?"));
        assert!(!wants_a_quote("How do you estimate a project?"));
        assert!(wants_a_quote("How much would a customer portal cost?"));
        assert!(wants_a_quote(
            "what would you charge to set up our hosting?"
        ));
        assert!(!is_question("We need a portal for our dealers"));
    }

    #[test]
    fn times_asked_for_are_understood() {
        // Today is a Wednesday (2).
        let t = when("I want to talk to someone tomorrow afternoon", 2);
        assert_eq!(t.days, Some((1, 1)));
        assert_eq!(t.part, Some(DayPart::Afternoon));
        assert_eq!(when("free on Thursday?", 2).days, Some((1, 1)));
        assert_eq!(when("on Wednesday", 2).days, Some((7, 7)), "next week's");
        assert_eq!(when("next week", 2).days, Some((5, 11)));
        assert_eq!(when("good morning!", 2), When::default());
        assert_eq!(intent("good morning!"), Intent::Greeting);
        assert_eq!(intent("ok bye!"), Intent::Thanks);
    }
}
