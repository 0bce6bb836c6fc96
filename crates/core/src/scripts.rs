//! Guided call scripts offered for a conversation.
//!
//! A script is suggested when its category is the conversation's category
//! or one of its keywords appears in the subject or in what the customer
//! wrote. Suggested scripts come first (category match, then the most
//! keywords found), the rest follow by title, so the agent can always pick
//! another. Known placeholders in the step texts (`{customer_name}`,
//! `{agent_name}`, `{order_no}`) are filled from the conversation.

use homedesk_protocol::{Script, ScriptStep};
use serde::Serialize;
use ts_rs::TS;

/// A script offered for a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ScriptChoice.ts")]
pub struct ScriptChoice {
    pub script: Script,
    /// Matches the conversation's category or keywords.
    pub suggested: bool,
}

/// What the suggestion looks at.
#[derive(Debug, Default)]
pub struct ScriptContext<'a> {
    pub category: Option<&'a str>,
    /// Subject and customer messages.
    pub texts: Vec<&'a str>,
    /// Placeholder values: (name, value).
    pub values: Vec<(&'static str, String)>,
}

/// Orders `scripts` for the conversation described by `context`.
pub fn choose(scripts: Vec<Script>, context: &ScriptContext<'_>) -> Vec<ScriptChoice> {
    let haystack: String = context
        .texts
        .iter()
        .map(|t| t.to_lowercase())
        .collect::<Vec<_>>()
        .join("\n");
    let mut ranked: Vec<(bool, usize, ScriptChoice)> = scripts
        .into_iter()
        .map(|script| {
            let by_category = context.category == Some(script.category.as_str());
            let keywords = script
                .keywords
                .iter()
                .filter(|k| !k.trim().is_empty() && haystack.contains(&k.to_lowercase()))
                .count();
            let script = fill(script, &context.values);
            let suggested = by_category || keywords > 0;
            (by_category, keywords, ScriptChoice { script, suggested })
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.2.suggested
            .cmp(&a.2.suggested)
            .then(b.0.cmp(&a.0))
            .then(b.1.cmp(&a.1))
            .then_with(|| a.2.script.title.cmp(&b.2.script.title))
    });
    ranked.into_iter().map(|(_, _, choice)| choice).collect()
}

fn fill(mut script: Script, values: &[(&'static str, String)]) -> Script {
    for ScriptStep { text, .. } in &mut script.steps {
        for (name, value) in values {
            if !value.is_empty() {
                *text = text.replace(&format!("{{{name}}}"), value);
            }
        }
    }
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(id: &str, category: &str, keywords: &[&str]) -> Script {
        Script {
            id: id.into(),
            locale: "zh-CN".into(),
            title: id.into(),
            category: category.into(),
            keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
            start: "s".into(),
            steps: vec![ScriptStep {
                id: "s".into(),
                text: "您好，{customer_name}，我是{agent_name}。{unknown}".into(),
                checkpoint: false,
                branches: vec![],
            }],
        }
    }

    #[test]
    fn category_first_then_keywords_then_the_rest() {
        let scripts = vec![
            script("c-other", "exchange", &["尺码"]),
            script("b-keyword", "delivery", &["快递", "物流"]),
            script("a-category", "farm-produce", &[]),
        ];
        let context = ScriptContext {
            category: Some("farm-produce"),
            texts: vec!["快递三天没动", "桃子烂了"],
            values: vec![],
        };
        let chosen = choose(scripts, &context);
        let order: Vec<(&str, bool)> = chosen
            .iter()
            .map(|c| (c.script.id.as_str(), c.suggested))
            .collect();
        assert_eq!(
            order,
            [
                ("a-category", true),
                ("b-keyword", true),
                ("c-other", false)
            ]
        );
    }

    #[test]
    fn nothing_matches_means_nothing_suggested() {
        let chosen = choose(
            vec![script("x", "delivery", &["Late"])],
            &ScriptContext::default(),
        );
        assert!(!chosen[0].suggested);
        let chosen = choose(
            vec![script("x", "delivery", &["Late"])],
            &ScriptContext {
                texts: vec!["my parcel is LATE"],
                ..Default::default()
            },
        );
        assert!(chosen[0].suggested, "keywords match regardless of case");
    }

    #[test]
    fn known_placeholders_are_filled_unknown_ones_stay() {
        let context = ScriptContext {
            values: vec![
                ("customer_name", "李阿姨".into()),
                ("agent_name", "王秀英".into()),
                ("order_no", String::new()),
            ],
            ..Default::default()
        };
        let chosen = choose(vec![script("x", "d", &[])], &context);
        assert_eq!(
            chosen[0].script.steps[0].text,
            "您好，李阿姨，我是王秀英。{unknown}"
        );
    }
}
