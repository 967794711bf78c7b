//! What makes a response or report body differ between two runs of the same test — request
//! ids, host ids, wall-clock durations — replaced by fixed markers, so `insta` snapshots hold
//! only what the code under test decides.
//!
//! Done here rather than with insta's `redactions` feature: that one pulls in a parser
//! generator (pest) for selectors these few fixed names do not need.

use serde_json::Value;

/// The marker a redacted value becomes.
pub const REDACTED: &str = "[redacted]";

/// The ids in every AWS error body and response: STS's and S3's `RequestId`, S3's `HostId`.
pub const REQUEST_ID_TAGS: [&str; 2] = ["RequestId", "HostId"];

/// The wall-clock fields of sts-harness's JSON report.
pub const WALL_FIELDS: [&str; 2] = ["wall_ms", "refresh_latency_wall_ms"];

/// `body` with the text of every `<tag>…</tag>` of `tags` replaced by [`REDACTED`].
pub fn xml(body: &str, tags: &[&str]) -> String {
    let mut out = body.to_owned();
    for tag in tags {
        let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
        let mut from = 0;
        while let Some(at) = out[from..].find(&open) {
            let start = from + at + open.len();
            let Some(len) = out[start..].find(&close) else {
                break;
            };
            out.replace_range(start..start + len, REDACTED);
            from = start + REDACTED.len() + close.len();
        }
    }
    out
}

/// `body` with the value of every `name="…"` attribute of `names` replaced by [`REDACTED`]
/// (JUnit's wall-clock `time`).
pub fn xml_attributes(body: &str, names: &[&str]) -> String {
    let mut out = body.to_owned();
    for name in names {
        let open = format!(" {name}=\"");
        let mut from = 0;
        while let Some(at) = out[from..].find(&open) {
            let start = from + at + open.len();
            let Some(len) = out[start..].find('"') else {
                break;
            };
            out.replace_range(start..start + len, REDACTED);
            from = start + REDACTED.len() + 1;
        }
    }
    out
}

/// An AWS XML body with its request and host ids redacted ([`REQUEST_ID_TAGS`]).
pub fn aws_xml(body: &str) -> String {
    xml(body, &REQUEST_ID_TAGS)
}

/// `value` with every object field named in `fields`, at any depth, set to [`REDACTED`]
/// (`null` stays `null`, so an absent measurement still shows).
pub fn json(mut value: Value, fields: &[&str]) -> Value {
    fn walk(v: &mut Value, fields: &[&str]) {
        match v {
            Value::Object(map) => {
                for (name, field) in map.iter_mut() {
                    if fields.contains(&name.as_str()) && !field.is_null() {
                        *field = Value::String(REDACTED.to_owned());
                    } else {
                        walk(field, fields);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, fields)),
            _ => {}
        }
    }
    walk(&mut value, fields);
    value
}

/// `text` with every occurrence of each of `values` replaced by its name: a temporary path,
/// a port.
pub fn values(text: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .filter(|(value, _)| !value.is_empty())
        .fold(text.to_owned(), |t, (value, name)| t.replace(value, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_redacts_every_occurrence_and_keeps_the_rest() {
        let body = "<Error><Code>X</Code><RequestId>abc</RequestId><HostId>h</HostId></Error><RequestId>d</RequestId>";
        assert_eq!(
            aws_xml(body),
            "<Error><Code>X</Code><RequestId>[redacted]</RequestId><HostId>[redacted]</HostId></Error><RequestId>[redacted]</RequestId>"
        );
    }

    #[test]
    fn xml_attributes_redacts_the_named_attribute_only() {
        let body = r#"<a time="1.0" runtime="2"><b time="0.5"/></a>"#;
        assert_eq!(
            xml_attributes(body, &["time"]),
            r#"<a time="[redacted]" runtime="2"><b time="[redacted]"/></a>"#
        );
    }

    #[test]
    fn json_redacts_named_fields_at_any_depth_but_not_nulls() {
        let v = serde_json::json!({"wall_ms": 3, "runs": [{"wall_ms": 4, "refresh_latency_wall_ms": null, "n": 1}]});
        assert_eq!(
            json(v, &WALL_FIELDS),
            serde_json::json!({"wall_ms": "[redacted]", "runs": [{"wall_ms": "[redacted]", "refresh_latency_wall_ms": null, "n": 1}]})
        );
    }
}
