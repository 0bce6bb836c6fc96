//! The action rules, tested once for every caller: examples for each
//! refusal, and properties over arbitrary conversations, actors and
//! sequences of actions.

use proptest::prelude::*;

use super::*;
use crate::actions::{MAX_AFTER_CONTACT_SECS, MAX_CALL_SECS};
use crate::entities::{Channel, Priority};

const T0: UnixMillis = 1_795_968_000_000;

fn conversation(status: ConversationStatus, assigned_to: Option<&str>) -> Conversation {
    Conversation {
        id: "c1".into(),
        channel: Channel::Chat,
        queue: "q1".into(),
        customer_id: "u1".into(),
        subject: "退货".into(),
        category: None,
        status,
        assigned_to: assigned_to.map(str::to_owned),
        priority: Priority::Normal,
        created_at: T0,
        first_response_due: T0 + 60_000,
        resolve_due: T0 + 3_600_000,
        first_response_at: None,
        last_message_at: T0,
        last_message_preview: "在吗".into(),
        disposition: None,
        version: 1,
    }
}

fn queues() -> Vec<String> {
    vec!["q1".to_owned()]
}

fn agent<'a>(code: &'a str, queues: &'a [String]) -> Actor<'a> {
    Actor {
        code,
        role: Role::Agent,
        queues,
    }
}

fn reply(body: &str) -> Action {
    Action::Reply {
        conversation_id: "c1".into(),
        message_id: "m-1".into(),
        body: body.into(),
        attachments: Vec::new(),
    }
}

fn claim() -> Action {
    Action::Claim {
        conversation_id: "c1".into(),
    }
}

fn release() -> Action {
    Action::Release {
        conversation_id: "c1".into(),
    }
}

#[test]
fn a_claim_assigns_and_a_release_puts_back() {
    let q = queues();
    let me = agent("a1", &q);
    let c = conversation(ConversationStatus::Queued, None);
    let claimed = apply(&c, &me, &claim(), T0 + 5)
        .expect("claimed")
        .conversation
        .expect("changed");
    assert_eq!(claimed.assigned_to.as_deref(), Some("a1"));
    assert_eq!(claimed.status, ConversationStatus::Active);
    let released = apply(&claimed, &me, &release(), T0 + 6).expect("released");
    assert!(released.reroute, "a released conversation is routed again");
    let released = released.conversation.expect("changed");
    assert_eq!(released.assigned_to, None);
    assert_eq!(released.status, ConversationStatus::Queued);
    assert_eq!(released.version, c.version + 2);
}

#[test]
fn a_claim_outside_ones_queues_is_forbidden_and_names_the_queue() {
    let q = vec!["q2".to_owned()];
    let err = apply(
        &conversation(ConversationStatus::Queued, None),
        &agent("a1", &q),
        &claim(),
        T0,
    )
    .expect_err("forbidden");
    assert_eq!(err.code, ActionCode::Forbidden);
    assert_eq!(err.status, ActionStatus::Rejected);
    assert_eq!(err.params.queue.as_deref(), Some("q1"));
}

#[test]
fn a_claim_of_a_taken_conversation_names_who_has_it() {
    let q = queues();
    let err = apply(
        &conversation(ConversationStatus::Active, Some("a2")),
        &agent("a1", &q),
        &claim(),
        T0,
    )
    .expect_err("taken");
    assert_eq!(err.code, ActionCode::AlreadyClaimed);
    assert_eq!(err.status, ActionStatus::Conflict);
    assert_eq!(err.params.holder.as_deref(), Some("a2"));
}

#[test]
fn a_reply_sets_first_response_once_and_wakes_a_pending_conversation() {
    let q = queues();
    let me = agent("a1", &q);
    let c = conversation(ConversationStatus::Pending, Some("a1"));
    let first = apply(&c, &me, &reply("您好，马上为您查"), T0 + 10).expect("applied");
    let after = first.conversation.expect("changed");
    assert_eq!(after.first_response_at, Some(T0 + 10));
    assert_eq!(after.status, ConversationStatus::Active);
    assert_eq!(after.last_message_preview, "您好，马上为您查");
    let message = first.message.expect("a message");
    assert_eq!(message.kind, MessageKind::Text);
    assert_eq!(message.agent.as_deref(), Some("a1"));
    let second = apply(&after, &me, &reply("好了"), T0 + 20)
        .expect("applied")
        .conversation
        .expect("changed");
    assert_eq!(
        second.first_response_at,
        Some(T0 + 10),
        "the first one counts"
    );
    assert_eq!(second.last_message_at, T0 + 20);
}

fn photo(n: u8) -> Attachment {
    Attachment {
        id: format!("{n:02x}").repeat(32),
        media_type: "image/jpeg".into(),
        bytes: 1000,
        width: 64,
        height: 48,
    }
}

fn reply_with(body: &str, attachments: Vec<Attachment>) -> Action {
    Action::Reply {
        conversation_id: "c1".into(),
        message_id: "m-1".into(),
        body: body.into(),
        attachments,
    }
}

#[test]
fn a_reply_may_be_photos_alone_and_its_message_carries_them() {
    let q = queues();
    let me = agent("a1", &q);
    let c = conversation(ConversationStatus::Active, Some("a1"));
    let effects = apply(&c, &me, &reply_with("", vec![photo(1), photo(2)]), T0).expect("applied");
    let message = effects.message.expect("a message");
    assert_eq!(message.attachments, vec![photo(1), photo(2)]);
    assert_eq!(message.delivery, None, "the platform sets the delivery");
    let local = reply_with(
        "",
        vec![Attachment {
            id: format!("{LOCAL_ATTACHMENT_PREFIX}{}", "ab".repeat(32)),
            ..photo(3)
        }],
    );
    assert_eq!(
        check(&local),
        Ok(()),
        "a photo not uploaded yet has a local id"
    );
}

#[test]
fn a_reply_without_text_or_photos_too_many_photos_or_a_bad_id_is_refused() {
    let empty = check(&reply_with(" ", vec![])).expect_err("empty");
    assert_eq!(empty.code, ActionCode::Invalid);
    let many = (0..=MAX_ATTACHMENTS_PER_MESSAGE as u8).map(photo).collect();
    let too_many = check(&reply_with("看图", many)).expect_err("too many");
    assert_eq!(too_many.code, ActionCode::Invalid);
    let bad = check(&reply_with(
        "看图",
        vec![Attachment {
            id: "../../etc/passwd".into(),
            ..photo(1)
        }],
    ))
    .expect_err("bad id");
    assert_eq!(bad.code, ActionCode::UnknownAttachment);
    assert!(
        !is_attachment_id(&"AB".repeat(32)),
        "upper case is not an id"
    );
    assert!(!is_attachment_id(&"ab".repeat(31)), "too short");
}

#[test]
fn a_note_adds_a_message_and_leaves_the_conversation() {
    let q = queues();
    let note = Action::InternalNote {
        conversation_id: "c1".into(),
        message_id: "m-2".into(),
        body: "客户情绪激动".into(),
    };
    // Anyone who sees the conversation may note, holder or not.
    let effects = apply(
        &conversation(ConversationStatus::Active, Some("a2")),
        &agent("a1", &q),
        &note,
        T0,
    )
    .expect("applied");
    assert_eq!(effects.conversation, None);
    assert_eq!(effects.message.expect("note").kind, MessageKind::Note);
}

#[test]
fn a_transfer_to_oneself_is_invalid_and_to_a_colleague_assigns_them() {
    let q = queues();
    let me = agent("a1", &q);
    let c = conversation(ConversationStatus::Pending, Some("a1"));
    let to = |who: &str| Action::Transfer {
        conversation_id: "c1".into(),
        target: TransferTarget::Agent(who.into()),
    };
    let err = apply(&c, &me, &to("a1"), T0).expect_err("self");
    assert_eq!(err.code, ActionCode::Invalid);
    let after = apply(&c, &me, &to("a2"), T0)
        .expect("applied")
        .conversation
        .expect("changed");
    assert_eq!(after.assigned_to.as_deref(), Some("a2"));
    assert_eq!(after.status, ConversationStatus::Active);
}

#[test]
fn a_transfer_of_a_waiting_conversation_to_its_own_queue_is_invalid() {
    // Found by `an_applied_change_bumps_the_version_by_exactly_one`: it
    // changed nothing but the version.
    let q = vec!["q1".to_owned(), "q2".to_owned()];
    let supervisor = Actor {
        code: "s1",
        role: Role::Supervisor,
        queues: &q,
    };
    let waiting = conversation(ConversationStatus::Queued, None);
    let to = |queue: &str| Action::Transfer {
        conversation_id: "c1".into(),
        target: TransferTarget::Queue(queue.into()),
    };
    let err = apply(&waiting, &supervisor, &to("q1"), T0).expect_err("same queue");
    assert_eq!(err.code, ActionCode::Invalid);
    assert!(
        err.message.contains("already waiting in q1"),
        "{}",
        err.message
    );
    let moved = apply(&waiting, &supervisor, &to("q2"), T0)
        .expect("applied")
        .conversation
        .expect("changed");
    assert_eq!((moved.queue.as_str(), moved.version), ("q2", 2));
    // Held by someone, back to its own queue is a change: it waits again.
    let held = conversation(ConversationStatus::Active, Some("a1"));
    let back = apply(&held, &supervisor, &to("q1"), T0)
        .expect("applied")
        .conversation
        .expect("changed");
    assert_eq!(
        (back.assigned_to, back.status),
        (None, ConversationStatus::Queued)
    );
}

#[test]
fn a_wrap_up_resolves_and_keeps_its_record() {
    let q = queues();
    let action = Action::WrapUp {
        conversation_id: "c1".into(),
        disposition: "refund_issued".into(),
        note: Some("已退款".into()),
        after_contact_secs: 30,
    };
    let effects = apply(
        &conversation(ConversationStatus::Active, Some("a1")),
        &agent("a1", &q),
        &action,
        T0 + 9,
    )
    .expect("applied");
    let after = effects.conversation.expect("changed");
    assert_eq!(after.status, ConversationStatus::Resolved);
    assert_eq!(after.disposition.as_deref(), Some("refund_issued"));
    let record = effects.wrap_up.expect("record");
    assert_eq!((record.after_contact_secs, record.wrapped_at), (30, T0 + 9));
    assert!(effects.reroute);
}

#[test]
fn a_call_is_kept_on_a_conversation_that_moved_on() {
    let q = queues();
    let action = Action::CallLog {
        conversation_id: "c1".into(),
        started_at: T0,
        ended_at: T0 + 65_000,
    };
    let effects = apply(
        &conversation(ConversationStatus::Resolved, Some("a2")),
        &agent("a1", &q),
        &action,
        T0 + 70_000,
    )
    .expect("kept");
    assert_eq!(effects.conversation, None);
    assert_eq!(effects.call.expect("record").duration_secs, 65);
}

#[test]
fn an_action_about_another_conversation_is_invalid() {
    let q = queues();
    let err = apply(
        &conversation(ConversationStatus::Queued, None),
        &agent("a1", &q),
        &Action::Claim {
            conversation_id: "c9".into(),
        },
        T0,
    )
    .expect_err("not this one");
    assert_eq!(err.code, ActionCode::Invalid);
}

#[test]
fn an_offer_is_accepted_only_while_the_conversation_waits() {
    let q = queues();
    let me = agent("a1", &q);
    let taken = accept_offer(&conversation(ConversationStatus::Active, Some("a2")), &me)
        .expect_err("taken");
    assert_eq!(taken.code, ActionCode::AlreadyClaimed);
    assert_eq!(taken.params.holder.as_deref(), Some("a2"));
    let after = accept_offer(&conversation(ConversationStatus::Queued, None), &me)
        .expect("accepted")
        .conversation
        .expect("changed");
    assert_eq!(after.assigned_to.as_deref(), Some("a1"));
}

// ----- properties -----

fn any_status() -> impl Strategy<Value = ConversationStatus> {
    prop_oneof![
        Just(ConversationStatus::Queued),
        Just(ConversationStatus::Active),
        Just(ConversationStatus::Pending),
        Just(ConversationStatus::Resolved),
    ]
}

fn any_agent() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("a1".to_owned())),
        Just(Some("a2".to_owned()))
    ]
}

fn any_conversation() -> impl Strategy<Value = Conversation> {
    (
        any_status(),
        any_agent(),
        prop_oneof![Just("q1"), Just("q2")],
        1u64..1000,
        proptest::option::of(T0..T0 + 1000),
    )
        .prop_map(|(status, assigned, queue, version, first)| {
            let mut c = conversation(status, None);
            // A queued conversation has no assignee; the others may.
            c.assigned_to = if status == ConversationStatus::Queued {
                None
            } else {
                assigned
            };
            c.queue = queue.to_owned();
            c.version = version;
            c.first_response_at = first;
            c
        })
}

fn any_body() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z退款物流 ]{1,40}",
        1 => Just("   ".to_owned()),
        1 => Just("字".repeat(MAX_MESSAGE_CHARS + 1)),
    ]
}

fn any_action() -> impl Strategy<Value = Action> {
    let id = || Just("c1".to_owned());
    prop_oneof![
        id().prop_map(|conversation_id| Action::Claim { conversation_id }),
        id().prop_map(|conversation_id| Action::Release { conversation_id }),
        (any_body(), "m-[0-9]{1,4}").prop_map(|(body, message_id)| Action::Reply {
            conversation_id: "c1".into(),
            message_id,
            body,
            attachments: Vec::new(),
        }),
        (any_body(), "m-[0-9]{1,4}").prop_map(|(body, message_id)| Action::InternalNote {
            conversation_id: "c1".into(),
            message_id,
            body
        }),
        any_status().prop_map(|status| Action::SetStatus {
            conversation_id: "c1".into(),
            status
        }),
        prop_oneof![
            Just(TransferTarget::Queue("q2".into())),
            Just(TransferTarget::Agent("a1".into())),
            Just(TransferTarget::Agent("a2".into())),
        ]
        .prop_map(|target| Action::Transfer {
            conversation_id: "c1".into(),
            target
        }),
        (
            prop_oneof![Just("resolved"), Just("spam"), Just("made_up")],
            -5i64..MAX_AFTER_CONTACT_SECS + 5
        )
            .prop_map(|(d, secs)| Action::WrapUp {
                conversation_id: "c1".into(),
                disposition: d.into(),
                note: None,
                after_contact_secs: secs,
            }),
        (0i64..10_000, -1000i64..(MAX_CALL_SECS + 5) * 1000).prop_map(|(s, len)| {
            Action::CallLog {
                conversation_id: "c1".into(),
                started_at: T0 + s,
                ended_at: T0 + s + len,
            }
        }),
    ]
}

fn any_actor_queues() -> impl Strategy<Value = (String, Role, Vec<String>)> {
    (
        prop_oneof![Just("a1"), Just("a2")],
        prop_oneof![
            3 => Just(Role::Agent),
            1 => Just(Role::Supervisor)
        ],
        prop_oneof![
            Just(vec!["q1".to_owned()]),
            Just(vec!["q2".to_owned()]),
            Just(vec![])
        ],
    )
        .prop_map(|(code, role, queues)| (code.to_owned(), role, queues))
}

/// Fields no action may touch.
fn identity(c: &Conversation) -> (String, Channel, String, UnixMillis, UnixMillis) {
    (
        c.id.clone(),
        c.channel,
        c.customer_id.clone(),
        c.created_at,
        c.first_response_due,
    )
}

proptest! {
    #[test]
    fn an_applied_change_bumps_the_version_by_exactly_one(
        c in any_conversation(),
        (code, role, queues) in any_actor_queues(),
        action in any_action(),
        dt in 0i64..100_000,
    ) {
        let actor = Actor { code: &code, role, queues: &queues };
        if let Ok(effects) = apply(&c, &actor, &action, T0 + dt) {
            if let Some(after) = &effects.conversation {
                prop_assert_eq!(after.version, c.version + 1, "one change, one version");
                prop_assert_eq!(identity(after), identity(&c), "who and what the contact is never changes");
                prop_assert!(after != &{ let mut same = c.clone(); same.version += 1; same } || matches!(action, Action::Reply { .. }),
                    "a new version means something changed");
            } else {
                prop_assert!(
                    matches!(action, Action::InternalNote { .. } | Action::CallLog { .. } | Action::SetStatus { .. }),
                    "only notes, call logs and a status set to itself leave the conversation as it was: {:?}", action
                );
            }
        }
    }

    #[test]
    fn a_refusal_is_a_conflict_only_when_the_world_moved_on(
        c in any_conversation(),
        (code, role, queues) in any_actor_queues(),
        action in any_action(),
    ) {
        let actor = Actor { code: &code, role, queues: &queues };
        if let Err(refusal) = apply(&c, &actor, &action, T0) {
            let moved_on = matches!(
                refusal.code,
                ActionCode::NotAssigned | ActionCode::AlreadyClaimed | ActionCode::AlreadyResolved
            );
            prop_assert_eq!(refusal.status == ActionStatus::Conflict, moved_on);
            if matches!(refusal.code, ActionCode::NotAssigned | ActionCode::AlreadyClaimed) {
                prop_assert_eq!(&refusal.params.holder, &c.assigned_to, "the refusal names who holds it now");
            }
            // An action that fails its own checks is refused whatever the
            // conversation, with the same verdict the workstation gives first.
            if let Err(early) = check(&action) {
                prop_assert_eq!(refusal, early);
            }
        }
    }

    #[test]
    fn an_action_on_a_conversation_held_by_someone_else_changes_nothing(
        mut c in any_conversation(),
        (code, role, queues) in any_actor_queues(),
        action in any_action(),
    ) {
        let actor = Actor { code: &code, role, queues: &queues };
        c.assigned_to = Some(if code == "a1" { "a2".into() } else { "a1".into() });
        if c.status == ConversationStatus::Queued {
            c.status = ConversationStatus::Active;
        }
        let result = apply(&c, &actor, &action, T0);
        match &action {
            // A supervisor reassigns any conversation of the queues they
            // supervise (below); the assignee's own moves stay theirs.
            Action::Transfer { .. } if actor.supervises(&c) => {}
            Action::Reply { .. } | Action::Release { .. } | Action::Transfer { .. }
            | Action::WrapUp { .. } | Action::SetStatus { .. } | Action::Claim { .. } => {
                let refusal = result.expect_err("refused");
                prop_assert!(matches!(
                    refusal.code,
                    ActionCode::NotAssigned | ActionCode::AlreadyClaimed | ActionCode::AlreadyResolved
                        | ActionCode::Forbidden | ActionCode::Invalid | ActionCode::TooLong
                        | ActionCode::UnknownDisposition | ActionCode::InvalidDuration
                ), "{:?}", refusal.code);
            }
            Action::InternalNote { .. } | Action::CallLog { .. } => {
                if let Ok(effects) = result {
                    prop_assert_eq!(effects.conversation, None, "a colleague's conversation is not changed");
                }
            }
            _ => {}
        }
    }

    #[test]
    fn a_supervisor_reassigns_only_within_the_queues_they_supervise(
        mut c in any_conversation(),
        (code, _role, queues) in any_actor_queues(),
        to_queue in proptest::bool::ANY,
    ) {
        let actor = Actor { code: &code, role: Role::Supervisor, queues: &queues };
        c.assigned_to = Some(if code == "a1" { "a2".into() } else { "a1".into() });
        let target = if to_queue {
            TransferTarget::Queue("q-other".into())
        } else {
            TransferTarget::Agent("a9".into())
        };
        let action = Action::Transfer { conversation_id: c.id.clone(), target: target.clone() };
        let result = apply(&c, &actor, &action, T0);
        if !queues.contains(&c.queue) {
            prop_assert!(result.is_err(), "outside the supervised queues");
        } else if c.status == ConversationStatus::Resolved {
            prop_assert_eq!(result.expect_err("resolved").code, ActionCode::AlreadyResolved);
        } else {
            let after = result.expect("reassigned").conversation.expect("moved");
            match target {
                TransferTarget::Queue(q) => {
                    prop_assert_eq!(after.queue, q);
                    prop_assert_eq!(after.assigned_to, None);
                    prop_assert_eq!(after.status, ConversationStatus::Queued);
                }
                TransferTarget::Agent(a) => {
                    prop_assert_eq!(after.assigned_to, Some(a));
                    prop_assert_eq!(after.status, ConversationStatus::Active);
                }
            }
        }
    }

    #[test]
    fn claim_then_release_returns_to_the_queue(
        mut c in any_conversation(),
        (code, role, queues) in any_actor_queues(),
        dt in 0i64..1000,
    ) {
        c.status = ConversationStatus::Queued;
        c.assigned_to = None;
        let actor = Actor { code: &code, role, queues: &queues };
        match apply(&c, &actor, &claim(), T0 + dt) {
            Ok(claimed) => {
                let claimed = claimed.conversation.expect("changed");
                let back = apply(&claimed, &actor, &release(), T0 + dt + 1)
                    .expect("the holder may release")
                    .conversation
                    .expect("changed");
                let mut expected = c.clone();
                expected.version += 2;
                prop_assert_eq!(back, expected, "queued again, nothing else moved");
            }
            Err(refusal) => {
                prop_assert_eq!(refusal.code, ActionCode::Forbidden);
                prop_assert!(!actor.can_see(&c));
            }
        }
    }

    #[test]
    fn a_sequence_of_actions_grows_the_version_once_per_change(
        start in any_conversation(),
        (code, role, queues) in any_actor_queues(),
        actions in proptest::collection::vec(any_action(), 0..20),
    ) {
        let actor = Actor { code: &code, role, queues: &queues };
        let mut c = start.clone();
        let mut changes = 0u64;
        for (i, action) in actions.iter().enumerate() {
            let before = c.clone();
            match apply(&c, &actor, action, T0 + i as i64) {
                Ok(effects) => {
                    if let Some(after) = effects.conversation {
                        c = after;
                        changes += 1;
                    }
                }
                Err(_) => prop_assert_eq!(&c, &before),
            }
            if c.status == ConversationStatus::Resolved {
                prop_assert!(c.disposition.is_some() || start.status == ConversationStatus::Resolved);
            }
            if c.status == ConversationStatus::Queued {
                prop_assert_eq!(c.assigned_to.as_ref(), None, "a queued conversation has no holder");
            }
        }
        prop_assert_eq!(c.version, start.version + changes);
    }

    #[test]
    fn a_resolved_conversation_takes_only_notes_and_call_logs(
        mut c in any_conversation(),
        (code, role, queues) in any_actor_queues(),
        action in any_action(),
    ) {
        c.status = ConversationStatus::Resolved;
        let actor = Actor { code: &code, role, queues: &queues };
        if let Ok(effects) = apply(&c, &actor, &action, T0) {
            prop_assert!(matches!(action, Action::InternalNote { .. } | Action::CallLog { .. }), "{:?}", action);
            prop_assert_eq!(effects.conversation, None);
        }
    }
}
