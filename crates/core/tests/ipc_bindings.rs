//! The TypeScript types in `ui/src/lib/host/bindings/` are generated from the
//! Rust types that cross the IPC boundary. This test fails when they are stale;
//! `make bindings` (UPDATE_BINDINGS=1) rewrites them.

use std::path::{Path, PathBuf};

use homedesk_core::desk::{
    ConversationDetail, DeskEvent, QueueItem, QueueScope, ReplyField, ReplyTemplate, TransferAgent,
    TransferQueue, TransferTargets,
};
use homedesk_core::notice::{Notice, NoticeKind};
use homedesk_core::practice::session::{
    PracticeCatalog, PracticeChoice, PracticeContact, PracticeMark, PracticePack, PracticeResult,
    PracticeScenario, PracticeStatus,
};
use homedesk_core::practice::{
    CheckKind, ReplayEntry, ReplayKind, ResponseTime, RubricResult, ScoreReport,
};
use homedesk_core::scripts::ScriptChoice;
use homedesk_core::search::{CannedHit, SearchHit, SearchOptions};
use homedesk_core::settings::{Preferences, SendKey, TextSize};
use homedesk_core::store::views::{ArticleView, ConflictView, ThreadMessage};
use homedesk_core::store::worklog::{MyDay, RecentArticle};
use homedesk_core::{
    AppInfo, ConnectionState, ConnectionStatus, ErrorBody, ErrorCode, Locale, SignInDefaults,
    SignedInAgent,
};
use homedesk_protocol::{
    ActionCode, Author, Channel, Conversation, ConversationStatus, Customer, Message, MessageKind,
    MissedOffers, OrderSummary, PlaceholderKind, Presence, PresenceReason, Priority, RefusalParams,
    Script, ScriptBranch, ScriptStep, TransferTarget,
};
use ts_rs::{Config, TS};

fn bindings_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/host/bindings")
}

fn render<T: TS + 'static>(cfg: &Config) -> (PathBuf, String) {
    let path = T::output_path().expect("every IPC type has an export path");
    let text = T::export_to_string(cfg).expect("type exports");
    (path, text)
}

#[test]
fn generated_typescript_bindings_are_up_to_date() {
    let dir = bindings_dir();
    // Unix-millisecond timestamps are plain JSON numbers, safe in JS.
    let cfg = Config::new().with_out_dir(&dir).with_large_int("number");
    let generated = [
        render::<AppInfo>(&cfg),
        render::<Locale>(&cfg),
        render::<ConnectionState>(&cfg),
        render::<ConnectionStatus>(&cfg),
        render::<ErrorCode>(&cfg),
        render::<ErrorBody>(&cfg),
        render::<QueueItem>(&cfg),
        render::<QueueScope>(&cfg),
        render::<Channel>(&cfg),
        render::<ConversationStatus>(&cfg),
        render::<Priority>(&cfg),
        render::<SearchOptions>(&cfg),
        render::<SearchHit>(&cfg),
        render::<CannedHit>(&cfg),
        render::<DeskEvent>(&cfg),
        render::<SignInDefaults>(&cfg),
        render::<SignedInAgent>(&cfg),
        render::<ConversationDetail>(&cfg),
        render::<ThreadMessage>(&cfg),
        render::<Conversation>(&cfg),
        render::<Customer>(&cfg),
        render::<OrderSummary>(&cfg),
        render::<Message>(&cfg),
        render::<Author>(&cfg),
        render::<MessageKind>(&cfg),
        render::<ArticleView>(&cfg),
        render::<ReplyField>(&cfg),
        render::<ReplyTemplate>(&cfg),
        render::<PlaceholderKind>(&cfg),
        render::<Presence>(&cfg),
        render::<PresenceReason>(&cfg),
        render::<MissedOffers>(&cfg),
        render::<Script>(&cfg),
        render::<ScriptStep>(&cfg),
        render::<ScriptBranch>(&cfg),
        render::<ScriptChoice>(&cfg),
        render::<TransferTarget>(&cfg),
        render::<TransferQueue>(&cfg),
        render::<TransferAgent>(&cfg),
        render::<TransferTargets>(&cfg),
        render::<MyDay>(&cfg),
        render::<RecentArticle>(&cfg),
        render::<Preferences>(&cfg),
        render::<TextSize>(&cfg),
        render::<SendKey>(&cfg),
        render::<ConflictView>(&cfg),
        render::<ActionCode>(&cfg),
        render::<RefusalParams>(&cfg),
        render::<Notice>(&cfg),
        render::<NoticeKind>(&cfg),
        render::<PracticeScenario>(&cfg),
        render::<PracticePack>(&cfg),
        render::<PracticeCatalog>(&cfg),
        render::<PracticeChoice>(&cfg),
        render::<PracticeMark>(&cfg),
        render::<PracticeContact>(&cfg),
        render::<PracticeStatus>(&cfg),
        render::<PracticeResult>(&cfg),
        render::<ScoreReport>(&cfg),
        render::<RubricResult>(&cfg),
        render::<CheckKind>(&cfg),
        render::<ResponseTime>(&cfg),
        render::<ReplayEntry>(&cfg),
        render::<ReplayKind>(&cfg),
    ];

    let update = std::env::var_os("UPDATE_BINDINGS").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (relative, text) in &generated {
        let path = dir.join(relative);
        if update {
            std::fs::create_dir_all(&dir).expect("create bindings dir");
            std::fs::write(&path, text).expect("write binding");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(relative.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "TypeScript bindings are stale or missing: {stale:?}. Run `make bindings` and commit the result, \
         so the UI compiles against the types the Rust side really sends."
    );
}
