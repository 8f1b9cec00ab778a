//! Arbitrary bytes: `analyze` never panics, its ranges are valid, and
//! `IncrementalFile::new(text).findings(..)` equals `analyze(text)`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Valid UTF-8 as it is; anything else through `from_utf8_lossy`.
    tokenguard_fuzz::check_text(&tokenguard_fuzz::text(data));
});
