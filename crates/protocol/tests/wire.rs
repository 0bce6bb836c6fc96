//! The wire format: every message survives a round trip, and a peer's
//! mistakes (unknown fields, wrong types, missing fields) are errors that
//! name the field.

use homedesk_protocol::*;
use serde_json::json;

fn conversation() -> Conversation {
    Conversation {
        id: "conv-1".into(),
        channel: Channel::Chat,
        queue: "aftersales".into(),
        customer_id: "cust-0001".into(),
        subject: "收到的桃子烂了".into(),
        category: Some("farm-produce".into()),
        status: ConversationStatus::Active,
        assigned_to: Some("a1001".into()),
        priority: Priority::High,
        created_at: 1_700_000_000_000,
        first_response_due: 1_700_000_060_000,
        resolve_due: 1_700_086_400_000,
        first_response_at: None,
        last_message_at: 1_700_000_000_000,
        last_message_preview: "这怎么处理？".into(),
        disposition: None,
        version: 3,
    }
}

fn round_trip<T>(value: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let text = serde_json::to_string(value).expect("serializes");
    let back: T = decode(text.as_bytes()).expect("reads back what it wrote");
    assert_eq!(&back, value, "round trip changed the value: {text}");
}

#[test]
fn every_record_kind_round_trips_inside_a_change() {
    let records = vec![
        Record::Conversation(conversation()),
        Record::Message(Message {
            id: "m1".into(),
            conversation_id: "conv-1".into(),
            author: Author::Customer,
            agent: None,
            kind: MessageKind::Text,
            body: "<b>not html</b>".into(),
            sent_at: 1,
            attachments: Vec::new(),
            delivery: None,
        }),
        Record::Customer(Customer {
            id: "cust-0001".into(),
            name: "李女士".into(),
            phone_masked: "138****5678".into(),
            city: Some("杭州".into()),
            orders: vec![OrderSummary {
                order_no: "TB1".into(),
                item: "水蜜桃 5斤".into(),
                amount_fen: 5990,
                status: "已签收".into(),
                placed_at: 1,
            }],
        }),
        Record::KbArticle(KbArticle {
            id: "kb-1".into(),
            locale: "zh-CN".into(),
            title: "七天无理由退货".into(),
            body: "## 步骤".into(),
            tags: vec!["退货".into()],
            category: "returns".into(),
            updated_at: 2,
        }),
        Record::CannedReply(CannedReply {
            id: "cr-1".into(),
            locale: "zh-CN".into(),
            title: "开场问候".into(),
            shortcut: "nh".into(),
            category: "greeting".into(),
            body: "亲，您好！我是{agent_name}".into(),
            placeholders: vec![Placeholder {
                name: "agent_name".into(),
                kind: PlaceholderKind::Text,
                required: true,
                fallback: Some("客服".into()),
            }],
            attachment: Some(homedesk_protocol::Attachment {
                id: "ab".repeat(32),
                media_type: "image/png".into(),
                bytes: 31_871,
                width: 640,
                height: 400,
            }),
        }),
        Record::Script(Script {
            id: "s1".into(),
            locale: "zh-CN".into(),
            title: "退款回访".into(),
            category: "refunds".into(),
            keywords: vec!["退款".into()],
            start: "a".into(),
            steps: vec![
                ScriptStep {
                    id: "a".into(),
                    text: "您好".into(),
                    checkpoint: true,
                    branches: vec![ScriptBranch {
                        label: "是本人".into(),
                        next: "b".into(),
                    }],
                },
                ScriptStep {
                    id: "b".into(),
                    text: "再见".into(),
                    checkpoint: false,
                    branches: vec![],
                },
            ],
        }),
        Record::Scenario(Scenario {
            id: "sc1".into(),
            locale: "zh-CN".into(),
            title: "催发货".into(),
            source: "id = \"sc1\"".into(),
        }),
        Record::AgentProfile(AgentProfile {
            code: "a1001".into(),
            name: "王丽".into(),
            role: Role::Agent,
            queues: vec!["presales".into()],
            skills: vec!["zh".into()],
            max_chats: 4,
            presence: Presence::OnBreak,
            presence_reason: Some(PresenceReason::MissedOffers(MissedOffers { count: 2 })),
        }),
        Record::Queue(Queue {
            id: "presales".into(),
            name_zh: "售前咨询".into(),
            name_en: "Pre-sales".into(),
            first_response_secs: 60,
            resolve_secs: 3600,
            skills: vec![],
            business_hours: BusinessHours {
                days: [Weekday::Mon, Weekday::Sat].into_iter().collect(),
                holidays: vec!["2026-10-01".parse().expect("a date")],
                ..BusinessHours::daily(480, 1320, 480)
            },
            vanished_grace_secs: 90,
            away_after_missed_offers: 3,
            offer_timeout_secs: Some(45),
        }),
    ];
    assert_eq!(records.len(), EntityKind::ALL.len(), "one sample per kind");
    for (i, record) in records.into_iter().enumerate() {
        round_trip(&Change {
            seq: i as u64 + 1,
            body: ChangeBody::Upsert(record),
        });
    }
    round_trip(&Change {
        seq: 99,
        body: ChangeBody::Delete {
            entity: EntityKind::Message,
            id: "m1".into(),
        },
    });
}

#[test]
fn a_change_is_flat_on_the_wire() {
    let change = Change {
        seq: 7,
        body: ChangeBody::Delete {
            entity: EntityKind::KbArticle,
            id: "kb-1".into(),
        },
    };
    assert_eq!(
        serde_json::to_value(&change).expect("serializes"),
        json!({"seq": 7, "op": "delete", "entity": "kb_article", "id": "kb-1"}),
        "clients in other languages read this shape (docs/protocol.md)"
    );
}

#[test]
fn actions_sessions_events_and_pages_round_trip() {
    for action in [
        Action::Claim {
            conversation_id: "c".into(),
        },
        Action::Release {
            conversation_id: "c".into(),
        },
        Action::Reply {
            conversation_id: "c".into(),
            message_id: "m".into(),
            body: "好的".into(),
            attachments: Vec::new(),
        },
        Action::InternalNote {
            conversation_id: "c".into(),
            message_id: "n".into(),
            body: "x".into(),
        },
        Action::SetStatus {
            conversation_id: "c".into(),
            status: ConversationStatus::Pending,
        },
        Action::Transfer {
            conversation_id: "c".into(),
            target: TransferTarget::Queue("complaints".into()),
        },
        Action::Transfer {
            conversation_id: "c".into(),
            target: TransferTarget::Agent("a1002".into()),
        },
        Action::WrapUp {
            conversation_id: "c".into(),
            disposition: "resolved".into(),
            note: None,
            after_contact_secs: 30,
        },
        Action::CallLog {
            conversation_id: "c".into(),
            started_at: 1_000,
            ended_at: 66_000,
        },
        Action::Presence {
            presence: Presence::Available,
        },
        Action::AcceptOffer {
            offer_id: "o".into(),
        },
        Action::DeclineOffer {
            offer_id: "o".into(),
        },
    ] {
        round_trip(&ActionBatch {
            actions: vec![ActionEnvelope {
                key: "key-000001".into(),
                created_at: 5,
                action,
            }],
        });
    }
    let mut dup = ActionResult::applied("key-000001");
    dup.status = ActionStatus::Duplicate;
    dup.original = Some(Box::new(ActionResult::applied("key-000001")));
    round_trip(&ActionResults {
        results: vec![
            dup,
            ActionResult::refused(
                "key-000002",
                ActionStatus::Conflict,
                ActionCode::NotAssigned,
                "taken",
            ),
        ],
        changes: None,
    });
    round_trip(&ServerEvent::Offer(Offer {
        offer_id: "o".into(),
        conversation_id: "c".into(),
        channel: Channel::Phone,
        queue: "q".into(),
        subject: "s".into(),
        expires_at: 9,
    }));
    round_trip(&ServerEvent::Heartbeat {
        server_time: Some(1),
    });
    round_trip(&ChangesPage {
        changes: vec![],
        next_cursor: "abc.0".into(),
        has_more: false,
        server_time: 3,
        deferred: None,
        resolved_days: Some(14),
    });
    round_trip(&ChangesPage {
        changes: vec![],
        next_cursor: "abc.9".into(),
        has_more: true,
        server_time: 3,
        deferred: Some(homedesk_protocol::Deferred {
            changes: 100,
            bytes: 250_000,
        }),
        resolved_days: None,
    });
    round_trip(&SignIn {
        agent: "a1001".into(),
        password: "pw".into(),
        device_id: "d".into(),
    });
    round_trip(&ErrorBody {
        code: ErrorCode::UnknownCursor,
        message: "m".into(),
    });
}

#[test]
fn the_photo_upload_codes_are_pinned() {
    let codes = [
        ErrorCode::AttachmentTooLarge,
        ErrorCode::EmptyAttachment,
        ErrorCode::InvalidImage,
        ErrorCode::ImageTooManyPixels,
        ErrorCode::UnsupportedMediaType,
    ]
    .map(|c| serde_json::to_value(c).expect("json"));
    assert_eq!(
        serde_json::Value::from(codes.to_vec()),
        serde_json::json!([
            "attachment_too_large",
            "empty_attachment",
            "invalid_image",
            "image_too_many_pixels",
            "unsupported_media_type"
        ])
    );
}

#[test]
fn a_refusal_carries_its_params_and_leaves_them_out_when_empty() {
    let refused = ActionResult::refused(
        "key-000003",
        ActionStatus::Conflict,
        ActionCode::AlreadyClaimed,
        "conversation c was already taken by a1003",
    )
    .with_params(homedesk_protocol::RefusalParams {
        holder: Some("a1003".into()),
        ..Default::default()
    });
    assert_eq!(
        serde_json::to_value(&refused).expect("json"),
        serde_json::json!({"key": "key-000003", "status": "conflict", "code": "already_claimed",
            "message": "conversation c was already taken by a1003", "params": {"holder": "a1003"}})
    );
    let plain = serde_json::to_value(ActionResult::applied("key-000004")).expect("json");
    assert_eq!(
        plain,
        serde_json::json!({"key": "key-000004", "status": "applied"})
    );
    let codes: Vec<_> = ActionCode::ALL
        .iter()
        .map(|c| serde_json::to_value(c).expect("json"))
        .collect();
    assert_eq!(
        codes,
        serde_json::json!([
            "not_found",
            "not_assigned",
            "already_claimed",
            "already_resolved",
            "offer_expired",
            "forbidden",
            "invalid",
            "unknown_disposition",
            "key_reused",
            "too_long",
            "invalid_duration",
            "unknown_attachment"
        ])
        .as_array()
        .expect("array")
        .clone(),
        "the closed set the workstation translates (ui/src/lib/refusal.ts)"
    );
}

#[test]
fn unknown_fields_are_named() {
    let err = decode::<SignIn>(br#"{"agent":"a","password":"p","device_id":"d","admin":true}"#)
        .expect_err("an unknown field must not be ignored");
    assert!(
        err.to_string().contains("admin"),
        "error names the field: {err}"
    );

    let err = decode::<ActionBatch>(
        br#"{"actions":[{"key":"k-12345678","created_at":1,"action":{"type":"claim","conversation_id":"c","force":true}}]}"#,
    )
    .expect_err("unknown field inside an action");
    assert!(
        err.to_string().contains("force"),
        "error names the field: {err}"
    );
}

#[test]
fn wrong_types_and_missing_fields_are_named_with_their_path() {
    let err = decode::<ActionBatch>(
        br#"{"actions":[{"key":"k-12345678","created_at":"yesterday","action":{"type":"claim","conversation_id":"c"}}]}"#,
    )
    .expect_err("a string is not a time");
    let text = err.to_string();
    assert!(
        text.starts_with("actions[0].created_at:"),
        "the path leads to the field: {text}"
    );

    let err = decode::<SignIn>(br#"{"agent":"a","password":"p"}"#).expect_err("device_id missing");
    assert!(
        err.to_string().contains("device_id"),
        "error names the missing field: {err}"
    );

    let err = decode::<ActionBatch>(
        br#"{"actions":[{"key":"k-12345678","created_at":1,"action":{"type":"teleport"}}]}"#,
    )
    .expect_err("unknown action type");
    assert!(
        err.to_string().contains("teleport"),
        "error names the bad type: {err}"
    );
}

#[test]
fn a_change_with_bad_data_names_the_field_inside_data() {
    let err = decode::<Change>(
        br#"{"seq":1,"op":"upsert","entity":"kb_article","id":"kb-1","data":{"id":"kb-1","locale":"en","title":5,"body":"","category":"x","updated_at":1}}"#,
    )
    .expect_err("title must be text");
    assert!(
        err.to_string().contains("data.title"),
        "error names data.title: {err}"
    );

    let err = decode::<Change>(br#"{"seq":1,"op":"upsert","entity":"queue","id":"q"}"#)
        .expect_err("an upsert without data");
    assert!(err.to_string().contains("data"), "{err}");

    let err = decode::<Change>(
        br#"{"seq":1,"op":"upsert","entity":"scenario","id":"other","data":{"id":"sc","locale":"en","title":"t","source":""}}"#,
    )
    .expect_err("id and data.id disagree");
    assert!(err.to_string().contains("id"), "{err}");
}

#[test]
fn syntax_errors_are_told_apart_from_shape_errors() {
    assert!(matches!(
        decode::<SignIn>(b"{not json"),
        Err(DecodeError::Syntax(_))
    ));
    assert!(
        matches!(
            decode::<SignIn>(br#"{"agent":"a","password":"p","device_id":"d"} {}"#),
            Err(DecodeError::Syntax(_))
        ),
        "trailing data"
    );
    assert!(matches!(
        decode::<SignIn>(b"[]"),
        Err(DecodeError::Shape { .. })
    ));
}

#[test]
fn idempotency_keys_have_a_bounded_shape() {
    assert!(is_valid_idempotency_key("01J9Z3-outbox-17"));
    assert!(!is_valid_idempotency_key("short"), "too short to be unique");
    assert!(!is_valid_idempotency_key(&"k".repeat(129)), "too long");
    assert!(
        !is_valid_idempotency_key("has space 123"),
        "spaces are refused"
    );
}

#[test]
fn queues_and_profiles_stored_before_the_link_rules_still_decode_with_defaults() {
    let queue: Queue = decode(
        r#"{"id":"presales","name_zh":"售前咨询","name_en":"Pre-sales",
             "first_response_secs":30,"resolve_secs":3600,"skills":[],
             "business_hours":{"open_minute":0,"close_minute":1440,"utc_offset_minutes":480}}"#
            .as_bytes(),
    )
    .expect("a queue written before vanished_grace_secs existed");
    assert_eq!(queue.vanished_grace_secs, DEFAULT_VANISHED_GRACE_SECS);
    assert_eq!(queue.vanished_grace_secs, 120);
    assert_eq!(
        queue.away_after_missed_offers,
        DEFAULT_AWAY_AFTER_MISSED_OFFERS
    );
    assert_eq!(queue.away_after_missed_offers, 2);

    let profile: AgentProfile = decode(
        r#"{"code":"a1001","name":"王丽","role":"agent","queues":[],"skills":[],
             "max_chats":4,"presence":"available"}"#
            .as_bytes(),
    )
    .expect("a profile written before presence_reason existed");
    assert_eq!(profile.presence_reason, None);

    let reason = serde_json::to_value(PresenceReason::MissedOffers(MissedOffers { count: 2 }))
        .expect("json");
    assert_eq!(reason, json!({"code": "missed_offers", "count": 2}));
    let err = decode::<PresenceReason>(br#"{"code":"tired"}"#).expect_err("unknown code");
    assert!(err.to_string().contains("tired"), "{err}");
}

#[test]
fn a_presence_reason_with_an_unknown_field_is_refused() {
    let err = decode::<PresenceReason>(br#"{"code":"missed_offers","count":2,"why":"x"}"#)
        .expect_err("unknown field");
    assert!(err.to_string().contains("why"), "{err}");
    let ok: PresenceReason =
        decode(br#"{"code":"missed_offers","count":3}"#).expect("the documented shape");
    assert_eq!(ok, PresenceReason::MissedOffers(MissedOffers { count: 3 }));
}

#[test]
fn whole_numbers_written_as_floats_are_integers_as_json_schema_says() {
    // `5.0` and `1e3` are JSON Schema integers; Python clients send them so.
    let batch = decode::<ActionBatch>(
        br#"{"actions":[{"key":"k-12345678","created_at":1718000000000.0,"action":{"type":"call_log","conversation_id":"c","started_at":1e3,"ended_at":-2.0}}]}"#,
    )
    .expect("whole numbers with a fraction or exponent are read");
    assert_eq!(batch.actions[0].created_at, 1_718_000_000_000);
    assert_eq!(
        batch.actions[0].action,
        Action::CallLog {
            conversation_id: "c".into(),
            started_at: 1000,
            ended_at: -2
        }
    );
    // Exact on the digits: a float parser would read 4230642056747210.0 as
    // …209.5 and -9223372036854775809.0 as i64::MIN.
    for (literal, expected) in [
        ("4230642056747210.0", Some(4_230_642_056_747_210_i64)),
        ("2.50e1", Some(25)),
        ("15E-1", None),
        ("1e-5", None),
        ("-0.0", Some(0)),
        ("0e400", Some(0)),
        ("-9223372036854775808.0", Some(i64::MIN)),
        ("-9223372036854775809.0", None),
        ("1e25", None),
    ] {
        let body = format!(
            r#"{{"actions":[{{"key":"k-12345678","created_at":{literal},"action":{{"type":"presence","presence":"busy"}}}}]}}"#
        );
        let read = decode::<ActionBatch>(body.as_bytes()).map(|b| b.actions[0].created_at);
        assert_eq!(read.ok(), expected, "created_at: {literal}");
    }
    // Numbers inside strings are text and stay as sent.
    let batch = decode::<ActionBatch>(
        br#"{"actions":[{"key":"k-1.0e3-ab","created_at":2.0,"action":{"type":"reply","conversation_id":"c","message_id":"m","body":"\"5.0\" 1e3"}}]}"#,
    )
    .expect("read");
    assert_eq!(batch.actions[0].key, "k-1.0e3-ab");
    assert_eq!(
        batch.actions[0].action,
        Action::Reply {
            conversation_id: "c".into(),
            message_id: "m".into(),
            body: "\"5.0\" 1e3".into(),
            attachments: Vec::new(),
        }
    );
    for (body, path) in [
        (
            &br#"{"actions":[{"key":"k-12345678","created_at":1.5,"action":{"type":"presence","presence":"busy"}}]}"#[..],
            "actions[0].created_at",
        ),
        (
            &br#"{"actions":[{"key":"k-12345678","created_at":1e300,"action":{"type":"presence","presence":"busy"}}]}"#[..],
            "actions[0].created_at",
        ),
        (
            &br#"{"actions":[{"key":5.0,"created_at":1.0,"action":{"type":"presence","presence":"busy"}}]}"#[..],
            "actions[0].key",
        ),
    ] {
        let err = decode::<ActionBatch>(body).expect_err("not an integer, or not a number field");
        assert!(
            err.to_string().starts_with(path),
            "the error still names {path}: {err}"
        );
    }
}
