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
const THANKS: &[&str] = &["thanks", "thank you", "cheers", "great, thanks"];

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
    let scores: Vec<(Intent, u32)> = SIGNALS
        .iter()
        .map(|(intent, phrases)| {
            let score = phrases
                .iter()
                .filter(|(phrase, _)| contains_phrase(&normalized, phrase))
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
    if yes_no(text) == Some(true) {
        return true;
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
        .take(MAX_SEARCH_WORDS)
        .collect::<Vec<_>>()
        .join(" ")
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
}
