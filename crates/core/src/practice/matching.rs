//! Does a trainee action match a trigger or a phrase? One place for the
//! rules, so a customer's reaction and the rubric never disagree about what
//! a reply "said".
//!
//! Text is compared after NFKC folding and lower-casing (full-width Latin
//! letters and digits from a Chinese input method match their ASCII
//! keywords; "Refund" matches "refund"), as a plain substring: Chinese has
//! no spaces to split words on, and authors write keywords as the fragments
//! a reply must contain. `any_reply = false` matches nothing.

use std::collections::BTreeMap;

use homedesk_content::scenario::Trigger;
use unicode_normalization::UnicodeNormalization;

use super::TraineeAction;

/// Shortest run of an article's text that, found in a reply, counts as the
/// article inserted into it.
pub const ARTICLE_RUN_CHARS: usize = 12;

/// The form both sides of a comparison are brought to.
pub(crate) fn fold(text: &str) -> String {
    text.nfkc().collect::<String>().to_lowercase()
}

/// [`fold`], with every run of white space made one space (inserted article
/// text is re-wrapped by the composer).
pub(crate) fn fold_spaced(text: &str) -> String {
    fold(text).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What the matchers need besides the action: the scenario's intent groups
/// and the (folded) plain text of the articles the simulation knows.
pub(crate) struct Matcher<'a> {
    pub intents: &'a BTreeMap<String, Vec<String>>,
    pub articles: &'a BTreeMap<String, String>,
}

impl Matcher<'_> {
    /// Whether `action` is what `trigger` waits for.
    pub fn fires(&self, trigger: &Trigger, action: &TraineeAction) -> bool {
        match (trigger, action) {
            (Trigger::Keywords(words), TraineeAction::Reply(text)) => {
                first_word_in(&fold(text), words).is_some()
            }
            (Trigger::Intent(name), TraineeAction::Reply(text)) => {
                self.intent_word_in(&fold(text), name).is_some()
            }
            (Trigger::AnyReply(any), TraineeAction::Reply(_)) => *any,
            (Trigger::Article(id), TraineeAction::Article(used)) => id == used,
            (Trigger::Article(id), TraineeAction::Reply(text)) => self.quotes_article(text, id),
            (Trigger::ScriptStep(step), TraineeAction::ScriptStep(reached)) => step == reached,
            (Trigger::Disposition(code), TraineeAction::WrapUp(chosen)) => code == chosen,
            _ => false,
        }
    }

    /// The word of a keywords or intent trigger that `reply` says.
    pub fn word_in(&self, trigger: &Trigger, reply: &str) -> Option<String> {
        match trigger {
            Trigger::Keywords(words) => first_word_in(&fold(reply), words),
            Trigger::Intent(name) => self.intent_word_in(&fold(reply), name),
            _ => None,
        }
    }

    /// The first of an avoid check's phrases (keywords, or `intent:name`)
    /// that `reply` says, as the author wrote it (an intent: the matching
    /// word of the group).
    pub fn phrase_in(&self, reply: &str, phrases: &[String]) -> Option<String> {
        let reply = fold(reply);
        phrases
            .iter()
            .find_map(|phrase| match phrase.strip_prefix("intent:") {
                Some(name) => self.intent_word_in(&reply, name.trim()),
                None => {
                    let folded = fold(phrase);
                    (!folded.is_empty() && reply.contains(&folded)).then(|| phrase.clone())
                }
            })
    }

    fn intent_word_in(&self, folded_reply: &str, name: &str) -> Option<String> {
        // An unknown intent matches nothing; the validator names it.
        let words = self.intents.get(name)?;
        first_word_in(folded_reply, words)
    }

    /// A reply containing a run of at least [`ARTICLE_RUN_CHARS`]
    /// characters of the article's text.
    fn quotes_article(&self, reply: &str, id: &str) -> bool {
        let Some(article) = self.articles.get(id) else {
            return false;
        };
        let reply: Vec<char> = fold_spaced(reply).chars().collect();
        reply.windows(ARTICLE_RUN_CHARS).any(|run| {
            let run: String = run.iter().collect();
            !run.trim().is_empty() && article.contains(&run)
        })
    }
}

fn first_word_in(folded_reply: &str, words: &[String]) -> Option<String> {
    words
        .iter()
        .find(|word| {
            let word = fold(word);
            !word.is_empty() && folded_reply.contains(&word)
        })
        .cloned()
}
