//! Markdown → sanitized HTML with heading anchors, the "In this article" table of contents,
//! plain text for search and excerpts, word count and reading time. Runs when a post is
//! saved, never when it is read.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validation::slugify;

/// One heading of the table of contents; h3s nest under the h2 before them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TocEntry {
    /// The heading's anchor: link to `#id`.
    pub id: String,
    /// The heading's text, HTML-escaped (`<` as `&lt;`…): safe to insert as HTML.
    pub text: String,
    pub level: u8,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub children: Vec<TocEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub html: String,
    pub toc: Vec<TocEntry>,
    /// Prose without code blocks: for the word count.
    pub prose: String,
    /// The paragraphs before the first heading (or else the first paragraph): for excerpts.
    pub lead: String,
    /// Prose and code: what search indexes.
    pub search_text: String,
    pub word_count: i32,
    pub reading_minutes: i32,
}

/// Words read per minute, for the reading time.
pub const WORDS_PER_MINUTE: i32 = 230;

pub fn render(markdown: &str) -> Rendered {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_SMART_PUNCTUATION;
    let mut events: Vec<Event> = Parser::new_ext(markdown, options).collect();

    let headings = assign_heading_ids(&mut events);
    let footnotes = prefix_footnote_ids(&mut events);
    let (prose, search_text) = plain_text(&events);
    let lead = lead_text(&events);

    let mut raw_html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut raw_html, events.into_iter());
    let own_ids: HashSet<String> = headings
        .iter()
        .map(|h| h.id.clone())
        .chain(footnotes)
        .collect();
    let html = sanitizer(own_ids).clean(&raw_html).to_string();

    let word_count = i32::try_from(prose.split_whitespace().count()).unwrap_or(i32::MAX);
    Rendered {
        html,
        toc: table_of_contents(headings),
        prose,
        lead,
        search_text,
        word_count,
        reading_minutes: (word_count + WORDS_PER_MINUTE - 1) / WORDS_PER_MINUTE,
    }
    .with_minimum_reading_time()
}

/// An HTML body (an imported post's): sanitized like rendered markdown, its headings' own
/// ids kept when they are slug-like (Ghost writes them), and the same table of contents,
/// text, lead and reading time as a markdown body gets.
pub fn render_html(html: &str) -> Rendered {
    let own_ids: HashSet<String> = heading_spans(html)
        .into_iter()
        .filter_map(|h| h.id)
        .filter(|id| is_anchor(id))
        .collect();
    let html = sanitizer(own_ids).clean(html).to_string();
    let mut headings = Vec::new();
    for span in heading_spans(&html) {
        let (Some(id), Some(level)) = (span.id, span.level) else {
            continue;
        };
        headings.push(Heading {
            level,
            id,
            text: escape_html(&collapse_spaces(&text_of_html(&span.inner))),
        });
    }
    let prose = collapse_spaces(&text_of_html(&html));
    let lead = html
        .find("<p>")
        .and_then(|start| {
            let rest = &html[start + 3..];
            rest.find("</p>").map(|end| &rest[..end])
        })
        .map(|p| collapse_spaces(&text_of_html(p)))
        .unwrap_or_else(|| prose.clone());
    let word_count = i32::try_from(prose.split_whitespace().count()).unwrap_or(i32::MAX);
    Rendered {
        toc: table_of_contents(headings),
        search_text: text_of_html(&html),
        html,
        prose,
        lead,
        word_count,
        reading_minutes: (word_count + WORDS_PER_MINUTE - 1) / WORDS_PER_MINUTE,
    }
    .with_minimum_reading_time()
}

fn is_anchor(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 120
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

struct HeadingSpan {
    level: Option<HeadingLevel>,
    id: Option<String>,
    inner: String,
}

/// The `<h2>`… `<h3>` elements of (well-formed, sanitized or Ghost-written) HTML: level, id
/// and inner HTML.
fn heading_spans(html: &str) -> Vec<HeadingSpan> {
    let mut spans = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<h") {
        let after = &rest[start + 2..];
        let level = match after.as_bytes().first() {
            Some(b'2') => Some(HeadingLevel::H2),
            Some(b'3') => Some(HeadingLevel::H3),
            Some(b'1' | b'4' | b'5' | b'6') => None,
            _ => {
                rest = after;
                continue;
            }
        };
        let Some(open_end) = after.find('>') else {
            break;
        };
        let attrs = &after[1..open_end];
        let id = attrs.find("id=\"").and_then(|i| {
            let value = &attrs[i + 4..];
            value.find('"').map(|end| value[..end].to_owned())
        });
        let body = &after[open_end + 1..];
        let Some(close) = body.find("</h") else {
            break;
        };
        spans.push(HeadingSpan {
            level,
            id,
            inner: body[..close].to_owned(),
        });
        rest = &body[close..];
    }
    spans
}

/// The text of HTML: tags dropped (block ends as line breaks), the usual entities decoded.
pub fn text_of_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        decode_entities_into(&mut out, &rest[..lt]);
        let tag_end = rest[lt..].find('>').map_or(rest.len(), |e| lt + e + 1);
        let tag = &rest[lt..tag_end];
        let name = tag
            .trim_start_matches(['<', '/'])
            .split(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .next()
            .unwrap_or_default();
        if matches!(
            name,
            "p" | "br"
                | "li"
                | "h1"
                | "h2"
                | "h3"
                | "h4"
                | "h5"
                | "h6"
                | "pre"
                | "blockquote"
                | "figcaption"
                | "tr"
                | "div"
        ) && !out.ends_with('\n')
            && !out.is_empty()
        {
            out.push('\n');
        }
        rest = &rest[tag_end..];
    }
    decode_entities_into(&mut out, rest);
    out.trim().to_owned()
}

fn decode_entities_into(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let Some(semi) = after.find(';').filter(|s| *s <= 10) else {
            out.push('&');
            rest = after;
            continue;
        };
        let entity = &after[..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

impl Rendered {
    fn with_minimum_reading_time(mut self) -> Self {
        self.reading_minutes = self.reading_minutes.max(1);
        self
    }
}

struct Heading {
    level: HeadingLevel,
    id: String,
    text: String,
}

/// Gives every heading a unique id from its text (`## Why Rust?` → `why-rust`), writing it
/// into the event so the HTML carries it, and returns the headings in order.
fn assign_heading_ids(events: &mut [Event]) -> Vec<Heading> {
    let mut headings = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut i = 0;
    while i < events.len() {
        if let Event::Start(Tag::Heading { level, .. }) = &events[i] {
            let level = *level;
            let text = heading_text(&events[i + 1..]);
            let id = unique_id(&mut seen, &text);
            if let Event::Start(Tag::Heading { id: slot, .. }) = &mut events[i] {
                *slot = Some(CowStr::from(id.clone()));
            }
            headings.push(Heading { level, id, text });
        }
        i += 1;
    }
    headings
}

fn heading_text(events: &[Event]) -> String {
    let mut text = String::new();
    for event in events {
        match event {
            Event::End(TagEnd::Heading(_)) => break,
            Event::Text(t) | Event::Code(t) => text.push_str(t),
            _ => {}
        }
    }
    text.trim().to_owned()
}

/// Footnote anchors get a `fn-` prefix (`[^note]` → `#fn-note`): the names are the author's,
/// and a bare `id="main"` could collide with the page's own elements.
fn prefix_footnote_ids(events: &mut [Event]) -> Vec<String> {
    let mut ids = Vec::new();
    for event in events.iter_mut() {
        let name = match event {
            Event::FootnoteReference(name) | Event::Start(Tag::FootnoteDefinition(name)) => name,
            _ => continue,
        };
        let id = format!("fn-{}", slugify(name));
        *name = CowStr::from(id.clone());
        ids.push(id);
    }
    ids
}

fn unique_id(seen: &mut HashMap<String, usize>, text: &str) -> String {
    let mut base = slugify(text);
    if base.is_empty() {
        base = "section".to_owned();
    }
    let count = seen.entry(base.clone()).or_insert(0);
    *count += 1;
    if *count == 1 {
        base
    } else {
        format!("{base}-{count}")
    }
}

/// h2s at the top, each h3 under the h2 before it (or at the top if there is none).
fn table_of_contents(headings: Vec<Heading>) -> Vec<TocEntry> {
    let mut toc: Vec<TocEntry> = Vec::new();
    for heading in headings {
        let entry = |level| TocEntry {
            id: heading.id.clone(),
            text: escape_html(&heading.text),
            level,
            children: Vec::new(),
        };
        match heading.level {
            HeadingLevel::H2 => toc.push(entry(2)),
            HeadingLevel::H3 => match toc.last_mut() {
                Some(parent) if parent.level == 2 => parent.children.push(entry(3)),
                _ => toc.push(entry(3)),
            },
            _ => {}
        }
    }
    toc
}

/// The text of the document: prose alone, and prose with code.
fn plain_text(events: &[Event]) -> (String, String) {
    let mut prose = String::new();
    let mut all = String::new();
    let mut in_code_block = false;
    for event in events {
        match event {
            Event::Start(Tag::CodeBlock(_)) => in_code_block = true,
            Event::End(TagEnd::CodeBlock) => {
                in_code_block = false;
                all.push(' ');
            }
            Event::Text(text) | Event::Code(text) => {
                all.push_str(text);
                if !in_code_block {
                    prose.push_str(text);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                prose.push(' ');
                all.push(' ');
            }
            // Blocks end a word; inline markup (`**bold**ly`) does not.
            Event::End(end)
                if !matches!(
                    end,
                    TagEnd::Emphasis
                        | TagEnd::Strong
                        | TagEnd::Strikethrough
                        | TagEnd::Link
                        | TagEnd::Image
                ) =>
            {
                prose.push(' ');
                all.push(' ');
            }
            _ => {}
        }
    }
    (collapse_spaces(&prose), collapse_spaces(&all))
}

/// The text of the paragraphs before the first heading; if there are none, of the first
/// paragraph.
fn lead_text(events: &[Event]) -> String {
    let mut before_heading = String::new();
    let mut first_paragraph = String::new();
    let mut seen_heading = false;
    let mut in_paragraph = false;
    let mut paragraphs = 0;
    for event in events {
        match event {
            Event::Start(Tag::Heading { .. }) => seen_heading = true,
            Event::Start(Tag::Paragraph) => {
                in_paragraph = true;
                paragraphs += 1;
            }
            Event::End(TagEnd::Paragraph) => {
                in_paragraph = false;
                before_heading.push(' ');
            }
            Event::Text(text) | Event::Code(text) if in_paragraph => {
                if !seen_heading {
                    before_heading.push_str(text);
                }
                if paragraphs == 1 {
                    first_paragraph.push_str(text);
                }
            }
            Event::SoftBreak | Event::HardBreak if in_paragraph => before_heading.push(' '),
            _ => {}
        }
    }
    let lead = collapse_spaces(&before_heading);
    if lead.is_empty() {
        collapse_spaces(&first_paragraph)
    } else {
        lead
    }
}

fn collapse_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An excerpt from the prose: at most `max` characters, cut at a word, with an ellipsis.
pub fn excerpt(prose: &str, max: usize) -> String {
    if prose.chars().count() <= max {
        return prose.to_owned();
    }
    let mut cut: String = prose.chars().take(max).collect();
    if let Some(space) = cut.rfind(' ') {
        cut.truncate(space);
    }
    let cut = cut.trim_end_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace());
    format!("{cut}…")
}

/// Text as HTML: the five characters that could start markup or end an attribute escaped.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_html_into(&mut out, text);
    out
}

/// [`escape_html`] appending to `out`.
pub(super) fn escape_html_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Markdown may contain raw HTML; whatever it holds, only safe markup comes out: no scripts,
/// no event handlers, no `javascript:` URLs. `language-*` code classes stay, and so do the
/// ids this renderer made (headings, footnotes); an `id` the author wrote in raw HTML is
/// dropped, so that it cannot collide with the page around the post.
fn sanitizer(own_ids: HashSet<String>) -> ammonia::Builder<'static> {
    let own_ids = Arc::new(own_ids);
    let mut builder = ammonia::Builder::default();
    builder
        .add_tag_attributes("h1", &["id"])
        .add_tag_attributes("h2", &["id"])
        .add_tag_attributes("h3", &["id"])
        .add_tag_attributes("h4", &["id"])
        .add_tag_attributes("h5", &["id"])
        .add_tag_attributes("h6", &["id"])
        .add_tag_attributes("code", &["class"])
        .add_tag_attributes("sup", &["id"])
        .add_tag_attributes("div", &["id", "class"])
        .attribute_filter(
            move |element, attribute, value| match (element, attribute) {
                ("code", "class") => value
                    .split_whitespace()
                    .all(|c| c.starts_with("language-"))
                    .then_some(value.into()),
                ("div", "class") => (value == "footnote-definition").then_some(value.into()),
                (_, "id") => own_ids.contains(value).then_some(value.into()),
                _ => Some(value.into()),
            },
        )
        .link_rel(Some("noopener noreferrer"));
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_get_unique_anchors_and_a_nested_toc() {
        let r = render(
            "# Title\n\nIntro.\n\n## Why Rust?\n\ntext\n\n### Memory safety\n\n### Speed\n\n## Why Rust?\n\n#### deep\n",
        );
        assert!(
            r.html.contains(r#"<h2 id="why-rust">Why Rust?</h2>"#),
            "{}",
            r.html
        );
        assert!(r.html.contains(r#"<h2 id="why-rust-2">"#), "{}", r.html);
        assert_eq!(r.toc.len(), 2);
        assert_eq!(r.toc[0].id, "why-rust");
        let children: Vec<_> = r.toc[0].children.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(children, ["memory-safety", "speed"]);
        assert!(r.toc[1].children.is_empty(), "h4 is not in the TOC");
    }

    #[test]
    fn toc_text_is_escaped_and_authors_ids_cannot_collide_with_the_page() {
        let r = render(
            "## \\<img src=x onerror=alert(1)\\> & more\n\n<div id=\"login\">x</div>\n\n<h2 id=\"main\">Raw</h2>\n\nA note[^main].\n\n[^main]: The note.\n",
        );
        assert_eq!(
            r.toc[0].text, "&lt;img src=x onerror=alert(1)&gt; &amp; more",
            "{:?}",
            r.toc
        );
        assert!(!r.html.contains("id=\"login\""), "{}", r.html);
        assert!(!r.html.contains("id=\"main\""), "{}", r.html);
        assert!(r.html.contains("id=\"fn-main\""), "{}", r.html);
        assert!(r.html.contains("href=\"#fn-main\""), "{}", r.html);
        assert!(
            r.html
                .contains("<h2 id=\"img-src-x-onerror-alert-1-more\">"),
            "{}",
            r.html
        );
    }

    #[test]
    fn an_h3_before_any_h2_is_top_level() {
        let r = render("### Early\n\n## Later\n");
        let ids: Vec<_> = r.toc.iter().map(|t| (t.id.as_str(), t.level)).collect();
        assert_eq!(ids, [("early", 3), ("later", 2)]);
    }

    #[test]
    fn hostile_markdown_is_defused() {
        // Blank lines between, so each is parsed on its own (markdown or raw HTML).
        let hostile = [
            "<script>alert('x')</script>",
            "<img src=\"x\" onerror=\"alert(1)\">",
            "[click](javascript:alert(1))",
            "<a href=\"JaVaScRiPt:alert(1)\">mixed case</a>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<div onclick=\"steal()\" style=\"position:fixed\">overlay</div>",
            "<svg><script>alert(2)</script></svg>",
            "<a href=\"data:text/html;base64,PHNjcmlwdD4=\">data</a>",
            "<code class=\"language-rust evil\">ok</code>",
            "![x](javascript:alert(3))",
        ]
        .join("\n\n");
        let html = render(&hostile).html.to_lowercase();
        for forbidden in [
            "<script",
            "onerror",
            "href=\"javascript",
            "src=\"javascript",
            "<iframe",
            "onclick",
            "style=",
            "<svg",
            "data:text",
            "evil",
        ] {
            assert!(!html.contains(forbidden), "{forbidden} survived in {html}");
        }
        assert!(
            html.contains("mixed case"),
            "the text itself is kept: {html}"
        );
    }

    #[test]
    fn code_blocks_are_kept_escaped_with_their_language() {
        let r = render("```rust\nfn main() { println!(\"<b>hi</b>\"); }\n```\n");
        assert!(
            r.html.contains(r#"<pre><code class="language-rust">"#),
            "{}",
            r.html
        );
        assert!(r.html.contains("&lt;b&gt;hi&lt;/b&gt;"), "{}", r.html);
        assert_eq!(r.word_count, 0, "code is not counted as prose");
        assert!(r.search_text.contains("println"), "code is searchable");
    }

    #[test]
    fn links_are_kept_with_a_safe_rel() {
        let r = render("[Rust](https://www.rust-lang.org)");
        assert!(
            r.html.contains(
                r#"<a href="https://www.rust-lang.org" rel="noopener noreferrer">Rust</a>"#
            ),
            "{}",
            r.html
        );
    }

    #[test]
    fn an_html_body_is_sanitized_and_read_like_markdown() {
        let r = render_html(
            "<p>Intro &amp; more.</p><h2 id=\"the-stack\">The <em>stack</em></h2>\
             <script>alert(1)</script><h3 id=\"Bad Id\">Deep</h3><p>Body text.</p>",
        );
        assert!(!r.html.contains("script"));
        assert!(r.html.contains("<h2 id=\"the-stack\">"));
        assert!(!r.html.contains("Bad Id"));
        assert_eq!(r.toc.len(), 1);
        assert_eq!(r.toc[0].id, "the-stack");
        assert_eq!(r.toc[0].text, "The stack");
        assert_eq!(r.lead, "Intro & more.");
        assert!(r.search_text.contains("Body text."));
        assert_eq!(r.word_count, 8);
    }

    #[test]
    fn words_and_reading_time() {
        let text = "word ".repeat(461);
        let r = render(&text);
        assert_eq!(r.word_count, 461);
        assert_eq!(
            r.reading_minutes, 3,
            "461 words at 230 a minute, rounded up"
        );
        assert_eq!(render("short").reading_minutes, 1);
    }

    #[test]
    fn excerpts_cut_at_a_word() {
        let prose = "Rust makes services fast and small, and it keeps them correct.";
        assert_eq!(excerpt(prose, 200), prose);
        assert_eq!(excerpt(prose, 30), "Rust makes services fast and…");
    }

    #[test]
    fn the_lead_is_what_comes_before_the_first_heading() {
        let r = render("Intro one.\n\nIntro two.\n\n## Part\n\nLater.");
        assert_eq!(r.lead, "Intro one. Intro two.");
        let r = render("## Part\n\nFirst paragraph.\n\nSecond.");
        assert_eq!(r.lead, "First paragraph.");
    }

    #[test]
    fn prose_skips_markup() {
        let r = render("## Heading\n\nSome *emphasis* and `code`.\n\n- one\n- two\n");
        assert_eq!(r.prose, "Heading Some emphasis and code. one two");
    }
}
