//! The update rules, each with a fake clock and a fake update source that
//! counts what it was asked.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;

use super::*;
use crate::clock::FakeClock;

const GOOD: &[u8] = b"a package signed with the release key";
const T0: UnixMillis = 1_800_000_000_000;

fn manifest(version: &str) -> serde_json::Value {
    json!({
        "version": version,
        "notes": "修复了几个问题",
        "pub_date": "2026-10-01T00:00:00Z",
        "platforms": { "linux-x86_64-deb": { "url": "https://p/v1/updates/packages/1", "signature": "sig" } },
        "notes_by_language": { "zh-CN": "订单页面打开更快了", "en": "The order page opens faster" }
    })
}

/// A platform and updater that answer what the test says.
struct FakeSource {
    check: Mutex<Result<Option<Offer>, UpdateFailure>>,
    /// What a download gives (verified), or its failure.
    download: Mutex<Result<Vec<u8>, UpdateFailure>>,
    checks: AtomicUsize,
    downloads: AtomicUsize,
}

impl FakeSource {
    fn offering(version: &str) -> FakeSource {
        FakeSource {
            check: Mutex::new(Ok(Some(Offer::new(version, manifest(version))))),
            download: Mutex::new(Ok(GOOD.to_vec())),
            checks: AtomicUsize::new(0),
            downloads: AtomicUsize::new(0),
        }
    }

    fn nothing() -> FakeSource {
        let source = FakeSource::offering("9.9.9");
        *source.check.lock().expect("lock") = Ok(None);
        source
    }
}

impl UpdateSource for FakeSource {
    fn check(&self) -> SourceFuture<'_, Result<Option<Offer>, UpdateFailure>> {
        self.checks.fetch_add(1, Ordering::SeqCst);
        let answer = self.check.lock().expect("lock").clone();
        Box::pin(async move { answer })
    }

    fn download<'a>(
        &'a self,
        _offer: &'a Offer,
        progress: ProgressFn<'a>,
    ) -> SourceFuture<'a, Result<Vec<u8>, UpdateFailure>> {
        self.downloads.fetch_add(1, Ordering::SeqCst);
        let answer = self.download.lock().expect("lock").clone();
        Box::pin(async move {
            if let Ok(bytes) = &answer {
                // The plugin reports chunk by chunk.
                let total = bytes.len() as u64;
                for done in 1..=total {
                    progress(done, Some(total));
                }
            }
            answer
        })
    }

    fn verify(&self, _manifest: &serde_json::Value, bytes: &[u8]) -> Result<(), UpdateFailure> {
        if bytes == GOOD {
            Ok(())
        } else {
            Err(UpdateFailure::new(
                UpdateFailureCode::BadSignature,
                "signature mismatch",
            ))
        }
    }
}

struct Setup {
    dir: tempfile::TempDir,
    clock: Arc<FakeClock>,
}

impl Setup {
    fn new() -> Setup {
        Setup {
            dir: tempfile::tempdir().expect("temp dir"),
            clock: FakeClock::at(T0),
        }
    }

    fn updates(&self, installed: &str, support: UpdateSupport) -> Updates {
        Updates::new(
            self.dir.path(),
            installed,
            support,
            CHECK_EVERY,
            Arc::clone(&self.clock) as SharedClock,
        )
        .expect("updates")
    }

    fn keep(&self, version: &str, bytes: &[u8]) {
        kept::save(
            self.dir.path(),
            &Offer::new(version, manifest(version)),
            bytes,
            T0,
        )
        .expect("keep");
    }

    fn kept(&self) -> Kept {
        kept::load(self.dir.path())
    }
}

fn quiet() {}

fn phase(updates: &Updates) -> UpdatePhase {
    updates.status(Locale::ZhCn, None).phase
}

#[test]
fn the_first_check_is_due_at_start_then_every_six_hours() {
    let s = Setup::new();
    let updates = s.updates("1.0.0", UpdateSupport::Yes);
    assert_eq!(
        updates.next_check_in(),
        Some(Duration::ZERO),
        "at start, without a click"
    );
    let source = FakeSource::nothing();
    tokio_test(updates.check_once(&source, &quiet));
    assert_eq!(updates.next_check_in(), Some(CHECK_EVERY));
    s.clock.advance(CHECK_EVERY.as_millis() as i64 - 1);
    assert_eq!(updates.next_check_in(), Some(Duration::from_millis(1)));
    s.clock.advance(1);
    assert_eq!(
        updates.next_check_in(),
        Some(Duration::ZERO),
        "due six hours on"
    );
    assert_eq!(
        updates.status(Locale::ZhCn, None).last_checked_at,
        Some(T0),
        "the answer's time is shown"
    );
}

#[test]
fn a_failed_check_is_retried_after_half_an_hour_and_the_period_can_be_shortened() {
    let s = Setup::new();
    let updates = s.updates("1.0.0", UpdateSupport::Yes);
    let source = FakeSource::nothing();
    *source.check.lock().expect("lock") = Err(UpdateFailure::new(
        UpdateFailureCode::Unreachable,
        "connection refused",
    ));
    tokio_test(updates.check_once(&source, &quiet));
    assert_eq!(updates.next_check_in(), Some(RETRY_AFTER_FAILURE));
    assert_eq!(
        updates.status(Locale::ZhCn, None).last_checked_at,
        None,
        "no answer, no time"
    );
    assert!(matches!(
        phase(&updates),
        UpdatePhase::Failed {
            code: UpdateFailureCode::Unreachable,
            ..
        }
    ));

    let short = Updates::new(
        tempfile::tempdir().expect("dir").path(),
        "1.0.0",
        UpdateSupport::Yes,
        Duration::from_secs(5),
        Arc::clone(&s.clock) as SharedClock,
    )
    .expect("updates");
    tokio_test(short.check_once(&FakeSource::nothing(), &quiet));
    assert_eq!(short.next_check_in(), Some(Duration::from_secs(5)));
}

#[test]
fn a_build_without_the_release_key_never_asks() {
    let s = Setup::new();
    let updates = s.updates("1.0.0", UpdateSupport::NoKey);
    let source = FakeSource::offering("1.1.0");
    assert_eq!(updates.next_check_in(), None);
    assert!(!updates.request_check(), "the button does nothing");
    tokio_test(updates.check_once(&source, &quiet));
    assert_eq!(source.checks.load(Ordering::SeqCst), 0, "no request at all");
    assert_eq!(phase(&updates), UpdatePhase::None);
    assert_eq!(
        updates.status(Locale::ZhCn, None).support,
        UpdateSupport::NoKey
    );
}

#[test]
fn an_offer_is_downloaded_verified_kept_and_ready_with_notes_in_the_interface_language() {
    let s = Setup::new();
    let updates = s.updates("1.0.0", UpdateSupport::Yes);
    let source = FakeSource::offering("1.1.0");
    let seen = Mutex::new(Vec::new());
    let record = || seen.lock().expect("lock").push(phase(&updates));
    tokio_test(updates.check_once(&source, &record));
    let seen = seen.into_inner().expect("lock");
    assert_eq!(seen.first(), Some(&UpdatePhase::Checking));
    assert!(
        seen.contains(&UpdatePhase::Available {
            version: "1.1.0".into(),
            notes: "订单页面打开更快了".into()
        }),
        "{seen:?}"
    );
    assert!(
        seen.contains(&UpdatePhase::Downloading {
            version: "1.1.0".into(),
            bytes: GOOD.len() as u64,
            total: Some(GOOD.len() as u64)
        }),
        "progress reaches the window: {seen:?}"
    );
    assert_eq!(
        phase(&updates),
        UpdatePhase::Ready {
            version: "1.1.0".into(),
            notes: "订单页面打开更快了".into()
        }
    );
    assert_eq!(
        updates.status(Locale::En, None).phase,
        UpdatePhase::Ready {
            version: "1.1.0".into(),
            notes: "The order page opens faster".into()
        },
        "English notes for an English interface"
    );
    match s.kept() {
        Kept::Package(p) => {
            assert_eq!(p.version, "1.1.0");
            assert_eq!(p.read().expect("bytes"), GOOD);
            assert_eq!(p.manifest, manifest("1.1.0"));
        }
        other => panic!("the package is kept in the data folder: {other:?}"),
    }
    assert_eq!(
        updates.next_check_in(),
        None,
        "nothing more to look for once ready"
    );
    assert!(!updates.request_check());
}

#[test]
fn download_progress_goes_out_in_whole_percent_steps() {
    let s = Setup::new();
    let updates = s.updates("1.0.0", UpdateSupport::Yes);
    let source = FakeSource::offering("1.1.0");
    let big = vec![7u8; 10_000];
    *source.download.lock().expect("lock") = Ok(big);
    let downloading = AtomicUsize::new(0);
    let count = || {
        if matches!(phase(&updates), UpdatePhase::Downloading { .. }) {
            downloading.fetch_add(1, Ordering::SeqCst);
        }
    };
    tokio_test(updates.check_once(&source, &count));
    let events = downloading.load(Ordering::SeqCst);
    assert!(
        (100..=101).contains(&events),
        "10 000 chunks become one event per percent, got {events}"
    );
}

#[test]
fn a_package_with_a_bad_signature_is_refused_and_nothing_is_kept() {
    let s = Setup::new();
    let updates = s.updates("1.0.0", UpdateSupport::Yes);
    let source = FakeSource::offering("1.1.0");
    *source.download.lock().expect("lock") = Err(UpdateFailure::new(
        UpdateFailureCode::BadSignature,
        "InvalidSignature",
    ));
    tokio_test(updates.check_once(&source, &quiet));
    assert_eq!(
        phase(&updates),
        UpdatePhase::Failed {
            code: UpdateFailureCode::BadSignature,
            message: "InvalidSignature".into()
        }
    );
    assert_eq!(s.kept(), Kept::Nothing);
    assert_eq!(updates.next_check_in(), Some(RETRY_AFTER_FAILURE));
    assert!(updates.ready_package().is_err(), "nothing to install");
}

#[test]
fn an_offer_that_is_not_newer_is_not_taken() {
    let s = Setup::new();
    let updates = s.updates("1.2.0", UpdateSupport::Yes);
    let source = FakeSource::offering("1.1.0");
    tokio_test(updates.check_once(&source, &quiet));
    assert_eq!(phase(&updates), UpdatePhase::None);
    assert_eq!(source.downloads.load(Ordering::SeqCst), 0);
}

#[test]
fn a_kept_package_makes_the_status_ready_at_start_and_is_installed_once() {
    let s = Setup::new();
    s.keep("1.1.0", GOOD);
    let updates = s.updates("1.0.0", UpdateSupport::Yes);
    assert!(
        matches!(phase(&updates), UpdatePhase::Ready { ref version, .. } if version == "1.1.0")
    );
    let first = updates.at_start().expect("installed before the desk opens");
    assert_eq!(first.version, "1.1.0");
    assert_eq!(
        updates.at_start(),
        None,
        "tried once: a refused prompt does not block every start"
    );
    let again = s.updates("1.0.0", UpdateSupport::Yes);
    assert_eq!(
        again.at_start(),
        None,
        "the attempt is recorded on disk too"
    );
    assert_eq!(
        again.ready_package().expect("still on the button").version,
        "1.1.0"
    );
}

#[test]
fn a_stale_kept_package_is_forgotten() {
    let s = Setup::new();
    s.keep("1.1.0", GOOD);
    let updates = s.updates("1.1.0", UpdateSupport::Yes);
    assert_eq!(phase(&updates), UpdatePhase::None);
    assert_eq!(updates.at_start(), None);
    assert_eq!(
        s.kept(),
        Kept::Nothing,
        "the installed version's package goes"
    );
}

#[test]
fn a_damaged_kept_package_is_forgotten() {
    let s = Setup::new();
    s.keep("1.1.0", GOOD);
    std::fs::write(s.dir.path().join("updates/package"), b"cut short").expect("damage");
    let updates = s.updates("1.0.0", UpdateSupport::Yes);
    assert_eq!(phase(&updates), UpdatePhase::None);
    assert_eq!(updates.at_start(), None);
    assert_eq!(s.kept(), Kept::Nothing);
}

#[test]
fn a_development_build_downloads_but_never_installs() {
    let s = Setup::new();
    let updates = s.updates("1.0.0", UpdateSupport::NotPackaged);
    tokio_test(updates.check_once(&FakeSource::offering("1.1.0"), &quiet));
    assert!(matches!(phase(&updates), UpdatePhase::Ready { .. }));
    assert_eq!(updates.at_start(), None);
    let err = updates.ready_package().expect_err("no install");
    assert_eq!(err.code(), crate::ErrorCode::InvalidInput);
}

#[test]
fn a_kept_package_of_the_offered_version_is_reused_when_it_still_verifies() {
    let s = Setup::new();
    s.keep("1.1.0", GOOD);
    let updates = s.updates("1.0.0", UpdateSupport::Yes);
    updates.install_failed(UpdateFailure::new(
        UpdateFailureCode::InstallFailed,
        "pkexec: cancelled",
    ));
    assert!(
        matches!(s.kept(), Kept::Package(_)),
        "a refused prompt keeps the package"
    );
    let source = FakeSource::offering("1.1.0");
    tokio_test(updates.check_once(&source, &quiet));
    assert!(matches!(phase(&updates), UpdatePhase::Ready { .. }));
    assert_eq!(
        source.downloads.load(Ordering::SeqCst),
        0,
        "not downloaded twice over a village link"
    );
}

#[test]
fn a_kept_package_that_fails_verification_is_forgotten_and_downloaded_again() {
    let s = Setup::new();
    s.keep("1.1.0", b"bytes the release key never signed");
    let updates = s.updates("1.0.0", UpdateSupport::Yes);
    updates.install_failed(UpdateFailure::new(UpdateFailureCode::InstallFailed, "x"));
    let source = FakeSource::offering("1.1.0");
    tokio_test(updates.check_once(&source, &quiet));
    assert_eq!(source.downloads.load(Ordering::SeqCst), 1);
    match s.kept() {
        Kept::Package(p) => assert_eq!(p.read().expect("bytes"), GOOD, "the good one replaced it"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_install_refused_for_its_signature_forgets_the_package() {
    let s = Setup::new();
    s.keep("1.1.0", GOOD);
    let updates = s.updates("1.0.0", UpdateSupport::Yes);
    updates.install_failed(UpdateFailure::new(
        UpdateFailureCode::BadSignature,
        "InvalidSignature",
    ));
    assert_eq!(s.kept(), Kept::Nothing);
    assert!(matches!(
        phase(&updates),
        UpdatePhase::Failed {
            code: UpdateFailureCode::BadSignature,
            ..
        }
    ));
}

#[test]
fn a_package_the_platform_no_longer_offers_is_forgotten() {
    let s = Setup::new();
    s.keep("1.1.0", GOOD);
    let updates = s.updates("1.0.0", UpdateSupport::Yes);
    updates.install_failed(UpdateFailure::new(UpdateFailureCode::InstallFailed, "x"));
    tokio_test(updates.check_once(&FakeSource::nothing(), &quiet));
    assert_eq!(s.kept(), Kept::Nothing);
    assert_eq!(phase(&updates), UpdatePhase::None);
}

#[test]
fn restart_waits_for_open_conversations_and_unsent_replies() {
    assert_eq!(restart_block(0, 0), None);
    assert_eq!(restart_block(1, 0), Some(RestartBlock::ConversationOpen));
    assert_eq!(restart_block(0, 2), Some(RestartBlock::ReplyUnsent));
    assert_eq!(
        restart_block(3, 1),
        Some(RestartBlock::ReplyUnsent),
        "the unsent reply is the more urgent reason"
    );
}

#[test]
fn notes_fall_back_to_the_other_language_and_to_plain_notes() {
    let only_plain = json!({ "version": "1.1.0", "notes": "修复问题" });
    assert_eq!(
        Notes::from_manifest(&only_plain).pick(Locale::En),
        "修复问题"
    );
    let only_en = json!({ "version": "1.1.0", "notes_by_language": { "en": "Fixes" } });
    assert_eq!(Notes::from_manifest(&only_en).pick(Locale::ZhCn), "Fixes");
}

#[test]
fn the_manifest_url_is_the_platforms_with_the_updaters_placeholders() {
    assert_eq!(
        manifest_url("https://centre.example:8443/").expect("url"),
        "https://centre.example:8443/v1/updates/{{target}}/{{arch}}/{{current_version}}?bundle_type={{bundle_type}}"
    );
    assert!(manifest_url("http://centre.example").is_err(), "https only");
    assert!(manifest_url("not an address").is_err());
}

#[test]
fn the_kept_package_survives_only_whole() {
    let s = Setup::new();
    s.keep("1.1.0", GOOD);
    std::fs::remove_file(s.dir.path().join("updates/update.json")).expect("rm");
    assert!(
        matches!(s.kept(), Kept::Damaged(_)),
        "bytes without their record"
    );
}

/// Runs a future on a fresh current-thread runtime.
fn tokio_test<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime")
        .block_on(future)
}

#[test]
fn the_install_is_refused_while_work_is_unfinished_and_when_nothing_is_ready() {
    let s = Setup::new();
    s.keep("1.1.0", GOOD);
    let updates = s.updates("1.0.0", UpdateSupport::Yes);
    let err = updates
        .package_to_install(Some(RestartBlock::ConversationOpen))
        .expect_err("refused");
    assert_eq!(err.code(), crate::ErrorCode::RestartNotAllowed);
    let err = updates
        .package_to_install(Some(RestartBlock::ReplyUnsent))
        .expect_err("refused");
    assert_eq!(err.code(), crate::ErrorCode::RestartNotAllowed);
    assert_eq!(
        updates.package_to_install(None).expect("allowed").version,
        "1.1.0"
    );
    let none = Setup::new().updates("1.0.0", UpdateSupport::Yes);
    assert_eq!(
        none.package_to_install(None).expect_err("nothing").code(),
        crate::ErrorCode::InvalidInput
    );
}
