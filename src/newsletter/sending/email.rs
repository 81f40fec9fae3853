//! The message an issue sends, built from the post when sending starts: an HTML part with
//! its styles inlined on each element (mail clients drop `<style>` blocks and classes),
//! links and images made absolute, a hidden preview text; a plain-text part; and a footer
//! with the firm's name and postal address and the reader's own unsubscribe and
//! preferences links. The per-reader links are placeholders filled in for each recipient.

use ammonia::{Builder, UrlRelative};

use crate::blog::MailedPost;
use crate::newsletter::pages::escape;
use crate::site::SiteProfile;

/// Filled with the reader's one-click unsubscribe link.
const UNSUBSCRIBE: &str = "{{unsubscribe_url}}";
/// Filled with the reader's preferences link.
const MANAGE: &str = "{{manage_url}}";

/// An issue's message before it is addressed to anyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub subject: String,
    pub html: String,
    pub text: String,
}

impl Letter {
    /// The HTML and text parts for one reader.
    pub fn personalize(&self, unsubscribe_url: &str, manage_url: &str) -> (String, String) {
        let html = self
            .html
            .replace(UNSUBSCRIBE, &escape(unsubscribe_url))
            .replace(MANAGE, &escape(manage_url));
        let text = self
            .text
            .replace(UNSUBSCRIBE, unsubscribe_url)
            .replace(MANAGE, manage_url);
        (html, text)
    }
}

const FONT: &str =
    "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;";

/// Styles set on each element of the post's body, as attributes.
const ELEMENT_STYLES: &[(&str, &str)] = &[
    (
        "p",
        "margin:0 0 16px;font-size:16px;line-height:1.6;color:#1f2937;",
    ),
    (
        "h1",
        "margin:28px 0 12px;font-size:26px;line-height:1.3;color:#111827;",
    ),
    (
        "h2",
        "margin:28px 0 12px;font-size:22px;line-height:1.3;color:#111827;",
    ),
    (
        "h3",
        "margin:24px 0 10px;font-size:18px;line-height:1.3;color:#111827;",
    ),
    (
        "h4",
        "margin:20px 0 8px;font-size:16px;line-height:1.3;color:#111827;",
    ),
    ("a", "color:#2563eb;text-decoration:underline;"),
    (
        "img",
        "max-width:100%;height:auto;border:0;display:block;margin:16px 0;",
    ),
    (
        "ul",
        "margin:0 0 16px;padding-left:24px;font-size:16px;line-height:1.6;color:#1f2937;",
    ),
    (
        "ol",
        "margin:0 0 16px;padding-left:24px;font-size:16px;line-height:1.6;color:#1f2937;",
    ),
    ("li", "margin:0 0 6px;"),
    (
        "blockquote",
        "margin:0 0 16px;padding:4px 16px;border-left:4px solid #d1d5db;color:#4b5563;",
    ),
    (
        "pre",
        "margin:0 0 16px;padding:12px;background:#f3f4f6;border-radius:4px;overflow-x:auto;font-size:13px;line-height:1.5;white-space:pre-wrap;",
    ),
    (
        "code",
        "font-family:SFMono-Regular,Consolas,'Liberation Mono',Menlo,monospace;font-size:13px;background:#f3f4f6;",
    ),
    (
        "table",
        "border-collapse:collapse;margin:0 0 16px;font-size:14px;",
    ),
    (
        "th",
        "border:1px solid #d1d5db;padding:6px 10px;text-align:left;background:#f9fafb;",
    ),
    ("td", "border:1px solid #d1d5db;padding:6px 10px;"),
    ("hr", "border:0;border-top:1px solid #e5e7eb;margin:24px 0;"),
];

/// The post's URL on the public site.
pub fn post_url(site: &SiteProfile, slug: &str) -> String {
    format!("{}/blog/{slug}", site.public_url.trim_end_matches('/'))
}

/// The message for `post`, from `site` (the firm's name and address go in the footer).
pub fn compose(post: &MailedPost, subject: &str, preview: &str, site: &SiteProfile) -> Letter {
    let url = post_url(site, &post.slug);
    let firm = escape(&site.firm_name);
    let address = postal_line(site);
    let mut html = String::with_capacity(post.html.len() * 2 + 4096);
    html.push_str(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light\">",
    );
    html.push_str(&format!("<title>{}</title></head>", escape(subject)));
    html.push_str("<body style=\"margin:0;padding:0;background:#f4f4f5;\">");
    // The preview text mail clients show after the subject, hidden in the message itself.
    html.push_str(&format!(
        "<div style=\"display:none;max-height:0;overflow:hidden;opacity:0;mso-hide:all;\">{}</div>",
        escape(preview)
    ));
    html.push_str(
        "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" \
         style=\"background:#f4f4f5;\"><tr><td align=\"center\" style=\"padding:24px 12px;\">\
         <table role=\"presentation\" width=\"600\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" \
         style=\"max-width:600px;width:100%;background:#ffffff;border-radius:6px;\">",
    );
    html.push_str(&format!(
        "<tr><td style=\"padding:32px 32px 8px;{FONT}\">\
         <p style=\"margin:0 0 8px;font-size:13px;color:#6b7280;\">{firm}</p>\
         <h1 style=\"margin:0 0 20px;font-size:28px;line-height:1.25;color:#111827;\">\
         <a href=\"{}\" style=\"color:#111827;text-decoration:none;\">{}</a></h1>",
        escape(&url),
        escape(&post.title)
    ));
    if let Some(cover) = post
        .cover_image_url
        .as_deref()
        .and_then(|c| absolute(&url, c))
    {
        html.push_str(&format!(
            "<img src=\"{}\" alt=\"{}\" width=\"536\" style=\"max-width:100%;height:auto;border:0;display:block;margin:0 0 20px;border-radius:4px;\">",
            escape(&cover),
            escape(post.cover_image_alt.as_deref().unwrap_or_default())
        ));
    }
    html.push_str(&inline_styles(&post.html, &url));
    html.push_str(&format!(
        "<p style=\"margin:24px 0 0;font-size:16px;\"><a href=\"{}\" style=\"color:#2563eb;\">Read it on the site</a></p>\
         </td></tr>",
        escape(&url)
    ));
    html.push_str(&format!(
        "<tr><td style=\"padding:24px 32px 32px;{FONT}font-size:12px;line-height:1.6;color:#6b7280;border-top:1px solid #e5e7eb;\">\
         <p style=\"margin:0 0 8px;\">You receive this because you subscribed to {firm}'s newsletter.</p>\
         <p style=\"margin:0 0 8px;\"><a href=\"{UNSUBSCRIBE}\" style=\"color:#6b7280;\">Unsubscribe</a> · \
         <a href=\"{MANAGE}\" style=\"color:#6b7280;\">Manage your preferences</a></p>\
         <p style=\"margin:0;\">{}</p></td></tr>",
        escape(&address)
    ));
    html.push_str("</table></td></tr></table></body></html>");

    let text = format!(
        "{title}\n{url}\n\n{body}\n\n-- \nYou receive this because you subscribed to {name}'s newsletter.\n\
         Unsubscribe: {UNSUBSCRIBE}\nManage your preferences: {MANAGE}\n{address}\n",
        title = post.title,
        body = post.markdown.trim(),
        name = site.firm_name,
    );
    Letter {
        subject: subject.to_owned(),
        html,
        text,
    }
}

/// The firm's name and postal address on one line (CAN-SPAM asks for a postal address).
fn postal_line(site: &SiteProfile) -> String {
    let mut parts = vec![site.firm_name.clone()];
    if let Some(a) = &site.postal_address {
        parts.push(a.street.clone());
        let mut town = format!("{} {}", a.postal_code, a.locality);
        if let Some(region) = a.region.as_deref().filter(|r| !r.is_empty()) {
            town.push_str(&format!(", {region}"));
        }
        parts.push(town.trim().to_owned());
        parts.push(a.country.clone());
    }
    parts.join(", ")
}

/// The post's (already sanitized) HTML, cleaned again with a style attribute set on each
/// element and every relative link and image made absolute against the post's URL.
fn inline_styles(html: &str, post_url: &str) -> String {
    let mut builder = Builder::default();
    if let Ok(base) = url::Url::parse(post_url) {
        builder.url_relative(UrlRelative::RewriteWithBase(base));
    }
    for (tag, style) in ELEMENT_STYLES {
        builder.set_tag_attribute_value(*tag, "style", *style);
    }
    builder.clean(html).to_string()
}

/// `link` made absolute against `base`, if it is then an http(s) URL.
fn absolute(base: &str, link: &str) -> Option<String> {
    url::Url::parse(base)
        .and_then(|base| base.join(link))
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"))
        .map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::PostalAddress;

    fn site() -> SiteProfile {
        SiteProfile {
            firm_name: "Northwind <Software>".into(),
            tagline: String::new(),
            contact_email: "hello@northwind.example".into(),
            phone: None,
            postal_address: Some(PostalAddress {
                street: "12 Harbour Street".into(),
                locality: "Bristol".into(),
                postal_code: "BS1 4RN".into(),
                region: None,
                country: "GB".into(),
            }),
            social_links: Vec::new(),
            public_url: "https://northwind.example".into(),
            branding: crate::site::Branding::default(),
            updated_at: chrono::Utc::now(),
        }
    }

    fn post() -> MailedPost {
        MailedPost {
            id: uuid::Uuid::now_v7(),
            slug: "why-rust".into(),
            title: "Why Rust & why now".into(),
            excerpt: "Speed.".into(),
            html: "<h2 id=\"a\">Speed</h2><p>See <a href=\"/services/rust\">our work</a> and \
                   <a href=\"#a\">this</a>.</p><p><img src=\"/img/chart.png\" alt=\"A chart\"></p>\
                   <pre><code class=\"language-rust\">fn main() {}</code></pre>"
                .into(),
            markdown: "## Speed\n\nSee [our work](/services/rust).".into(),
            status: "published".into(),
            scheduled_at: None,
            tags: vec!["rust".into()],
            cover_image_url: Some("/img/cover.jpg".into()),
            cover_image_alt: Some("A harbour".into()),
        }
    }

    #[test]
    fn styles_are_inlined_and_links_made_absolute() {
        let letter = compose(&post(), "Why Rust", "Speed, mostly", &site());
        let html = &letter.html;
        assert!(!html.contains("<style"), "{html}");
        assert!(html.contains("<p style=\"margin:0 0 16px;"), "{html}");
        assert!(html.contains("<h2 style=\""), "{html}");
        assert!(
            html.contains("href=\"https://northwind.example/services/rust\""),
            "{html}"
        );
        assert!(
            html.contains("href=\"https://northwind.example/blog/why-rust#a\""),
            "{html}"
        );
        assert!(
            html.contains("src=\"https://northwind.example/img/chart.png\""),
            "{html}"
        );
        assert!(
            html.contains("src=\"https://northwind.example/img/cover.jpg\""),
            "{html}"
        );
        assert!(!html.contains("class="), "{html}");
        assert!(html.contains(">Speed, mostly</div>"), "{html}");
        // Text from the post and the site is escaped.
        assert!(html.contains("Why Rust &amp; why now"), "{html}");
        assert!(html.contains("Northwind &lt;Software&gt;"), "{html}");
    }

    #[test]
    fn each_reader_gets_their_own_links_and_the_firms_address() {
        let letter = compose(&post(), "Why Rust", "Speed", &site());
        let (html, text) = letter.personalize(
            "https://api.example/v1/newsletter/unsubscribe?email=a%40b.c&sig=x",
            "https://api.example/v1/newsletter/preferences?email=a%40b.c&sig=y",
        );
        assert!(
            html.contains(
                "href=\"https://api.example/v1/newsletter/unsubscribe?email=a%40b.c&amp;sig=x\""
            ),
            "{html}"
        );
        assert!(
            text.contains(
                "Unsubscribe: https://api.example/v1/newsletter/unsubscribe?email=a%40b.c&sig=x"
            ),
            "{text}"
        );
        assert!(text.contains("Manage your preferences: https://api.example/v1/newsletter/preferences?email=a%40b.c&sig=y"));
        for part in [&html, &text] {
            assert!(!part.contains("{{"), "{part}");
            assert!(part.contains("12 Harbour Street"), "{part}");
            assert!(part.contains("BS1 4RN Bristol"), "{part}");
        }
        assert!(text.starts_with("Why Rust & why now\nhttps://northwind.example/blog/why-rust\n"));
        assert!(text.contains("## Speed"));
    }
}
