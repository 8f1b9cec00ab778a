//! Text without syntax errors: fix-all leaves nothing fixable and no syntax
//! error, a second round changes nothing; ignore comments and account fixes
//! do what they say.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenguard_analysis::NoAccounts;

fuzz_target!(|data: &[u8]| {
    let text = tokenguard_fuzz::text(data);
    tokenguard_fuzz::check_fixes(&text, &NoAccounts);
    // The same with accounts from the workspace (some found, some not).
    tokenguard_fuzz::check_fixes(&text, &tokenguard_fuzz::workspace());
});
