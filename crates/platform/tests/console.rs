//! The team console against the real platform over HTTPS: who may call each
//! endpoint; a supervisor of some queues sees, reassigns and reports only
//! those; the team view's figures and link states, and the `team_changed`
//! nudge; reassigning, setting an agent away and mentions through the
//! ordinary actions; trainees' progress and their promotion (audited); the
//! reports and their CSV; and bad queries refused with a message that says
//! what to send.

mod support;

use std::time::Duration;

use homedesk_protocol::{
    ChangeBody, LinkState, LocalDate, Presence, PresenceReason, REPORT_CSV_HEADER, Record, Reports,
    Role, RoleChange, ServerEvent, SlaTarget, TeamView, TraineesView,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::*;

const OTHER_PASSWORD: &str = "console-password-1";

fn action(key: &str, action: Value) -> Value {
    json!({"key": key, "created_at": 1, "action": action})
}

/// Adds an account as an administrator would (`agent add` on the running
/// platform's data folder).
fn add_account(server: &Server, code: &str, role: &str, queues: &str) {
    let out = cli_with_input(
        &[
            "agent",
            "add",
            "--data-dir",
            server.dir.to_str().expect("utf-8 path"),
            "--code",
            code,
            "--name",
            "组长二",
            "--role",
            role,
            "--queues",
            queues,
            "--skills",
            "presales,zh",
        ],
        OTHER_PASSWORD,
    );
    assert!(out.status.success(), "agent add: {out:?}");
}

async fn sign_in_with(server: &Server, code: &str, password: &str) -> homedesk_protocol::Session {
    let (status, body) = server
        .post(
            "/v1/sessions",
            None,
            &json!({"agent": code, "password": password, "device_id": format!("console-{code}")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{code} signs in: {body}");
    serde_json::from_value(body).expect("a Session")
}

/// Opens `queue` all day, every day, so SLA deadlines do not depend on the
/// hour the test runs at (the demo queues close at night).
fn open_all_day(server: &Server, queue: &str) {
    let out = cli(&[
        "queue",
        "set",
        queue,
        "--data-dir",
        server.dir.to_str().expect("utf-8 path"),
        "--hours",
        "00:00-24:00",
        "--days",
        "every-day",
    ]);
    assert!(out.status.success(), "queue set: {out:?}");
}

async fn team(server: &Server, token: &str) -> TeamView {
    let (status, body) = server
        .get("/v1/team?utc_offset_minutes=480", Some(token))
        .await;
    assert_eq!(status, StatusCode::OK, "the team view: {body}");
    serde_json::from_value(body).expect("a TeamView")
}

async fn trainees(server: &Server, token: &str) -> TraineesView {
    let (status, body) = server.get("/v1/trainees", Some(token)).await;
    assert_eq!(status, StatusCode::OK, "the trainees: {body}");
    serde_json::from_value(body).expect("a TraineesView")
}

fn agent<'a>(view: &'a TeamView, code: &str) -> &'a homedesk_protocol::TeamAgent {
    view.agents
        .iter()
        .find(|a| a.code == code)
        .unwrap_or_else(|| panic!("{code} is in the team view: {view:?}"))
}

fn queue<'a>(view: &'a TeamView, id: &str) -> &'a homedesk_protocol::TeamQueue {
    view.queues
        .iter()
        .find(|q| q.id == id)
        .unwrap_or_else(|| panic!("queue {id} is in the team view: {view:?}"))
}

/// The conversation as the platform has it now (read by supervisor `token`).
async fn conversation(server: &Server, token: &str, id: &str) -> homedesk_protocol::Conversation {
    let (status, body) = server
        .get(&format!("/v1/conversations/{id}"), Some(token))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body["conversation"].clone()).expect("a Conversation")
}

/// The rows of `query` on the platform's database, read beside the server.
fn database(server: &Server, query: &str) -> Vec<Vec<String>> {
    sql(&server.dir, query)
}

/// An integer [`sql`] read.
fn int(value: &str) -> i64 {
    value
        .parse()
        .unwrap_or_else(|_| panic!("an integer: {value:?}"))
}

/// The local day (+08:00) of a platform time.
fn china_day(at: i64) -> LocalDate {
    LocalDate::from_days_since_epoch((at + 8 * 3_600_000).div_euclid(86_400_000)).expect("a day")
}

fn refused_with(status: StatusCode, body: &Value, wanted: StatusCode, words: &str, what: &str) {
    let code = match wanted {
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        _ => "invalid_request",
    };
    assert_eq!(
        (status, body["code"].as_str()),
        (wanted, Some(code)),
        "{what}: {body}"
    );
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(words),
        "{what}: the message says {words:?}: {message}"
    );
}

#[tokio::test]
async fn agents_and_trainees_are_refused_every_console_endpoint() {
    let server = Server::start_demo(&[]);
    let calls: [(&str, &str, &str); 4] = [
        ("GET", "/v1/team?utc_offset_minutes=480", "supervisors"),
        ("GET", "/v1/trainees", "trainers and supervisors"),
        (
            "POST",
            "/v1/trainees/t2001/promote",
            "trainers and supervisors",
        ),
        (
            "GET",
            "/v1/reports?from=2026-12-01&to=2026-12-04&utc_offset_minutes=480",
            "supervisors",
        ),
    ];
    for code in ["a1002", "t2001"] {
        let session = server.sign_in(code).await;
        for (method, path, who) in calls {
            let (status, body) = if method == "GET" {
                server.get(path, Some(&session.access_token)).await
            } else {
                server
                    .post(
                        path,
                        Some(&session.access_token),
                        &json!({"queues": ["presales"]}),
                    )
                    .await
            };
            refused_with(
                status,
                &body,
                StatusCode::FORBIDDEN,
                who,
                &format!("{code}: {method} {path}"),
            );
        }
    }
    // A trainer reads the trainees but not the team or the reports.
    let trainer = server.sign_in("r4001").await;
    assert_eq!(trainer.agent.role, Role::Trainer, "the demo has a trainer");
    for path in [calls[0].1, calls[3].1] {
        let (status, body) = server.get(path, Some(&trainer.access_token)).await;
        refused_with(
            status,
            &body,
            StatusCode::FORBIDDEN,
            "you are a trainer",
            path,
        );
    }
    trainees(&server, &trainer.access_token).await;
    // Nothing was written by the refused promotions.
    let t2001 = server.sign_in("t2001").await;
    assert_eq!(t2001.agent.role, Role::Trainee, "still a trainee");
    let rows = int(&sql_value(&server.dir, "SELECT COUNT(*) FROM role_changes"));
    assert_eq!(rows, 0, "no role change audited");
}

#[tokio::test]
async fn a_supervisor_of_some_queues_sees_reassigns_and_reports_only_those() {
    let server = Server::start_demo(&[]);
    open_all_day(&server, "presales");
    open_all_day(&server, "aftersales");
    add_account(&server, "s3101", "supervisor", "presales");
    let lead = sign_in_with(&server, "s3101", OTHER_PASSWORD).await;
    let a1001 = server.sign_in("a1001").await; // presales, aftersales
    let a1002 = server.sign_in("a1002").await; // aftersales, logistics
    let presales = server
        .customer_writes("chat", "cons-some-1", "cust-cs-1", "presales", "有货吗")
        .await;
    let aftersales = server
        .customer_writes("chat", "cons-some-2", "cust-cs-2", "aftersales", "坏了")
        .await;
    server.claim(&a1001.access_token, &presales).await;
    server.claim(&a1002.access_token, &aftersales).await;

    let view = team(&server, &lead.access_token).await;
    let codes: Vec<&str> = view.agents.iter().map(|a| a.code.as_str()).collect();
    assert_eq!(
        codes,
        ["a1001", "a1003", "a1005", "s3001", "s3101"],
        "everyone who works presales live, by code, and nobody else"
    );
    let queues: Vec<&str> = view.queues.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(queues, ["presales"], "only the queue they supervise");
    assert_eq!(queue(&view, "presales").name, "售前咨询");
    let at_risk: Vec<&str> = view
        .queues
        .iter()
        .flat_map(|q| &q.at_risk)
        .map(|c| c.conversation_id.as_str())
        .collect();
    assert_eq!(
        at_risk,
        [presales.as_str()],
        "the presales chat (30 s to answer) is at risk; the after-sales one is not theirs"
    );

    // Reassigning outside their queues is refused and changes nothing.
    let refused = server
        .act(
            &lead.access_token,
            json!([action(
                "cons-some-move-1",
                json!({"type": "transfer", "conversation_id": aftersales,
                       "target": {"agent": "a1004"}})
            )]),
        )
        .await;
    assert_ne!(
        refused[0]["status"], "applied",
        "not their queue: {refused:?}"
    );
    let s3001 = server.sign_in("s3001").await;
    assert_eq!(
        conversation(&server, &s3001.access_token, &aftersales)
            .await
            .assigned_to
            .as_deref(),
        Some("a1002"),
        "the refused reassignment moved nothing"
    );
    // Inside them it is applied.
    let moved = server
        .act(
            &lead.access_token,
            json!([action(
                "cons-some-move-2",
                json!({"type": "transfer", "conversation_id": presales,
                       "target": {"agent": "a1005"}})
            )]),
        )
        .await;
    assert_eq!(moved[0]["status"], "applied", "{moved:?}");

    // Both wrapped up: the lead's report holds only the presales one.
    let a1005 = server.sign_in("a1005").await;
    for (token, id) in [
        (&a1005.access_token, &presales),
        (&a1002.access_token, &aftersales),
    ] {
        let done = server
            .act(
                token,
                json!([action(
                    &format!("cons-some-wrap-{id}"),
                    json!({"type": "wrap_up", "conversation_id": id,
                           "disposition": "resolved", "after_contact_secs": 10})
                )]),
            )
            .await;
        assert_eq!(done[0]["status"], "applied", "{done:?}");
    }
    let resolved_at = int(&sql_value(
        &server.dir,
        "SELECT MAX(resolved_at) FROM handled_contacts",
    ));
    let day = china_day(resolved_at);
    let path = format!("/v1/reports?from={day}&to={day}&utc_offset_minutes=480");
    let (status, body) = server.get(&path, Some(&lead.access_token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reports: Reports = serde_json::from_value(body).expect("Reports");
    let rows: Vec<(&str, u32)> = reports
        .rows
        .iter()
        .map(|r| (r.agent.as_str(), r.handled))
        .collect();
    assert_eq!(rows, [("a1005", 1)], "only the presales contact");
    let (_, everything) = server.get(&path, Some(&s3001.access_token)).await;
    let everything: Reports = serde_json::from_value(everything).expect("Reports");
    assert_eq!(
        everything.rows.len(),
        2,
        "the supervisor of every queue sees both: {everything:?}"
    );
}

#[tokio::test]
async fn the_team_view_counts_holding_waiting_depth_risk_and_handled_today() {
    let server = Server::start_demo(&[]);
    open_all_day(&server, "aftersales");
    let supervisor = server.sign_in("s3001").await;
    let a1002 = server.sign_in("a1002").await;
    let held = server
        .customer_writes("chat", "cons-team-1", "cust-ct-1", "aftersales", "桃子烂了")
        .await;
    let waiting = server
        .customer_writes("chat", "cons-team-2", "cust-ct-2", "aftersales", "在吗")
        .await;
    server.claim(&a1002.access_token, &held).await;
    let held_record = conversation(&server, &supervisor.access_token, &held).await;
    let waiting_record = conversation(&server, &supervisor.access_token, &waiting).await;

    let view = team(&server, &supervisor.access_token).await;
    let codes: Vec<&str> = view.agents.iter().map(|a| a.code.as_str()).collect();
    assert_eq!(
        codes,
        ["a1001", "a1002", "a1003", "a1004", "a1005", "s3001"],
        "everyone who works live, never the trainee or the trainer"
    );
    let queues: Vec<&str> = view.queues.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(
        queues,
        ["presales", "aftersales", "logistics", "complaints"],
        "in the supervisor's profile's order"
    );
    let holder = agent(&view, "a1002");
    assert_eq!(holder.holding, 1, "a1002 holds one conversation");
    assert_eq!(
        holder
            .held
            .iter()
            .map(|h| (h.conversation_id.as_str(), h.waiting_since))
            .collect::<Vec<_>>(),
        [(held.as_str(), Some(held_record.created_at))],
        "and lists it, so the supervisor can open it"
    );
    assert_eq!(
        holder.waiting_since,
        Some(held_record.created_at),
        "its customer has waited since their first message"
    );
    assert_eq!(holder.handled_today, 0);
    assert_eq!(
        (agent(&view, "a1004").link, agent(&view, "a1004").link_since),
        (LinkState::Offline, None),
        "a1004 has not been seen since the platform started"
    );
    let aftersales = queue(&view, "aftersales");
    assert_eq!(aftersales.depth, 1, "one conversation waits unassigned");
    assert_eq!(
        aftersales.oldest_waiting_since,
        Some(waiting_record.created_at)
    );
    let risks: Vec<(&str, SlaTarget, i64)> = aftersales
        .at_risk
        .iter()
        .map(|c| (c.conversation_id.as_str(), c.target, c.due_at))
        .collect();
    assert_eq!(
        risks,
        [
            (
                held.as_str(),
                SlaTarget::FirstResponse,
                held_record.first_response_due
            ),
            (
                waiting.as_str(),
                SlaTarget::FirstResponse,
                waiting_record.first_response_due
            ),
        ],
        "both unanswered within a minute's target, the older first"
    );
    assert_eq!(aftersales.at_risk[0].assigned_to.as_deref(), Some("a1002"));
    assert_eq!(queue(&view, "presales").depth, 0);

    // Answered: no longer waiting, nor at risk of its first response (its
    // resolution is two days away).
    server
        .reply(&a1002.access_token, &held, "cons-team-r1", "您好，马上处理")
        .await;
    let view = team(&server, &supervisor.access_token).await;
    assert_eq!(agent(&view, "a1002").waiting_since, None);
    let at_risk: Vec<&str> = queue(&view, "aftersales")
        .at_risk
        .iter()
        .map(|c| c.conversation_id.as_str())
        .collect();
    assert_eq!(at_risk, [waiting.as_str()]);

    // Wrapped up: held no more, handled today.
    let done = server
        .act(
            &a1002.access_token,
            json!([action(
                "cons-team-wrap",
                json!({"type": "wrap_up", "conversation_id": held,
                       "disposition": "resolved", "after_contact_secs": 30})
            )]),
        )
        .await;
    assert_eq!(done[0]["status"], "applied", "{done:?}");
    let view = team(&server, &supervisor.access_token).await;
    let holder = agent(&view, "a1002");
    assert_eq!((holder.holding, holder.handled_today), (0, 1));

    // Bad offsets are refused.
    for bad in ["841", "-721", "abc", "4.5"] {
        let (status, body) = server
            .get(
                &format!("/v1/team?utc_offset_minutes={bad}"),
                Some(&supervisor.access_token),
            )
            .await;
        refused_with(
            status,
            &body,
            StatusCode::BAD_REQUEST,
            "-720 to 840",
            &format!("utc_offset_minutes={bad}"),
        );
    }
    let (status, body) = server
        .get("/v1/team?offset=480", Some(&supervisor.access_token))
        .await;
    refused_with(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "utc_offset_minutes",
        "an unknown parameter",
    );
}

#[tokio::test]
async fn the_team_view_follows_an_agents_link_and_nudges_the_supervisor() {
    let server = Server::start_demo(&[]);
    let supervisor = server.sign_in("s3001").await;
    let mut nudges = server.events(&supervisor.access_token, None).await;
    let is_nudge = |e: &ServerEvent| matches!(e, ServerEvent::TeamChanged { .. });
    // The supervisor works the queues too: their own stream opening is news.
    nudges.wait_for("team_changed", is_nudge).await;
    let agent_session = server.sign_in("a1002").await;
    let token = agent_session.access_token.as_str();

    let view = team(&server, &supervisor.access_token).await;
    assert_eq!(agent(&view, "a1002").link, LinkState::Offline);
    assert_eq!(
        agent(&view, "s3001").link,
        LinkState::Online,
        "the supervisor's own stream is open"
    );

    // The workstation connects saying its link is degraded.
    let opened_at = view.server_time;
    let mut stream = server.events(token, Some("degraded")).await;
    nudges.wait_for("team_changed", is_nudge).await;
    let view = team(&server, &supervisor.access_token).await;
    let a1002 = agent(&view, "a1002");
    assert_eq!(a1002.link, LinkState::Degraded);
    assert!(
        a1002.link_since.is_some_and(|t| t >= opened_at),
        "degraded since the stream opened: {a1002:?}"
    );

    // It says the link is fine again.
    let status = server
        .client
        .get(format!("{}/v1/changes?limit=1", server.url))
        .bearer_auth(token)
        .header("Homedesk-Link", "ok")
        .send()
        .await
        .expect("pull")
        .status();
    assert_eq!(status, StatusCode::OK);
    nudges.wait_for("team_changed", is_nudge).await;
    let view = team(&server, &supervisor.access_token).await;
    assert_eq!(agent(&view, "a1002").link, LinkState::Online);

    // A request that changes nothing nudges nobody.
    server.page(token, None, 1).await;
    let until = tokio::time::Instant::now() + Duration::from_millis(700);
    while let Some(event) = nudges
        .next(until.saturating_duration_since(tokio::time::Instant::now()))
        .await
    {
        assert!(!is_nudge(&event), "no change, no nudge: {event:?}");
    }

    // The stream ends: offline, and the supervisor is told.
    let closed_at = team(&server, &supervisor.access_token).await.server_time;
    assert!(stream.next(Duration::from_secs(5)).await.is_some());
    drop(stream);
    nudges.wait_for("team_changed", is_nudge).await;
    let view = team(&server, &supervisor.access_token).await;
    let a1002 = agent(&view, "a1002");
    assert_eq!(a1002.link, LinkState::Offline);
    assert!(
        a1002.link_since.is_some_and(|t| t >= closed_at),
        "offline since the stream closed: {a1002:?}"
    );
}

#[tokio::test]
async fn a_supervisor_reassigns_to_another_agent_and_back_to_the_queue() {
    let server = Server::start_demo(&[]);
    let supervisor = server.sign_in("s3001").await;
    let holder = server.sign_in("a1002").await;
    let id = server
        .customer_writes("chat", "cons-move-1", "cust-cm-1", "aftersales", "还没发货")
        .await;
    server.claim(&holder.access_token, &id).await;
    let (_, cursor) = server.pull_all(&holder.access_token, None).await;

    let moved = server
        .act(
            &supervisor.access_token,
            json!([action(
                "cons-move-agent",
                json!({"type": "transfer", "conversation_id": id, "target": {"agent": "a1004"}})
            )]),
        )
        .await;
    assert_eq!(moved[0]["status"], "applied", "{moved:?}");
    let (changes, cursor) = server.pull_all(&holder.access_token, Some(cursor)).await;
    let last = changes.iter().rev().find_map(|c| match &c.body {
        ChangeBody::Upsert(Record::Conversation(c)) if c.id == id => Some(c.assigned_to.clone()),
        ChangeBody::Delete { id: gone, .. } if *gone == id => Some(None),
        _ => None,
    });
    assert!(
        last.as_ref()
            .is_some_and(|assignee| assignee.as_deref() != Some("a1002")),
        "the old assignee's next pull no longer has it as theirs: {last:?}"
    );
    let holding = team(&server, &supervisor.access_token).await;
    assert_eq!(
        (
            agent(&holding, "a1002").holding,
            agent(&holding, "a1004").holding
        ),
        (0, 1)
    );
    let rows = database(
        &server,
        &format!(
            "SELECT agent, assigned_at FROM assignments WHERE conversation_id = {}",
            sql_text(&id)
        ),
    );
    let [row] = rows.as_slice() else {
        panic!("the assignment is kept: {rows:?}");
    };
    let (assignee, assigned_at) = (row[0].clone(), int(&row[1]));
    assert_eq!(
        assignee, "a1004",
        "the handle time counts from the reassignment"
    );
    assert!(assigned_at <= holding.server_time);

    let requeued = server
        .act(
            &supervisor.access_token,
            json!([action(
                "cons-move-queue",
                json!({"type": "transfer", "conversation_id": id,
                       "target": {"queue": "aftersales"}})
            )]),
        )
        .await;
    assert_eq!(requeued[0]["status"], "applied", "{requeued:?}");
    let now = conversation(&server, &supervisor.access_token, &id).await;
    assert_eq!(
        (now.assigned_to, now.status),
        (None, homedesk_protocol::ConversationStatus::Queued),
        "back in its queue for anyone"
    );
    let (changes, _) = server.pull_all(&holder.access_token, Some(cursor)).await;
    assert!(
        changes.iter().any(|c| matches!(
            &c.body,
            ChangeBody::Upsert(Record::Conversation(c)) if c.id == id && c.assigned_to.is_none()
        )),
        "a1002 works after-sales, so they see it waiting again"
    );
}

#[tokio::test]
async fn a_supervisor_sets_an_agent_away_only_in_the_queues_they_supervise() {
    let server = Server::start_demo(&[]);
    add_account(&server, "s3102", "supervisor", "presales");
    let supervisor = server.sign_in("s3001").await;
    let lead = sign_in_with(&server, "s3102", OTHER_PASSWORD).await;
    let a1001 = server.sign_in("a1001").await;
    let set = |key: &'static str, who: &'static str| {
        action(
            key,
            json!({"type": "set_agent_presence", "agent": who, "presence": "on_break"}),
        )
    };

    let applied = server
        .act(
            &supervisor.access_token,
            json!([set("cons-away-1", "a1002")]),
        )
        .await;
    assert_eq!(applied[0]["status"], "applied", "{applied:?}");
    let view = team(&server, &supervisor.access_token).await;
    let a1002 = agent(&view, "a1002");
    assert_eq!(
        (a1002.presence, a1002.presence_reason),
        (Presence::OnBreak, Some(PresenceReason::SetBySupervisor))
    );
    let (changes, _) = server.pull_all(&a1001.access_token, None).await;
    let reason = changes.iter().rev().find_map(|c| match &c.body {
        ChangeBody::Upsert(Record::AgentProfile(p)) if p.code == "a1002" => {
            Some(serde_json::to_value(p.presence_reason).expect("json"))
        }
        _ => None,
    });
    assert_eq!(
        reason,
        Some(json!({"code": "set_by_supervisor"})),
        "every desk reads why"
    );

    for (token, key, who, because) in [
        (
            &lead.access_token,
            "cons-away-2",
            "a1002",
            "a1002 works none of the queues s3102 supervises",
        ),
        (
            &a1001.access_token,
            "cons-away-3",
            "a1003",
            "an agent sets nobody else's presence",
        ),
    ] {
        let refused = server.act(token, json!([set(key, who)])).await;
        assert_eq!(
            (refused[0]["status"].as_str(), refused[0]["code"].as_str()),
            (Some("rejected"), Some("forbidden")),
            "{because}: {refused:?}"
        );
    }
    let view = team(&server, &supervisor.access_token).await;
    assert_eq!(
        agent(&view, "a1003").presence,
        Presence::Offline,
        "the refused change changed nothing"
    );
}

#[tokio::test]
async fn a_note_mentions_only_agents_who_can_see_the_conversation() {
    let server = Server::start_demo(&[]);
    let holder = server.sign_in("a1002").await;
    let id = server
        .customer_writes("chat", "cons-note-1", "cust-cn-1", "aftersales", "要退款")
        .await;
    server.claim(&holder.access_token, &id).await;
    let note = |key: &str, body: &str| {
        action(
            key,
            json!({"type": "internal_note", "conversation_id": id,
                   "message_id": format!("m-{key}"), "body": body}),
        )
    };
    let results = server
        .act(
            &holder.access_token,
            json!([
                note("cons-note-a", "@a1005 看一下"),
                note("cons-note-b", "@nobody9 看一下"),
                note("cons-note-c", "@a1004 请帮忙处理退款"),
            ]),
        )
        .await;
    let verdicts: Vec<(&str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap_or_default(),
                r["code"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("rejected", "forbidden"),
            ("rejected", "not_found"),
            ("applied", "")
        ],
        "a1005 does not work after-sales, nobody9 does not exist, a1004 does: {results:?}"
    );
    let supervisor = server.sign_in("s3001").await;
    let (status, record) = server
        .get(
            &format!("/v1/conversations/{id}"),
            Some(&supervisor.access_token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{record}");
    let notes: Vec<&str> = record["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["kind"] == "note")
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert_eq!(notes, ["m-cons-note-c"], "only the applied note is stored");
}

#[tokio::test]
async fn trainers_see_progress_and_promote_a_trainee_after_a_passed_exam() {
    let server = Server::start_demo(&[]);
    let trainer = server.sign_in("r4001").await;
    let view = trainees(&server, &trainer.access_token).await;
    let codes: Vec<&str> = view.trainees.iter().map(|t| t.code.as_str()).collect();
    assert_eq!(codes, ["t2001"], "the demo's one trainee");
    let t2001 = &view.trainees[0];
    assert!(t2001.results.is_empty() && !t2001.can_promote, "{t2001:?}");
    let scenarios = t2001.untried.len();
    assert!(
        t2001.untried.iter().any(|s| s.id == "sc-zh-where-parcel"),
        "every scenario of the platform is untried: {t2001:?}"
    );
    assert!(
        view.queues
            .iter()
            .any(|q| q.id == "presales" && q.title == "售前咨询"),
        "the queues a promotion may give, named in Chinese: {:?}",
        view.queues
    );

    let promote = |code: &str, queues: Value| {
        let path = format!("/v1/trainees/{code}/promote");
        let token = trainer.access_token.clone();
        let server = &server;
        async move {
            server
                .post(&path, Some(&token), &json!({"queues": queues}))
                .await
        }
    };
    let (status, body) = promote("t2001", json!(["presales"])).await;
    refused_with(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "passed no exam",
        "no exam passed yet",
    );

    // Practice, an exam passed, and a report no workstation would write.
    let record = |id: &str, scenario: &str, exam: bool, finished_at: i64, report: Value| {
        json!({"id": id, "scenario_id": scenario, "scenario_title": format!("title of {scenario}"),
               "pack_id": null, "exam": exam, "percent": 70, "passed": exam,
               "started_at": finished_at - 60_000, "finished_at": finished_at, "report": report})
    };
    let missed_apology = json!({"items": [
        {"id": "greet", "description": "先问好", "met": true},
        {"id": "apologise", "description": "先道歉", "met": false}
    ]});
    let trainee = server.sign_in("t2001").await;
    let (status, answer) = server
        .post(
            "/v1/training-records",
            Some(&trainee.access_token),
            &json!({"records": [
                record("cons-tr-0003", "sc-zh-rotten-peaches", true, 3_000_000, json!({"items": [
                    {"id": "apologise", "description": "先道歉", "met": true}]})),
                record("cons-tr-0001", "sc-zh-where-parcel", false, 1_000_000, missed_apology.clone()),
                record("cons-tr-0002", "sc-zh-where-parcel", false, 2_000_000, missed_apology),
                record("cons-tr-0004", "sc-zh-scam-call", false, 4_000_000, json!("not a report")),
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    let view = trainees(&server, &trainer.access_token).await;
    let t2001 = &view.trainees[0];
    let results: Vec<(&str, bool)> = t2001
        .results
        .iter()
        .map(|r| (r.scenario_id.as_str(), r.exam))
        .collect();
    assert_eq!(
        results,
        [
            ("sc-zh-where-parcel", false),
            ("sc-zh-where-parcel", false),
            ("sc-zh-rotten-peaches", true),
            ("sc-zh-scam-call", false),
        ],
        "oldest first, the odd report's result included"
    );
    assert_eq!((t2001.exams_passed, t2001.can_promote), (1, true));
    let missed: Vec<(&str, &str, &str, u32, u32)> = t2001
        .missed
        .iter()
        .map(|m| {
            (
                m.scenario_id.as_str(),
                m.item_id.as_str(),
                m.description.as_str(),
                m.missed,
                m.judged,
            )
        })
        .collect();
    assert_eq!(
        missed,
        [("sc-zh-where-parcel", "apologise", "先道歉", 2, 2)],
        "only what was missed, counted per scenario"
    );
    assert_eq!(view.most_missed, t2001.missed, "one trainee: the same list");
    assert_eq!(
        t2001.untried.len(),
        scenarios - 3,
        "the three scenarios played are no longer untried"
    );

    // Bad promotions, each refused with what to send, nothing written.
    for (code, queues, wanted, words) in [
        (
            "t2001",
            json!([]),
            StatusCode::BAD_REQUEST,
            "at least one queue",
        ),
        ("t2001", json!([""]), StatusCode::BAD_REQUEST, "empty"),
        (
            "t2001",
            json!(["presales", "presales"]),
            StatusCode::BAD_REQUEST,
            "named twice",
        ),
        (
            "a1001",
            json!(["presales"]),
            StatusCode::FORBIDDEN,
            "not a trainee",
        ),
        (
            "t2001",
            json!(["vip"]),
            StatusCode::NOT_FOUND,
            "no queue \"vip\"",
        ),
    ] {
        let (status, body) = promote(code, queues.clone()).await;
        refused_with(status, &body, wanted, words, &format!("{code} {queues}"));
    }
    let (status, body) = promote("x9999", json!(["presales"])).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found")),
        "{body}"
    );
    let (status, body) = server
        .post(
            "/v1/trainees/t2001/promote",
            Some(&trainer.access_token),
            &json!({"queues": ["presales"], "role": "supervisor"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "unknown fields: {body}");

    let (status, body) = promote("t2001", json!(["presales", "aftersales"])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let change: RoleChange = serde_json::from_value(body).expect("a RoleChange");
    assert_eq!(
        (
            change.agent.as_str(),
            change.from,
            change.to,
            change.queues.clone(),
            change.changed_by.as_str()
        ),
        (
            "t2001",
            Role::Trainee,
            Role::Agent,
            vec!["presales".to_owned(), "aftersales".to_owned()],
            "r4001"
        )
    );
    let rows = database(
        &server,
        "SELECT agent, from_role, to_role, queues, changed_by, changed_at FROM role_changes",
    );
    let [row] = rows.as_slice() else {
        panic!("one audit row: {rows:?}");
    };
    let audit = (
        row[0].clone(),
        row[1].clone(),
        row[2].clone(),
        row[3].clone(),
        row[4].clone(),
        int(&row[5]),
    );
    assert_eq!(
        audit,
        (
            "t2001".into(),
            "trainee".into(),
            "agent".into(),
            r#"["presales","aftersales"]"#.into(),
            "r4001".into(),
            change.changed_at
        )
    );
    let promoted = server.sign_in("t2001").await;
    assert_eq!(promoted.agent.role, Role::Agent);
    assert_eq!(promoted.agent.queues, ["presales", "aftersales"]);
    assert!(
        promoted.agent.skills.contains(&"aftersales".to_owned()),
        "given the skill the new queue asks, so routing offers them its contacts: {:?}",
        promoted.agent.skills
    );
    let view = trainees(&server, &trainer.access_token).await;
    assert!(view.trainees.is_empty(), "no trainee left: {view:?}");
    let (status, body) = promote("t2001", json!(["presales"])).await;
    refused_with(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "not a trainee",
        "promoted once",
    );
}

#[tokio::test]
async fn a_wrap_up_makes_a_report_row_and_a_csv_line() {
    let server = Server::start_demo(&[]);
    open_all_day(&server, "aftersales");
    let supervisor = server.sign_in("s3001").await;
    let a1002 = server.sign_in("a1002").await;
    let id = server
        .customer_writes("chat", "cons-rep-1", "cust-cr-1", "aftersales", "发错货了")
        .await;
    server.claim(&a1002.access_token, &id).await;
    server
        .reply(&a1002.access_token, &id, "cons-rep-r1", "抱歉，马上补发")
        .await;
    let done = server
        .act(
            &a1002.access_token,
            json!([action(
                "cons-rep-wrap",
                json!({"type": "wrap_up", "conversation_id": id,
                       "disposition": "resolved", "after_contact_secs": 95})
            )]),
        )
        .await;
    assert_eq!(done[0]["status"], "applied", "{done:?}");

    let rows = database(
        &server,
        &format!(
            "SELECT created_at, assigned_at, first_response_at, resolved_at \
             FROM handled_contacts WHERE conversation_id = {}",
            sql_text(&id)
        ),
    );
    let [row] = rows.as_slice() else {
        panic!("the wrap-up left its snapshot: {rows:?}");
    };
    let (created_at, assigned_at, first_response_at, resolved_at) =
        (int(&row[0]), int(&row[1]), int(&row[2]), int(&row[3]));
    assert!(created_at <= assigned_at && assigned_at <= first_response_at);
    let day = china_day(resolved_at);
    let path = format!("/v1/reports?from={day}&to={day}&utc_offset_minutes=480");
    let (status, body) = server.get(&path, Some(&supervisor.access_token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reports: Reports = serde_json::from_value(body).expect("Reports");
    assert_eq!(
        (reports.from, reports.to, reports.utc_offset_minutes),
        (day, day, 480)
    );
    let secs = |ms: i64| u32::try_from((ms + 500) / 1000).expect("small");
    let row = &reports.rows[..];
    assert_eq!(row.len(), 1, "{reports:?}");
    let row = &row[0];
    assert_eq!(
        (
            row.agent.as_str(),
            row.name.as_str(),
            row.day,
            row.handled,
            row.average_handle_secs,
            row.average_first_response_secs,
            row.sla_kept,
            row.after_contact_secs
        ),
        (
            "a1002",
            "陈建国",
            day,
            1,
            Some(secs(resolved_at - assigned_at)),
            Some(secs(first_response_at - created_at)),
            1,
            95
        ),
        "answered within a minute, resolved within two days"
    );

    let response = server
        .client
        .get(format!("{}{path}&format=csv", server.url))
        .bearer_auth(&supervisor.access_token)
        .send()
        .await
        .expect("csv");
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "text/csv; charset=utf-8");
    assert_eq!(
        header("content-disposition"),
        format!("attachment; filename=\"homedesk-report-{day}-{day}.csv\"")
    );
    let csv = response.text().await.expect("text");
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], REPORT_CSV_HEADER);
    assert_eq!(
        lines[1],
        format!(
            "{day},a1002,陈建国,1,{},{},1,95",
            secs(resolved_at - assigned_at),
            secs(first_response_at - created_at)
        )
    );
    assert_eq!(
        lines.len(),
        3,
        "a header, a row and the last line end: {csv:?}"
    );

    // A day without work has no rows.
    let (_, empty) = server
        .get(
            "/v1/reports?from=2026-01-01&to=2026-01-31",
            Some(&supervisor.access_token),
        )
        .await;
    assert_eq!(empty["rows"], json!([]), "{empty}");
}

#[tokio::test]
async fn bad_report_queries_say_what_to_send() {
    let server = Server::start_demo(&[]);
    let supervisor = server.sign_in("s3001").await;
    for (query, words) in [
        ("to=2026-12-04", "from: required"),
        ("from=2026-12-01", "to: required"),
        ("from=2026-12-40&to=2026-12-41", "not a real date"),
        ("from=12/01/2026&to=2026-12-04", "YYYY-MM-DD"),
        ("from=2026-12-04&to=2026-12-01", "before from"),
        ("from=2026-09-30&to=2026-12-31", "at most 92 days"),
        (
            "from=2026-12-01&to=2026-12-04&utc_offset_minutes=900",
            "-720 to 840",
        ),
        ("from=2026-12-01&to=2026-12-04&format=xlsx", "json nor csv"),
        (
            "from=2026-12-01&to=2026-12-04&agent=a1001",
            "not a parameter",
        ),
    ] {
        let (status, body) = server
            .get(
                &format!("/v1/reports?{query}"),
                Some(&supervisor.access_token),
            )
            .await;
        refused_with(status, &body, StatusCode::BAD_REQUEST, words, query);
    }
    let (status, body) = server
        .get(
            "/v1/reports?from=2026-10-01&to=2026-12-31&utc_offset_minutes=-720",
            Some(&supervisor.access_token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "92 days are one report: {body}");
}
