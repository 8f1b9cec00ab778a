//! Prints the findings of the files given: a quick look while developing.
fn main() {
    for path in std::env::args().skip(1) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("{path}: unreadable");
            continue;
        };
        let parsed = tokenguard_analysis::parse(&text);
        for f in tokenguard_analysis::check(&text, &parsed, &tokenguard_analysis::NoAccounts) {
            let (line, col) = parsed.line_index.line_col_chars(&text, f.range.start);
            println!(
                "{path}:{}:{}: {} {}",
                line + 1,
                col + 1,
                f.code.as_str(),
                f.message
            );
        }
    }
}
