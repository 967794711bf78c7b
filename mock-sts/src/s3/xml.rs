//! Reading the small XML documents S3 requests carry (`Delete`, `CompleteMultipartUpload`,
//! `CreateBucketConfiguration`) into a tree, and the namespace S3 responses declare.
//!
//! The tokenizer is `xmlparser` (already in the SDK's tree through aws-smithy-xml), so
//! well-formedness is checked by a real XML parser; this module only builds elements, decodes
//! entities and refuses anything S3 would call `MalformedXML`. Writing goes through
//! [`crate::xml::XmlWriter::compact`]: S3 answers on one line.

use xmlparser::{ElementEnd, Token, Tokenizer};

/// The namespace of every S3 response document.
pub(super) const S3_NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Deepest nesting accepted (S3's request documents are three levels deep).
const MAX_DEPTH: usize = 16;

/// An element: its local name (prefix dropped), text and children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Element {
    /// Local name.
    pub name: String,
    /// Concatenated text content directly inside it.
    pub text: String,
    /// Child elements in order.
    pub children: Vec<Element>,
}

impl Element {
    /// The first child called `name`.
    pub(super) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child called `name`.
    pub(super) fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child called `name`.
    pub(super) fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

/// Why a document was refused (S3 answers `MalformedXML` for all of them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum XmlError {
    /// Not UTF-8.
    #[error("the document is not UTF-8")]
    NotUtf8,
    /// The tokenizer refused it, or elements do not nest.
    #[error("the document is not well-formed: {0}")]
    NotWellFormed(String),
    /// No root element, or text outside it.
    #[error("the document has no single root element")]
    NoRoot,
    /// Nested deeper than S3's documents ever are.
    #[error("the document nests too deeply")]
    TooDeep,
}

/// Parses a document into its root element.
///
/// # Errors
/// [`XmlError`] for anything that is not one well-formed element tree.
pub(super) fn parse(bytes: &[u8]) -> Result<Element, XmlError> {
    let text = std::str::from_utf8(bytes).map_err(|_| XmlError::NotUtf8)?;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    for token in Tokenizer::from(text) {
        let token = token.map_err(|e| XmlError::NotWellFormed(e.to_string()))?;
        match token {
            Token::ElementStart { local, .. } => {
                if root.is_some() {
                    return Err(XmlError::NoRoot);
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                stack.push(Element {
                    name: local.as_str().to_owned(),
                    ..Element::default()
                });
            }
            Token::ElementEnd { end, .. } => match end {
                ElementEnd::Open => {}
                ElementEnd::Empty => close(&mut stack, &mut root, None)?,
                ElementEnd::Close(_, local) => close(&mut stack, &mut root, Some(local.as_str()))?,
            },
            Token::Text { text } => match stack.last_mut() {
                Some(open) => open.text.push_str(&unescape(text.as_str())?),
                None if text.as_str().trim().is_empty() => {}
                None => return Err(XmlError::NoRoot),
            },
            Token::Cdata { text, .. } => match stack.last_mut() {
                Some(open) => open.text.push_str(text.as_str()),
                None => return Err(XmlError::NoRoot),
            },
            _ => {}
        }
    }
    match (root, stack.is_empty()) {
        (Some(root), true) => Ok(root),
        (None, _) => Err(XmlError::NoRoot),
        (Some(_), false) => Err(XmlError::NotWellFormed("unclosed element".to_owned())),
    }
}

fn close(
    stack: &mut Vec<Element>,
    root: &mut Option<Element>,
    name: Option<&str>,
) -> Result<(), XmlError> {
    let element = stack
        .pop()
        .ok_or_else(|| XmlError::NotWellFormed("close without open".to_owned()))?;
    if let Some(name) = name
        && name != element.name
    {
        return Err(XmlError::NotWellFormed(format!(
            "</{name}> closes <{}>",
            element.name
        )));
    }
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
    Ok(())
}

/// Decodes the five predefined entities and character references.
fn unescape(text: &str) -> Result<String, XmlError> {
    if !text.contains('&') {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after
            .find(';')
            .ok_or_else(|| XmlError::NotWellFormed("unterminated entity".to_owned()))?;
        let entity = &after[..end];
        let decoded = match entity {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| XmlError::NotWellFormed(format!("unknown entity &{entity};")))?
            }
        };
        out.push(decoded);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_multipart_document_parses() {
        let doc = br#"<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Part><ETag>&quot;abc&quot;</ETag><PartNumber>1</PartNumber></Part>
  <Part><ETag>"def"</ETag><PartNumber>2</PartNumber><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>
</CompleteMultipartUpload>"#;
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "CompleteMultipartUpload");
        let parts: Vec<_> = root.children_named("Part").collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].child_text("ETag"), Some("\"abc\""));
        assert_eq!(parts[1].child_text("ChecksumCRC32"), Some("AAAAAA=="));
    }

    #[test]
    fn character_references_decode() {
        let root = parse(b"<Key>a&#x41;&#66;&lt;&amp;</Key>").unwrap();
        assert_eq!(root.text, "aAB<&");
    }

    #[test]
    fn malformed_documents_are_refused() {
        for doc in [
            &b""[..],
            b"<a>",
            b"<a></b>",
            b"<a/><b/>",
            b"text",
            b"<a>&bogus;</a>",
            b"<a>&#xFFFFFFFF;</a>",
            b"\xff\xfe",
            b"<a><b></a></b>",
        ] {
            assert!(parse(doc).is_err(), "{}", String::from_utf8_lossy(doc));
        }
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert_eq!(parse(deep.as_bytes()), Err(XmlError::TooDeep));
    }
}
