//! What deserves a desktop notification, and what it says.
//!
//! Pure decisions, so they are tested here and the shell only shows them:
//! a new offer, a customer message in a conversation that is not in front
//! of the agent, a colleague's note that mentions the agent (`@code`), and
//! a first-response deadline about to pass. Nothing is
//! raised when the agent turned notifications off. While the screen is
//! locked the text names no customer and quotes nothing (the family may be
//! looking at the screen).

use serde::Serialize;
use ts_rs::TS;

use crate::Locale;
use crate::desk::{DeskEvent, QueueItem};
use crate::settings::Preferences;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "NoticeKind.ts")]
pub enum NoticeKind {
    Offer,
    Message,
    Sla,
    /// A colleague's (often the supervisor's) internal note mentions you.
    Mention,
}

/// A notification: shown by the desktop's notification service, or in the
/// app when there is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "Notice.ts")]
pub struct Notice {
    pub kind: NoticeKind,
    pub conversation_id: Option<String>,
    pub title: String,
    pub body: String,
}

/// How long before the first-response deadline an SLA counts as at risk.
pub const SLA_WARNING_MS: i64 = 2 * 60 * 1000;

/// What the notifier knows besides the event.
#[derive(Debug, Clone)]
pub struct Situation<'a> {
    pub preferences: &'a Preferences,
    pub locale: Locale,
    pub locked: bool,
    /// The conversation open in the app, when its window has the focus.
    pub in_front: Option<&'a str>,
}

/// The notification for a desk event, if it deserves one.
pub fn for_event(event: &DeskEvent, situation: &Situation<'_>) -> Option<Notice> {
    if !situation.preferences.notifications {
        return None;
    }
    let zh = situation.locale == Locale::ZhCn;
    match event {
        DeskEvent::Offer {
            conversation_id,
            subject,
            ..
        } => Some(Notice {
            kind: NoticeKind::Offer,
            conversation_id: Some(conversation_id.clone()),
            title: if zh {
                "有新的接待邀请"
            } else {
                "New contact offered"
            }
            .into(),
            body: private(situation, subject, zh),
        }),
        DeskEvent::CustomerMessage {
            conversation_id,
            subject,
            preview,
        } => {
            if situation.in_front == Some(conversation_id.as_str()) {
                return None;
            }
            Some(Notice {
                kind: NoticeKind::Message,
                conversation_id: Some(conversation_id.clone()),
                title: if situation.locked {
                    if zh {
                        "客户发来新消息"
                    } else {
                        "New customer message"
                    }
                    .into()
                } else {
                    subject.clone()
                },
                body: private(situation, preview, zh),
            })
        }
        DeskEvent::Mentioned {
            conversation_id,
            by,
            preview,
            ..
        } => Some(Notice {
            kind: NoticeKind::Mention,
            conversation_id: Some(conversation_id.clone()),
            title: if zh {
                format!("{by} 在内部备注里提到了你")
            } else {
                format!("{by} mentioned you in a note")
            },
            body: private(situation, preview, zh),
        }),
        _ => None,
    }
}

/// The notification for a conversation whose first reply is due soon.
pub fn for_sla(item: &QueueItem, situation: &Situation<'_>) -> Option<Notice> {
    if !situation.preferences.notifications {
        return None;
    }
    let zh = situation.locale == Locale::ZhCn;
    Some(Notice {
        kind: NoticeKind::Sla,
        conversation_id: Some(item.id.clone()),
        title: if zh {
            "首次回复快超时了"
        } else {
            "First reply due soon"
        }
        .into(),
        body: private(situation, &item.subject, zh),
    })
}

fn private(situation: &Situation<'_>, text: &str, zh: bool) -> String {
    if situation.locked {
        if zh {
            "解锁后查看".into()
        } else {
            "Unlock to see it".into()
        }
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str) -> DeskEvent {
        DeskEvent::CustomerMessage {
            conversation_id: id.into(),
            subject: "桃子坏了".into(),
            preview: "我买的桃子一半都烂了".into(),
        }
    }

    fn situation(preferences: &Preferences) -> Situation<'_> {
        Situation {
            preferences,
            locale: Locale::ZhCn,
            locked: false,
            in_front: Some("c-open"),
        }
    }

    #[test]
    fn a_note_that_mentions_me_is_announced_even_in_front_and_private_when_locked() {
        let prefs = Preferences::default();
        let mention = DeskEvent::Mentioned {
            conversation_id: "c-open".into(),
            subject: "桃子坏了".into(),
            by: "s3001".into(),
            preview: "@a1001 先给客户退一半".into(),
        };
        let notice = for_event(&mention, &situation(&prefs)).expect("announced");
        assert_eq!(notice.kind, NoticeKind::Mention);
        assert_eq!(notice.title, "s3001 在内部备注里提到了你");
        assert_eq!(notice.body, "@a1001 先给客户退一半");
        let locked = Situation {
            locked: true,
            ..situation(&prefs)
        };
        let notice = for_event(&mention, &locked).expect("announced");
        assert_eq!(notice.body, "解锁后查看");
        let off = Preferences {
            notifications: false,
            ..Preferences::default()
        };
        assert_eq!(for_event(&mention, &situation(&off)), None);
    }

    #[test]
    fn a_message_in_another_conversation_is_announced() {
        let prefs = Preferences::default();
        let notice = for_event(&message("c-other"), &situation(&prefs)).expect("announced");
        assert_eq!(notice.kind, NoticeKind::Message);
        assert_eq!(notice.title, "桃子坏了");
        assert_eq!(notice.body, "我买的桃子一半都烂了");
        assert_eq!(notice.conversation_id.as_deref(), Some("c-other"));
    }

    #[test]
    fn the_conversation_in_front_is_not_announced() {
        let prefs = Preferences::default();
        assert_eq!(for_event(&message("c-open"), &situation(&prefs)), None);
    }

    #[test]
    fn notifications_turned_off_means_none() {
        let prefs = Preferences {
            notifications: false,
            ..Preferences::default()
        };
        assert_eq!(for_event(&message("c-other"), &situation(&prefs)), None);
    }

    #[test]
    fn a_locked_screen_shows_no_customer_text() {
        let prefs = Preferences::default();
        let locked = Situation {
            locked: true,
            locale: Locale::En,
            ..situation(&prefs)
        };
        let notice = for_event(&message("c-other"), &locked).expect("announced");
        assert_eq!(notice.title, "New customer message");
        assert_eq!(notice.body, "Unlock to see it");
    }

    /// Every kind of notification, with a customer's name, subject and
    /// words in it: none of them may appear while the screen is locked.
    #[test]
    fn while_locked_no_notification_names_a_customer_or_quotes_them() {
        use homedesk_protocol::{Channel, ConversationStatus, Priority};
        const NAME: &str = "李桂兰";
        const PHONE: &str = "13812345678";
        const WORDS: &str = "我买的桃子一半都烂了";
        let subject = format!("{NAME} {PHONE} 桃子坏了");
        let offer = DeskEvent::Offer {
            offer_id: "o1".into(),
            conversation_id: "c1".into(),
            channel: Channel::Chat,
            queue: "aftersales".into(),
            subject: subject.clone(),
            expires_at: 0,
        };
        let message = DeskEvent::CustomerMessage {
            conversation_id: "c1".into(),
            subject: subject.clone(),
            preview: format!("{WORDS}，{NAME}，{PHONE}"),
        };
        let item = QueueItem {
            id: "c1".into(),
            channel: Channel::Chat,
            queue: "aftersales".into(),
            subject: subject.clone(),
            customer_name: NAME.into(),
            status: ConversationStatus::Active,
            assigned_to: Some("a1002".into()),
            priority: Priority::Normal,
            created_at: 0,
            last_message_at: 0,
            last_message_preview: WORDS.into(),
            first_response_due: 0,
            first_response_at: None,
            resolve_due: 0,
            pending_actions: 0,
        };
        let prefs = Preferences::default();
        for locale in [Locale::ZhCn, Locale::En] {
            for locked in [false, true] {
                let now = Situation {
                    locked,
                    locale,
                    in_front: None,
                    ..situation(&prefs)
                };
                let notices = [
                    for_event(&offer, &now).expect("an offer is announced"),
                    for_event(&message, &now).expect("a message is announced"),
                    for_sla(&item, &now).expect("a late reply is announced"),
                ];
                for notice in notices {
                    let shown = format!("{} {}", notice.title, notice.body);
                    let named = [NAME, PHONE, WORDS].iter().any(|s| shown.contains(s));
                    // Unlocked, the notice does name them (so the check can fail).
                    assert_eq!(
                        named, !locked,
                        "{locale:?} locked={locked}: {:?} shows {shown:?}",
                        notice.kind
                    );
                }
            }
        }
    }

    #[test]
    fn status_events_are_not_notifications() {
        let prefs = Preferences::default();
        assert_eq!(for_event(&DeskEvent::Changed, &situation(&prefs)), None);
    }
}
