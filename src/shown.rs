//! Values quoted in error messages, made fit for one line of stderr: control
//! characters escaped (a newline shown as `\n`) and a long quoted value cut,
//! with its full length stated, so every error is one short line however
//! large or strange the input.

/// The most characters of a quoted value an error shows.
pub(crate) const MAX_SHOWN: usize = 80;

/// `message` on one line: control characters escaped, and each value
/// quoted in `"..."` or `` `...` `` longer than [`MAX_SHOWN`] characters
/// cut to that many, with `…` and its full length after the closing quote.
pub(crate) fn one_line(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(1024));
    let mut rest = message;
    while let Some(open) = rest.find(['"', '`']) {
        let quote = rest.as_bytes()[open] as char;
        escape_into(&mut out, &rest[..=open]);
        let body = &rest[open + 1..];
        match closing(body, quote) {
            Some(close) => {
                let value = &body[..close];
                let mut escaped = String::new();
                escape_into(&mut escaped, value);
                // Cut after escaping, to 80 and the ellipsis: a message
                // made one line twice is unchanged.
                if escaped.chars().count() > MAX_SHOWN + 1 {
                    out.extend(escaped.chars().take(MAX_SHOWN));
                    out.push('…');
                    out.push(quote);
                    out.push_str(&format!(" ({} characters)", value.chars().count()));
                } else {
                    out.push_str(&escaped);
                    out.push(quote);
                }
                rest = &body[close + 1..];
            }
            None => {
                rest = body;
            }
        }
    }
    escape_into(&mut out, rest);
    out
}

/// The offset of the quote closing a value that starts at `body`: the next
/// `quote` not escaped by a backslash (Rust's `{:?}` escapes inner quotes).
fn closing(body: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quote == '"' => escaped = true,
            c if c == quote => return Some(i),
            _ => {}
        }
    }
    None
}

/// Appends `s` with its control characters escaped as Rust writes them.
fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newline_in_a_value_is_shown_escaped() {
        assert_eq!(
            one_line("invalid rate \"fast\nish/s\": expected records per time unit"),
            "invalid rate \"fast\\nish/s\": expected records per time unit"
        );
        assert_eq!(one_line("a\r\tb\u{1b}"), "a\\r\\tb\\u{1b}");
        assert_eq!(
            one_line("plain, \"short\" and `code`"),
            "plain, \"short\" and `code`"
        );
    }

    #[test]
    fn a_long_quoted_value_is_cut_with_its_length() {
        let long = "x".repeat(9000);
        let shown = one_line(&format!(
            "bad count \"{long}\": expected a number (in `n = {long}`)"
        ));
        let x80 = "x".repeat(80);
        assert_eq!(
            shown,
            format!(
                "bad count \"{x80}…\" (9000 characters): expected a number (in `{}…` (9004 characters))",
                format_args!("n = {}", "x".repeat(76))
            )
        );
        // Twice is once.
        assert_eq!(one_line(&shown), shown);
        // The limit (and one more) is shown whole; characters, not bytes,
        // count.
        let e = "é".repeat(81);
        assert_eq!(one_line(&format!("\"{e}\"")), format!("\"{e}\""));
        // An escaped quote does not end the value; an unclosed one is kept.
        assert_eq!(one_line("\"a\\\"b\" c"), "\"a\\\"b\" c");
        assert_eq!(one_line("open \"quote\nhere"), "open \"quote\\nhere");
    }
}
