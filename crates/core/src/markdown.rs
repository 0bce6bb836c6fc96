//! Knowledge-base article Markdown: rendered to sanitized HTML before it
//! reaches the webview, and reduced to plain text for the search index.
//!
//! Articles come from the platform, but they are written by people and pass
//! through sync: the webview must never receive script, event handlers,
//! frames, inline styles or `javascript:` links from them, whatever the
//! Markdown contains (raw HTML is allowed by Markdown and cleaned here).

use std::collections::HashSet;

use ammonia::UrlRelative;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

fn markdown_options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// Renders article Markdown to HTML that is safe to insert into the page:
/// ammonia's allow-list of tags and attributes (no `script`, `style`,
/// `iframe`, event handlers or `style` attributes), links only to `http`,
/// `https` and `mailto` URLs (relative URLs are dropped: an article has no
/// base to resolve them against), and `rel="noopener noreferrer"` on links.
pub fn render_article(markdown: &str) -> String {
    let parser = Parser::new_ext(markdown, markdown_options());
    let mut unsafe_html = String::with_capacity(markdown.len() + markdown.len() / 2);
    html::push_html(&mut unsafe_html, parser);
    ammonia::Builder::default()
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer"))
        .clean(&unsafe_html)
        .to_string()
}

/// The text a reader sees, without markup: what the search index stores for
/// an article body. Blocks (paragraphs, headings, list items, table cells)
/// are separated by line breaks; link targets, image URLs and raw HTML are
/// left out, link texts and image descriptions kept.
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for event in Parser::new_ext(markdown, markdown_options()) {
        match event {
            Event::Text(text) | Event::Code(text) => out.push_str(&text),
            Event::SoftBreak | Event::HardBreak | Event::Rule => out.push('\n'),
            Event::Start(Tag::Item | Tag::TableCell) => out.push(' '),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_)
                | TagEnd::TableHead
                | TagEnd::TableRow,
            ) => out.push('\n'),
            Event::End(TagEnd::TableCell) => out.push(' '),
            _ => {}
        }
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_markdown_survives() {
        let html = render_article(
            "# 退款流程\n\n1. **核对**订单\n2. 提交\n\n- a\n- b\n\n| 状态 | 方案 |\n| --- | --- |\n| 已发货 | 拦截 |\n\n[帮助](https://example.com/help) <mailto:help@example.com>",
        );
        for expected in [
            "<h1>退款流程</h1>",
            "<ol>",
            "<li><strong>核对</strong>订单</li>",
            "<ul>",
            "<table>",
            "<th>状态</th>",
            "<td>已发货</td>",
            "href=\"https://example.com/help\"",
            "rel=\"noopener noreferrer\"",
            "href=\"mailto:help@example.com\"",
        ] {
            assert!(html.contains(expected), "{expected} missing in {html}");
        }
    }

    #[test]
    fn dangerous_html_is_stripped() {
        let html = render_article(concat!(
            "<script>alert(1)</script>\n\n",
            "<img src=\"https://example.com/x.png\" onerror=\"alert(2)\">\n\n",
            "<a href=\"https://example.com\" onclick=\"alert(3)\">x</a>\n\n",
            "[click](javascript:alert(4))\n\n",
            "<a href=\"JaVaScRiPt:alert(5)\">y</a>\n\n",
            "<iframe src=\"https://evil.example\"></iframe>\n\n",
            "<p style=\"background:url(javascript:alert(6)); width: expression(alert(7))\">styled</p>\n\n",
            "<style>body { background: red }</style>\n\n",
            "[rel](/relative/path) [data](data:text/html;base64,PHNjcmlwdD4=)\n",
        ));
        let lower = html.to_lowercase();
        for forbidden in [
            "<script",
            "alert(1)",
            "onerror",
            "onclick",
            "javascript:",
            "<iframe",
            "style=",
            "expression(",
            "<style",
            "background: red",
            "/relative/path",
            "data:text/html",
        ] {
            assert!(!lower.contains(forbidden), "{forbidden} survived in {html}");
        }
        // The harmless parts stay.
        assert!(html.contains("styled"), "{html}");
        assert!(html.contains("src=\"https://example.com/x.png\""), "{html}");
        assert!(html.contains(">click<"), "{html}");
    }

    #[test]
    fn plain_text_drops_markup() {
        let text = plain_text(
            "## 先说清楚\n\n已发货的订单**不能直接改地址**，见[帮助](https://example.com)。\n\n| 状态 | 方案 |\n| --- | --- |\n| 已发货 | 拦截 |\n\n`code` <b>raw</b>",
        );
        assert!(text.starts_with("先说清楚\n"), "{text}");
        assert!(
            text.contains("已发货的订单不能直接改地址，见帮助。"),
            "{text}"
        );
        assert!(text.contains("状态"), "{text}");
        assert!(text.contains("拦截"), "{text}");
        assert!(text.contains("code"), "{text}");
        for markup in ["**", "##", "https://", "|", "<b>"] {
            assert!(!text.contains(markup), "{markup} in {text}");
        }
    }
}
