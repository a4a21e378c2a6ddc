//! Values as they are shown. Quoted in error messages, made fit for one
//! line of stderr: control characters escaped (a newline shown as `\n`)
//! and a long quoted value cut, with its full length stated, so every
//! error is one short line however large or strange the input. Numbers as
//! a reader wants them (grouped digits, percentages, dollars), for the
//! pages, plan.md and the summary lines alike.

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

/// A whole number with thousands separators: `1,797,725`.
pub(crate) fn thousands(n: u64) -> String {
    grouped(&n.to_string())
}

/// Digits grouped in threes with commas (`digits` is ASCII digits only).
fn grouped(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A number as written in a CSV cell (`1013191.3`, `-12`), its whole part
/// grouped: `1,013,191.3`. Anything else is returned as it is.
pub(crate) fn number_text(cell: &str) -> String {
    let (sign, rest) = match cell.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", cell),
    };
    let (whole, frac) = match rest.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (rest, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || frac.is_some_and(|f| !digits(f)) {
        return cell.to_owned();
    }
    match frac {
        Some(f) => format!("{sign}{}.{f}", grouped(whole)),
        None => format!("{sign}{}", grouped(whole)),
    }
}

/// A fraction as a percentage with three significant digits (`0.9927` is
/// `99.3 %`, `0.000123` is `0.0123 %`), trailing zeros dropped; whole
/// percentages grouped (`12,300 %`).
pub(crate) fn percent(fraction: f64) -> String {
    if !fraction.is_finite() {
        return "n/a".to_owned();
    }
    let p = fraction * 100.0;
    if p == 0.0 {
        return "0 %".to_owned();
    }
    let magnitude = p.abs().log10().floor() as i32;
    let decimals = (2 - magnitude).clamp(0, 6) as usize;
    let text = format!("{p:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{} %", number_text(text))
}

/// US dollars: cents above a dollar (`$1,234.56`), four decimals below.
pub(crate) fn dollars(x: f64) -> String {
    let decimals = if x.abs() < 1.0 && x != 0.0 { 4 } else { 2 };
    format!("${}", number_text(&format!("{x:.decimals$}")))
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
