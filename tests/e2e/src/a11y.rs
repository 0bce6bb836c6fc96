//! Accessibility checks in the real app (and in a browser's page, such as
//! the customer chat): axe-core, injected into the running page, judges
//! what the person actually sees — real layout,
//! real fonts, real colours — so colour contrast is checked too (jsdom, in
//! the component tests, can compute none of that).
//!
//! axe-core is the UI's dev dependency: its script is read from
//! `ui/node_modules/axe-core/axe.min.js` at test time (`npm ci` puts it
//! there; nothing is downloaded). It is injected once per page and kept.

use std::fmt;

use anyhow::Context;
use serde_json::Value;

use crate::{AppSession, Page, workspace_root};

/// One rule broken on one element.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The axe rule, e.g. `color-contrast`.
    pub rule: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: String,
    /// What the rule asks for, in a line.
    pub help: String,
    /// The CSS selector of the element (joined with ` >> ` across frames).
    pub target: String,
    /// What is wrong with this element and how to fix it.
    pub summary: String,
}

impl Violation {
    /// Serious and critical findings block; minor and moderate ones are
    /// reported but do not fail a run.
    pub fn blocks(&self) -> bool {
        matches!(self.impact.as_str(), "serious" | "critical")
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let summary = self
            .summary
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        write!(
            f,
            "{} [{}] {}\n      at {}\n      {}",
            self.rule, self.impact, self.help, self.target, summary
        )
    }
}

/// The axe-core script shipped with the UI's dev dependencies.
fn axe_source() -> anyhow::Result<String> {
    let path = workspace_root().join("ui/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).with_context(|| {
        format!(
            "reading {} (axe-core is a dev dependency of ui/: run `npm ci` in ui/, or `make test`, which bootstraps it)",
            path.display()
        )
    })
}

/// Waits for running animations (a dialog fading in) so contrast is judged
/// on the final colours, then runs every axe rule on the whole document and
/// answers with the violations as JSON text.
///
/// Text whose contrast axe could not judge counts as a violation of its own
/// rule, `color-contrast-unjudged`: otherwise anything that stands in front
/// of the text (an overlay, a frame over the whole window) would hide bad
/// contrast from the check. Only what cannot be text is let through: an empty
/// field, a lone symbol, content of one or two characters.
const RUN_AXE: &str = r#"
const done = arguments[arguments.length - 1];
const NOT_TEXT = ["emptyValue", "nonBmp", "shortTextContent"];
const target = (n) => n.target.map((t) => (Array.isArray(t) ? t.join(" ") : String(t))).join(" >> ");
(async () => {
  const animations = document.getAnimations ? document.getAnimations() : [];
  await Promise.all(animations.map((a) => a.finished.catch(() => null)));
  const results = await window.axe.run(document, { resultTypes: ["violations", "incomplete"] });
  const violations = results.violations.flatMap((v) =>
    v.nodes.map((n) => ({
      rule: v.id,
      impact: n.impact || v.impact || "unknown",
      help: v.help,
      target: target(n),
      summary: n.failureSummary || "",
    })),
  );
  const unjudged = results.incomplete
    .filter((v) => v.id === "color-contrast")
    .flatMap((v) =>
      v.nodes.flatMap((n) => {
        const check = n.any.find((c) => c.id === "color-contrast") || {};
        const key = (check.data && check.data.messageKey) || "default";
        if (NOT_TEXT.includes(key)) return [];
        return [{
          rule: "color-contrast-unjudged",
          impact: n.impact || v.impact || "serious",
          help: "axe could not judge this text's contrast",
          target: target(n),
          summary: check.message || key,
        }];
      }),
    );
  return violations.concat(unjudged);
})().then(
  (violations) => done(JSON.stringify({ violations })),
  (error) => done(JSON.stringify({ error: String(error && error.stack ? error.stack : error) })),
);
"#;

/// axe-core leaves placeholder text out of its contrast check, and WebKit
/// does not compute `::placeholder` styles for scripts, yet it is text an
/// agent must read (the knowledge search says what it accepts in its
/// placeholder). So it is measured where it is drawn: this script finds each
/// empty, visible field with a placeholder and where its inside is on the
/// screen; the test then reads those pixels from the X screen.
const PLACEHOLDER_FIELDS: &str = r#"
const done = arguments[arguments.length - 1];
const px = (v) => parseFloat(v) || 0;
// Two animation frames: what the script sees has been painted.
requestAnimationFrame(() => requestAnimationFrame(() => {
const fields = [];
for (const field of document.querySelectorAll("input[placeholder], textarea[placeholder]")) {
  if (!field.placeholder || field.value || field.closest("[inert], [aria-hidden=true]")) continue;
  const style = getComputedStyle(field);
  if (style.visibility !== "visible" || style.display === "none") continue;
  const r = field.getBoundingClientRect();
  const left = r.left + px(style.borderLeftWidth) + 2;
  const top = r.top + px(style.borderTopWidth) + 2;
  const right = Math.min(r.right - px(style.borderRightWidth) - 2, innerWidth);
  const bottom = Math.min(r.bottom - px(style.borderBottomWidth) - 2, innerHeight);
  if (right - left < 16 || bottom - top < 10 || left < 0 || top < 0) continue;
  fields.push({
    target: field.dataset.testid ? `[data-testid="${field.dataset.testid}"]` : field.id ? `#${field.id}` : field.outerHTML.slice(0, 80),
    placeholder: field.placeholder,
    left, top, right, bottom,
  });
}
done(JSON.stringify({ fields, screenX: window.screenX, screenY: window.screenY, scale: window.devicePixelRatio || 1 }));
}));
"#;

/// Relative luminance of an sRGB colour (WCAG 2).
fn luminance([r, g, b]: [u8; 3]) -> f64 {
    let channel = |v: u8| {
        let s = f64::from(v) / 255.0;
        if s <= 0.03928 {
            s / 12.92
        } else {
            ((s + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
}

/// WCAG contrast ratio of two colours.
pub fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// An RGB screen image.
struct Screen {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Screen {
    fn decode(png_bytes: &[u8]) -> anyhow::Result<Screen> {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes)).read_info()?;
        let mut buffer = vec![0; reader.output_buffer_size().context("PNG too large")?];
        let info = reader.next_frame(&mut buffer)?;
        anyhow::ensure!(
            info.color_type == png::ColorType::Rgb,
            "expected an RGB screen capture"
        );
        buffer.truncate(info.buffer_size());
        Ok(Screen {
            width: info.width as usize,
            height: info.height as usize,
            rgb: buffer,
        })
    }

    /// The background (the commonest colour) of a box and the colour that
    /// contrasts most with it (the core of the glyphs drawn there).
    fn text_and_background(
        &self,
        (left, top, right, bottom): (usize, usize, usize, usize),
    ) -> Option<([u8; 3], [u8; 3])> {
        let mut counts = std::collections::HashMap::<[u8; 3], usize>::new();
        for y in top..bottom.min(self.height) {
            for x in left..right.min(self.width) {
                let i = (y * self.width + x) * 3;
                *counts
                    .entry([self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]])
                    .or_default() += 1;
            }
        }
        let background = *counts.iter().max_by_key(|(_, n)| **n)?.0;
        let text = counts
            .keys()
            .copied()
            .max_by(|a, b| contrast(*a, background).total_cmp(&contrast(*b, background)))?;
        Some((text, background))
    }
}

/// axe-core on any driven page: the app's window or a browser's page.
impl Page {
    /// Puts axe-core into the page unless it is there already.
    async fn inject_axe(&self) -> anyhow::Result<()> {
        let present = self
            .eval("return typeof window.axe === 'object' && typeof window.axe.run === 'function'")
            .await?;
        if present == Value::Bool(true) {
            return Ok(());
        }
        let script = format!("{}\n;return typeof window.axe;", axe_source()?);
        let loaded = self.eval(&script).await.context("injecting axe-core")?;
        anyhow::ensure!(
            loaded == "object",
            "axe-core did not load into the page (window.axe is {loaded})"
        );
        Ok(())
    }

    /// Every axe-core violation on the page as it is now, colour contrast
    /// included, all impacts.
    pub async fn axe_violations(&self) -> anyhow::Result<Vec<Violation>> {
        self.inject_axe().await?;
        let answer = self.eval_async(RUN_AXE).await?;
        let text = answer
            .as_str()
            .with_context(|| format!("axe answered {answer} instead of JSON text"))?;
        let answer: Value = serde_json::from_str(text)?;
        if let Some(error) = answer.get("error") {
            anyhow::bail!("axe.run failed in the page: {error}");
        }
        let field = |v: &Value, name: &str| v[name].as_str().unwrap_or_default().to_owned();
        Ok(answer["violations"]
            .as_array()
            .context("axe answered without a violations list")?
            .iter()
            .map(|v| Violation {
                rule: field(v, "rule"),
                impact: field(v, "impact"),
                help: field(v, "help"),
                target: field(v, "target"),
                summary: field(v, "summary"),
            })
            .collect())
    }
}

impl AppSession {
    /// Placeholders whose text, as drawn on the screen, has less than the
    /// 4.5:1 contrast WCAG asks of text (see [`PLACEHOLDER_FIELDS`]).
    pub async fn placeholder_violations(&self) -> anyhow::Result<Vec<Violation>> {
        let answer = self.eval_async(PLACEHOLDER_FIELDS).await?;
        let page: Value = serde_json::from_str(
            answer
                .as_str()
                .with_context(|| format!("the placeholder script answered {answer}"))?,
        )?;
        let fields = page["fields"].as_array().cloned().unwrap_or_default();
        if fields.is_empty() {
            return Ok(Vec::new());
        }
        let screen = Screen::decode(&crate::capture_screen(&self.display)?)?;
        let (origin_x, origin_y) = (
            page["screenX"].as_f64().unwrap_or(0.0),
            page["screenY"].as_f64().unwrap_or(0.0),
        );
        let scale = page["scale"].as_f64().unwrap_or(1.0);
        let mut found = Vec::new();
        for field in &fields {
            let at = |name: &str, origin: f64| {
                // Screen pixels are whole and non-negative.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let pixel =
                    ((origin + field[name].as_f64().unwrap_or(0.0)) * scale).round() as usize;
                pixel
            };
            let area = (
                at("left", origin_x),
                at("top", origin_y),
                at("right", origin_x),
                at("bottom", origin_y),
            );
            let target = field["target"].as_str().unwrap_or_default().to_owned();
            let Some((text, background)) = screen.text_and_background(area) else {
                continue;
            };
            let ratio = contrast(text, background);
            if ratio < 4.5 {
                found.push(Violation {
                    rule: "placeholder-contrast".into(),
                    impact: "serious".into(),
                    help: "Placeholder text must have the 4.5:1 contrast of other text".into(),
                    target,
                    summary: format!(
                        "placeholder {} is drawn in #{:02x}{:02x}{:02x} on #{:02x}{:02x}{:02x}: {ratio:.2}:1, 4.5:1 expected",
                        field["placeholder"],
                        text[0],
                        text[1],
                        text[2],
                        background[0],
                        background[1],
                        background[2]
                    ),
                });
            }
        }
        Ok(found)
    }

    /// Saves a screenshot `a11y-<state>.png` under `target/e2e/` and returns
    /// the serious and critical violations on the page, each line prefixed
    /// with the state, so a test can gather every screen before it fails.
    pub async fn accessibility_findings(&self, state: &str) -> anyhow::Result<Vec<String>> {
        // axe waits for animations to end, so the screenshot after it shows
        // the screen as it was judged.
        let mut violations = self.axe_violations().await?;
        violations.extend(self.placeholder_violations().await?);
        self.screenshot(&format!("a11y-{state}.png")).await?;
        Ok(violations
            .iter()
            .filter(|v| v.blocks())
            .map(|v| format!("{state}: {v}"))
            .collect())
    }
}
