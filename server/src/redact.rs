//! The one step that keeps shop credentials inside the process: every text SyncStore stores
//! or shows about a marketplace call (error messages, sync log payloads, job errors, tracing
//! output) passes through [`redact`] first.

use serde_json::Value;

/// Names whose values are credentials, wherever they appear: query parameters, JSON keys,
/// headers. Compared without regard to case.
const SECRET_NAMES: [&str; 7] = [
    "access_token",
    "refresh_token",
    "app_secret",
    "partner_key",
    "x-tts-access-token",
    "authorization",
    "sign",
];

const REDACTED: &str = "[REDACTED]";

/// The credentials this process was configured with: removed wherever they appear, under
/// whatever name (or none).
static KNOWN_SECRETS: std::sync::RwLock<Vec<String>> = std::sync::RwLock::new(Vec::new());

/// Makes [`redact`] remove `secret` itself from every text (values shorter than 8
/// characters are too likely to be ordinary words and are ignored).
pub fn register_secret(secret: &str) {
    if secret.len() < 8 {
        return;
    }
    let mut known = KNOWN_SECRETS.write().unwrap_or_else(|p| p.into_inner());
    if !known.iter().any(|s| s == secret) {
        known.push(secret.to_string());
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// `text` with the value of every credential-named parameter, key or header replaced by
/// `[REDACTED]`, and every registered secret removed. Percent-encoded text is decoded
/// first, so `access%5Ftoken%3D…` cannot slip through. Text without a secret comes back
/// unchanged.
pub fn redact(text: &str) -> String {
    let mut out = redact_names(text);
    if out.contains('%') {
        // A name hidden by percent-encoding (once or twice) is found in a decoded copy;
        // only then is the decoded, redacted copy kept, without control characters.
        let mut decoded = out.clone();
        for _ in 0..2 {
            decoded = String::from_utf8_lossy(&urlencoding::decode_binary(decoded.as_bytes()))
                .into_owned();
        }
        let redacted = redact_names(&decoded);
        if redacted != decoded {
            out = redacted.replace(|c: char| c.is_control() && c != '\n', "");
        }
    }
    for secret in KNOWN_SECRETS
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
    {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), REDACTED);
        }
    }
    out
}

fn redact_names(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < text.len() {
        let Some(name) = SECRET_NAMES
            .iter()
            .find(|name| lower[i..].starts_with(*name))
        else {
            i += text[i..].chars().next().map_or(1, char::len_utf8);
            continue;
        };
        let before_ok = text[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !is_name_char(c));
        let after = i + name.len();
        let after_ok = text[after..]
            .chars()
            .next()
            .is_none_or(|c| !is_name_char(c));
        if !(before_ok && after_ok) {
            i = after;
            continue;
        }
        match value_span(text, after) {
            Some((start, end)) if end > start => {
                out.push_str(&text[copied..start]);
                out.push_str(REDACTED);
                copied = end;
                i = end;
            }
            _ => i = after,
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// Where the value that follows a credential name at `from` starts and ends: `name=value`
/// (query), `"name": "value"` (JSON, quotes escaped or not), `name: value` (header, to the
/// end of the line).
fn value_span(text: &str, from: usize) -> Option<(usize, usize)> {
    let skip_space = |pos: usize| pos + (text[pos..].len() - text[pos..].trim_start().len());
    let mut pos = from;
    if let Some(quote) = ["\\\"", "\""].iter().find(|q| text[pos..].starts_with(**q)) {
        pos += quote.len();
    }
    pos = skip_space(pos);
    let sep = text[pos..].chars().next()?;
    if sep != '=' && sep != ':' {
        return None;
    }
    pos = skip_space(pos + 1);
    let rest = &text[pos..];
    let (start, end) = if let Some(value) = rest.strip_prefix("\\\"") {
        (pos + 2, value.find("\\\"").map(|n| pos + 2 + n))
    } else if let Some(value) = rest.strip_prefix('"') {
        (pos + 1, value.find('"').map(|n| pos + 1 + n))
    } else if rest.starts_with(['{', '[']) {
        // A structured JSON value: `redact_json` replaces it whole.
        return None;
    } else if sep == ':' {
        (pos, rest.find(['\n', '\r', '"', ',', '}']).map(|n| pos + n))
    } else {
        let stop = [
            '&', ' ', '\n', '\r', '"', '\'', ',', '}', ')', ']', '#', '\\',
        ];
        (pos, rest.find(stop).map(|n| pos + n))
    };
    Some((start, end.unwrap_or(text.len())))
}

/// A JSON payload with every credential-named key's value replaced and every string
/// redacted as text.
pub fn redact_json(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(redact(s)),
        Value::Array(items) => Value::Array(items.iter().map(redact_json).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let secret = SECRET_NAMES.iter().any(|n| k.eq_ignore_ascii_case(n));
                    let v = if secret {
                        Value::String(REDACTED.into())
                    } else {
                        redact_json(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_lose_their_values() {
        let url = "error sending request for url (http://127.0.0.1:9/api/v2/product/add_item?partner_id=1&timestamp=2&access_token=tok123&shop_id=3&sign=abcdef)";
        let out = redact(url);
        assert!(!out.contains("tok123") && !out.contains("abcdef"), "{out}");
        assert!(
            out.contains("partner_id=1") && out.contains("shop_id=3"),
            "{out}"
        );
        assert!(out.contains("access_token=[REDACTED]"), "{out}");
    }

    #[test]
    fn json_keys_and_headers_lose_their_values() {
        let text = r#"{"refresh_token": "r-secret", "app_secret":"s-secret", "ok": "fine"}"#;
        let out = redact(text);
        assert!(
            !out.contains("r-secret") && !out.contains("s-secret"),
            "{out}"
        );
        assert!(out.contains(r#""ok": "fine""#), "{out}");
        let header = "Authorization: Bearer abc.def\nx-tts-access-token: TTS-TOKEN\nHost: x";
        let out = redact(header);
        assert!(
            !out.contains("abc.def") && !out.contains("TTS-TOKEN"),
            "{out}"
        );
        assert!(out.contains("Host: x"), "{out}");
        let escaped = r#"{"error":"url ?access_token=\"zzz\""}"#;
        assert!(!redact(escaped).contains("zzz"));
    }

    #[test]
    fn percent_encoded_names_and_registered_secrets_are_caught() {
        let out = redact("GET /x%3Faccess%5Ftoken%3Dtok-123%26shop_id%3D7");
        assert!(!out.contains("tok-123"), "{out}");
        assert!(out.contains("shop_id=7"), "{out}");
        let out = redact("access%5Ftoken%3Dtok1%26x%3D%FF and access%255Ftoken%253Dtok2");
        assert!(!out.contains("tok1") && !out.contains("tok2"), "{out}");
        // Text without a secret is kept exactly as it was.
        assert_eq!(redact("50%00 off, 100%20 sure"), "50%00 off, 100%20 sure");
        register_secret("a-registered-secret-value");
        let out = redact("refused key a-registered-secret-value in body");
        assert_eq!(out, "refused key [REDACTED] in body");
        register_secret("short");
        assert_eq!(redact("a short word"), "a short word");
    }

    #[test]
    fn words_that_merely_contain_a_name_are_left_alone() {
        let text = "design signature assign sign_in signed";
        assert_eq!(redact(text), text);
        assert_eq!(redact("no secrets here"), "no secrets here");
        assert_eq!(redact("Ünïcode sign"), "Ünïcode sign");
    }

    #[test]
    fn json_values_under_secret_keys_are_replaced() {
        let v = serde_json::json!({"access_token": 42, "nested": [{"Sign": "x"}, "a?sign=y&b=1"]});
        let out = redact_json(&v).to_string();
        assert!(
            !out.contains("42") && !out.contains("\"x\"") && !out.contains("sign=y"),
            "{out}"
        );
        assert!(out.contains("b=1"), "{out}");
    }
}
