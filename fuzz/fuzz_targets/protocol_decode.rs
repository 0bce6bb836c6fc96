//! Every wire message the platform or the workstation decodes, from any
//! bytes: `Ok` or an error, never a panic (the property tests in
//! `crates/protocol/tests/decoders_never_panic.rs` do the same briefly).
#![no_main]

use homedesk_protocol::{
    ActionBatch, Change, ChangesPage, ErrorBody, IngressMessage, Refresh, ServerEvent, Session,
    SignIn, TrainingUpload, UpdateManifest, decode,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = decode::<SignIn>(bytes);
    let _ = decode::<Refresh>(bytes);
    let _ = decode::<Session>(bytes);
    let _ = decode::<ActionBatch>(bytes);
    let _ = decode::<TrainingUpload>(bytes);
    let _ = decode::<IngressMessage>(bytes);
    let _ = decode::<ServerEvent>(bytes);
    let _ = decode::<Change>(bytes);
    let _ = decode::<ChangesPage>(bytes);
    let _ = decode::<ErrorBody>(bytes);
    let _ = decode::<UpdateManifest>(bytes);
});
