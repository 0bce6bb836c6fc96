//! The workstation's decoder of a page of changes (entry by entry, skipping
//! the entries it cannot read): any bytes give a page or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = homedesk_core::sync::http::decode_page(bytes, bytes.len() as u64);
});
