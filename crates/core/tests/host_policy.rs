//! The host policy (`homedesk_core::host`) on the practice desk and a fake
//! clock: which desk talks to the window, the SLA watch, when training
//! records upload. No platform and no sleeping: time moves when the test
//! moves the clock, and waits poll with a deadline.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::eventually;
use homedesk_core::Workstation;
use homedesk_core::clock::{self, FakeClock};
use homedesk_core::desk::{Desk, DeskEvent, QueueItem, QueueScope};
use homedesk_core::host::{self, DeskStarted, Host, SlaWatch, Task};
use homedesk_core::notice::SLA_WARNING_MS;
use homedesk_core::practice::session::PracticeChoice;
use homedesk_core::sync::SyncEvent;
use homedesk_protocol::Action;

/// A host that keeps what the window would have been shown.
#[derive(Clone)]
struct TestHost {
    workstation: Arc<Workstation>,
    events: Arc<Mutex<Vec<DeskEvent>>>,
    sla: Arc<Mutex<Vec<String>>>,
}

impl Host for TestHost {
    fn workstation(&self) -> &Workstation {
        &self.workstation
    }

    fn spawn(&self, task: Task) {
        tokio::spawn(task);
    }

    fn desk_event(&self, event: &DeskEvent) {
        self.events.lock().expect("events").push(event.clone());
    }

    fn sla_at_risk(&self, item: &QueueItem) {
        self.sla.lock().expect("sla").push(item.id.clone());
    }
}

fn content_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../content")
}

/// A workstation on a fake clock (standing at the real time, so content
/// dates read as today) with the bundled practice content.
fn workstation(dir: &std::path::Path) -> (TestHost, Arc<FakeClock>) {
    let fake = FakeClock::at(clock::now_ms());
    let ws = Workstation::open_with_clock(dir, fake.clone()).expect("opens");
    ws.set_content_dir(content_dir());
    let host = TestHost {
        workstation: Arc::new(ws),
        events: Arc::default(),
        sla: Arc::default(),
    };
    (host, fake)
}

/// Starts practice with `scenario` and claims its customer.
async fn practise(host: &TestHost, scenario: &str) -> (Arc<Desk>, String) {
    host.workstation
        .start_practice(&PracticeChoice::Scenario(scenario.into()))
        .await
        .expect("practice starts");
    let desk = host.workstation.desk().expect("practice desk");
    let conversation = format!("conv-{scenario}");
    eventually("the practice customer arrives", || async {
        desk.conversation(&conversation).expect("read").map(|_| ())
    })
    .await;
    desk.act(Action::Claim {
        conversation_id: conversation.clone(),
    })
    .expect("claimed");
    (desk, conversation)
}

fn due(desk: &Desk, conversation: &str) -> i64 {
    desk.queue(QueueScope::Mine)
        .expect("queue")
        .into_iter()
        .find(|i| i.id == conversation)
        .expect("mine")
        .first_response_due
}

fn ids(items: Vec<QueueItem>) -> Vec<String> {
    items.into_iter().map(|i| i.id).collect()
}

fn just(conversation: &str) -> Vec<String> {
    vec![conversation.to_owned()]
}

#[tokio::test]
async fn a_first_reply_due_within_two_minutes_is_reported_once_on_the_desk_clock() {
    let dir = tempfile::tempdir().expect("tmp");
    let (host, fake) = workstation(dir.path());
    let (desk, conversation) = practise(&host, "sc-zh-where-parcel").await;
    let due = due(&desk, &conversation);
    let mut watch = SlaWatch::default();

    fake.set(due - SLA_WARNING_MS - 1_000);
    assert!(
        watch.check(&desk).expect("checks").is_empty(),
        "more than two minutes left: no warning yet"
    );
    fake.set(due - SLA_WARNING_MS);
    assert_eq!(
        ids(watch.check(&desk).expect("checks")),
        just(&conversation),
        "two minutes left: warned"
    );
    assert!(
        watch.check(&desk).expect("checks").is_empty(),
        "warned once, not at every look"
    );
    fake.advance(10 * 60_000);
    assert!(
        watch.check(&desk).expect("checks").is_empty(),
        "late now, but already warned"
    );
    assert_eq!(
        ids(SlaWatch::default().check(&desk).expect("checks")),
        just(&conversation),
        "a late unanswered first reply is at risk for a new watch"
    );

    desk.reply(&conversation, "您好，我帮您查一下")
        .expect("replied");
    assert!(
        SlaWatch::default().check(&desk).expect("checks").is_empty(),
        "answered: nothing to warn about"
    );
}

#[tokio::test]
async fn the_sla_watch_reports_to_the_host_when_the_clock_reaches_the_warning() {
    let dir = tempfile::tempdir().expect("tmp");
    let (host, fake) = workstation(dir.path());
    // Five minutes to answer: on the wall clock it would not be at risk
    // for three minutes; only the desk's (fake) clock brings it closer.
    let (desk, conversation) = practise(&host, "sc-en-damaged-fruit").await;
    let due = due(&desk, &conversation);
    fake.set(due - SLA_WARNING_MS - 60_000);
    host.spawn(Box::pin(host::watch_sla(
        host.clone(),
        Arc::downgrade(&desk),
        Duration::from_millis(10),
    )));
    fake.set(due - SLA_WARNING_MS + 1);
    let warned = eventually("the watch reports the conversation", || async {
        let warned = host.sla.lock().expect("sla").clone();
        (!warned.is_empty()).then_some(warned)
    })
    .await;
    assert_eq!(warned, [conversation]);
}

#[tokio::test]
async fn only_the_desk_in_front_talks_to_the_window() {
    let dir = tempfile::tempdir().expect("tmp");
    let (host, _fake) = workstation(dir.path());
    let (first, _) = practise(&host, "sc-zh-where-parcel").await;
    host::desk_started(&host, DeskStarted::Practice);
    assert!(host::in_front(&host.workstation, &first));
    assert_eq!(
        host::for_window(&host.workstation, &first, SyncEvent::Changed),
        Some(DeskEvent::Changed)
    );

    // Another practice session comes to the front while the first desk is
    // still alive (its background work has not stopped yet).
    let (second, _) = practise(&host, "sc-en-damaged-fruit").await;
    assert!(!host::in_front(&host.workstation, &first));
    assert!(host::in_front(&host.workstation, &second));
    assert_eq!(
        host::for_window(&host.workstation, &first, SyncEvent::Changed),
        None,
        "a desk behind the one in front stays quiet"
    );
    assert_eq!(
        host::for_window(&host.workstation, &second, SyncEvent::Changed),
        Some(DeskEvent::Changed)
    );

    // The desk in front's events reach the host through the forwarding task.
    host.events.lock().expect("events").clear();
    host::desk_started(&host, DeskStarted::Practice);
    second
        .reply(
            "conv-sc-en-damaged-fruit",
            "Hello, let me check that for you",
        )
        .expect("replied");
    eventually("the change reaches the window", || async {
        let events = host.events.lock().expect("events").clone();
        events.contains(&DeskEvent::Changed).then_some(())
    })
    .await;

    host.workstation.stop_practice();
    assert!(
        !host::in_front(&host.workstation, &second),
        "practice over, nobody signed in: no desk talks"
    );
}

#[tokio::test]
async fn training_records_upload_when_a_live_session_starts_and_when_a_contact_is_over() {
    assert!(DeskStarted::SignedIn.uploads_training());
    assert!(DeskStarted::Resumed.uploads_training());
    assert!(
        !DeskStarted::Practice.uploads_training(),
        "the sandbox has no platform to upload to"
    );
    assert!(!host::training_upload_due(None));

    let dir = tempfile::tempdir().expect("tmp");
    let (host, _fake) = workstation(dir.path());
    let (desk, conversation) = practise(&host, "sc-zh-where-parcel").await;
    desk.reply(&conversation, "您好，我帮您查一下")
        .expect("replied");
    let open = eventually("a report while the contact is open", || async {
        desk.practice_report(&conversation).expect("report")
    })
    .await;
    assert!(
        !host::training_upload_due(Some(&open)),
        "an open contact has no result yet"
    );
    desk.wrap_up(&conversation, "info_given", None, 3)
        .expect("wrapped up");
    let over = eventually("the contact is over", || async {
        desk.practice_report(&conversation)
            .expect("report")
            .filter(|r| r.disposition.is_some())
    })
    .await;
    assert!(host::training_upload_due(Some(&over)));
}
