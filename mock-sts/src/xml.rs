//! Minimal XML writing for AWS response bodies: escaping and a tiny element builder.
//!
//! AWS's XML is simple (no attributes but `xmlns`, no mixed content), so a string builder that
//! escapes every text node is all we need, and it lets each response match AWS byte for byte.

/// Escapes text for an XML text node or attribute value.
pub(crate) fn escape(text: &str) -> String {
    // Most text (ids, ARNs, messages) has nothing to escape: copied whole.
    if !text
        .bytes()
        .any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\''))
    {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Builds indented XML the way STS formats its responses (two spaces per level).
#[derive(Debug, Default)]
pub(crate) struct XmlWriter {
    out: String,
    depth: usize,
    indent: bool,
}

impl XmlWriter {
    /// A writer that indents by two spaces per level, newline after each element (STS style).
    pub(crate) fn indented() -> Self {
        XmlWriter {
            out: String::new(),
            depth: 0,
            indent: true,
        }
    }

    /// A writer that puts everything on one line (S3 style).
    pub(crate) fn compact() -> Self {
        XmlWriter::default()
    }

    fn pad(&mut self) {
        if self.indent {
            for _ in 0..self.depth {
                self.out.push_str("  ");
            }
        }
    }

    fn newline(&mut self) {
        if self.indent {
            self.out.push('\n');
        }
    }

    /// Writes the `<?xml …?>` declaration.
    pub(crate) fn declaration(&mut self) -> &mut Self {
        self.out
            .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        self
    }

    /// Opens `<name>` (with an optional `xmlns`).
    pub(crate) fn open(&mut self, name: &str, xmlns: Option<&str>) -> &mut Self {
        self.pad();
        self.out.push('<');
        self.out.push_str(name);
        if let Some(ns) = xmlns {
            self.out.push_str(" xmlns=\"");
            self.out.push_str(&escape(ns));
            self.out.push('"');
        }
        self.out.push('>');
        self.newline();
        self.depth += 1;
        self
    }

    /// Closes `</name>`.
    pub(crate) fn close(&mut self, name: &str) -> &mut Self {
        self.depth = self.depth.saturating_sub(1);
        self.pad();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self.newline();
        self
    }

    /// Writes `<name>text</name>` with the text escaped.
    pub(crate) fn text(&mut self, name: &str, text: &str) -> &mut Self {
        self.pad();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self.out.push_str(&escape(text));
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self.newline();
        self
    }

    /// The document.
    pub(crate) fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
    }

    #[test]
    fn indented_matches_sts_layout() {
        let mut w = XmlWriter::indented();
        w.open("R", Some("ns")).text("A", "1").close("R");
        assert_eq!(w.finish(), "<R xmlns=\"ns\">\n  <A>1</A>\n</R>\n");
    }

    #[test]
    fn compact_is_one_line() {
        let mut w = XmlWriter::compact();
        w.declaration().open("E", None).text("C", "x&y").close("E");
        assert_eq!(
            w.finish(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<E><C>x&amp;y</C></E>"
        );
    }
}
