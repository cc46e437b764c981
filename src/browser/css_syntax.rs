//! Playwright's check of a CSS selector's syntax, so a selector that cannot parse fails at
//! once with Playwright's words (which gstack prints) instead of waiting for a match that can
//! never come. Chromium's own parser is more forgiving: it closes an unclosed `(` or `[` at
//! the end (`p:nth-child(0` is valid CSS to it and just matches nothing), where Playwright's
//! parser refuses.
//!
//! Follows Playwright's `cssParser.ts` (`parseCSS`): the CSS Syntax tokenizer, a ban on
//! tokens no selector uses (`Unsupported token`), then a small recursive descent over
//! selector lists, compounds, `:pseudo(…)` arguments and `[attr]` blocks (`Unexpected
//! token`). Messages name the token's source text (`""` at the end) and the whole selector:
//! `Unexpected token "#" while parsing css selector "###". Did you mean to CSS.escape it?`

/// The tail of every message this module produces; how callers recognise a syntax error.
pub const SYNTAX_ERROR_TAIL: &str = "Did you mean to CSS.escape it?";

/// Playwright's own pseudo-classes, whose arguments are selectors (or strings), not raw CSS.
const CUSTOM_PSEUDOS: &[&str] = &[
    "has-text",
    "text",
    "text-is",
    "text-matches",
    "visible",
    "nth-match",
    "right-of",
    "left-of",
    "above",
    "below",
    "near",
    "has",
    "is",
    "where",
    "not",
    "scope",
];

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Whitespace,
    Ident(String),
    Function(String),
    AtKeyword,
    Hash,
    String,
    BadString,
    Number,
    Percentage,
    Dimension,
    Delim(char),
    OpenParen,
    CloseParen,
    OpenSquare,
    CloseSquare,
    OpenCurly,
    CloseCurly,
    Comma,
    Colon,
    Semicolon,
    Column,
    Cdo,
    Cdc,
    Eof,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    /// The token's text in the selector (empty for the end).
    source: String,
}

/// Checks `selector` (plain CSS, with Playwright's pseudo-classes allowed) as Playwright's
/// parser would. `Err` holds Playwright's message.
pub fn check(selector: &str) -> Result<(), String> {
    let tokens = tokenize(selector);
    let message = |what: &str, token: &Token| {
        format!(
            "{what} token \"{}\" while parsing css selector \"{selector}\". {SYNTAX_ERROR_TAIL}",
            token.source
        )
    };
    if let Some(bad) = tokens.iter().find(|t| {
        matches!(
            t.kind,
            Kind::AtKeyword
                | Kind::BadString
                | Kind::Column
                | Kind::Cdo
                | Kind::Cdc
                | Kind::Semicolon
                | Kind::OpenCurly
                | Kind::CloseCurly
                | Kind::Percentage
        )
    }) {
        return Err(message("Unsupported", bad));
    }
    let mut parser = Parser { tokens, pos: 0 };
    let only_selectors = parser
        .arguments()
        .and_then(|all_selectors| {
            if parser.at_eof() {
                Ok(all_selectors)
            } else {
                Err(parser.pos)
            }
        })
        .map_err(|at| message("Unexpected", &parser.tokens[at]))?;
    if !only_selectors {
        return Err(format!(
            "Error while parsing css selector \"{selector}\". {SYNTAX_ERROR_TAIL}"
        ));
    }
    Ok(())
}

/// The recursive descent; an `Err` is the index of the unexpected token.
struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn kind(&self) -> &Kind {
        &self.tokens[self.pos.min(self.tokens.len() - 1)].kind
    }

    fn at_eof(&self) -> bool {
        *self.kind() == Kind::Eof
    }

    fn bump(&mut self) {
        if !self.at_eof() {
            self.pos += 1;
        }
    }

    fn skip_whitespace(&mut self) {
        while *self.kind() == Kind::Whitespace {
            self.bump();
        }
    }

    fn at_combinator(&self) -> bool {
        matches!(self.kind(), Kind::Delim('>' | '+' | '~'))
    }

    fn at_clause_end(&self) -> bool {
        matches!(
            self.kind(),
            Kind::Comma | Kind::CloseParen | Kind::Eof | Kind::Whitespace
        ) || self.at_combinator()
    }

    /// Comma-separated arguments; `Ok(true)` when every one was a selector (not a bare
    /// number or string).
    fn arguments(&mut self) -> Result<bool, usize> {
        let mut all_selectors = self.argument()?;
        loop {
            self.skip_whitespace();
            if *self.kind() != Kind::Comma {
                return Ok(all_selectors);
            }
            self.bump();
            all_selectors &= self.argument()?;
        }
    }

    fn argument(&mut self) -> Result<bool, usize> {
        self.skip_whitespace();
        if matches!(self.kind(), Kind::Number | Kind::String) {
            self.bump();
            return Ok(false);
        }
        self.complex()?;
        Ok(true)
    }

    fn complex(&mut self) -> Result<(), usize> {
        self.skip_whitespace();
        // A leading combinator is relative to an implicit `:scope`.
        if !self.at_combinator() {
            self.compound()?;
        }
        loop {
            self.skip_whitespace();
            if self.at_combinator() {
                self.bump();
                self.skip_whitespace();
            } else if self.at_clause_end() {
                return Ok(());
            }
            self.compound()?;
        }
    }

    fn compound(&mut self) -> Result<(), usize> {
        let start = self.pos;
        while !self.at_clause_end() {
            match self.kind().clone() {
                Kind::Ident(_) | Kind::Delim('*') | Kind::Hash => self.bump(),
                Kind::Delim('.') => {
                    self.bump();
                    if !matches!(self.kind(), Kind::Ident(_)) {
                        return Err(self.pos);
                    }
                    self.bump();
                }
                Kind::Colon => {
                    self.bump();
                    match self.kind().clone() {
                        Kind::Ident(_) => self.bump(),
                        Kind::Function(name) => {
                            self.bump();
                            if CUSTOM_PSEUDOS.contains(&name.to_ascii_lowercase().as_str()) {
                                self.arguments()?;
                            } else {
                                self.builtin_arguments();
                            }
                            self.skip_whitespace();
                            if *self.kind() != Kind::CloseParen {
                                return Err(self.pos);
                            }
                            self.bump();
                        }
                        _ => return Err(self.pos),
                    }
                }
                Kind::OpenSquare => {
                    self.bump();
                    while !matches!(self.kind(), Kind::CloseSquare | Kind::Eof) {
                        self.bump();
                    }
                    if *self.kind() != Kind::CloseSquare {
                        return Err(self.pos);
                    }
                    self.bump();
                }
                _ => return Err(self.pos),
            }
        }
        if self.pos == start {
            return Err(self.pos);
        }
        Ok(())
    }

    /// A built-in pseudo-class's arguments (`nth-child(2n+1)`) are taken as they are, up to
    /// the `)` that balances the function's `(`.
    fn builtin_arguments(&mut self) {
        let mut balance = 1;
        while !self.at_eof() {
            match self.kind() {
                Kind::OpenParen | Kind::Function(_) => balance += 1,
                Kind::CloseParen => balance -= 1,
                _ => {}
            }
            if balance == 0 {
                return;
            }
            self.bump();
        }
    }
}

/// The CSS Syntax Level 3 tokenizer, as far as selectors need it.
fn tokenize(input: &str) -> Vec<Token> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied();
    let is_name_start =
        |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii());
    let is_name =
        |c: Option<char>| is_name_start(c) || c.is_some_and(|c| c.is_ascii_digit() || c == '-');
    let is_escape = |i: usize| at(i) == Some('\\') && at(i + 1).is_some_and(|c| c != '\n');
    let starts_ident = |i: usize| match at(i) {
        Some('-') => is_name_start(at(i + 1)) || at(i + 1) == Some('-') || is_escape(i + 1),
        Some('\\') => is_escape(i),
        c => is_name_start(c),
    };
    let starts_number = |i: usize| match at(i) {
        Some('+' | '-') => {
            at(i + 1).is_some_and(|c| c.is_ascii_digit())
                || (at(i + 1) == Some('.') && at(i + 2).is_some_and(|c| c.is_ascii_digit()))
        }
        Some('.') => at(i + 1).is_some_and(|c| c.is_ascii_digit()),
        c => c.is_some_and(|c| c.is_ascii_digit()),
    };
    // Consumes a name (with escapes) from `i`; returns the index after it.
    let name_end = |mut i: usize| {
        loop {
            if is_escape(i) {
                i += 1;
                let hex = chars[i..]
                    .iter()
                    .take(6)
                    .take_while(|c| c.is_ascii_hexdigit())
                    .count();
                if hex == 0 {
                    i += 1;
                } else {
                    i += hex;
                    // One whitespace ends a hex escape and belongs to it.
                    if at(i).is_some_and(char::is_whitespace) {
                        i += 1;
                    }
                }
            } else if is_name(at(i)) {
                i += 1;
            } else {
                return i;
            }
        }
    };
    while i < chars.len() {
        let start = i;
        let c = chars[i];
        let kind = if c.is_whitespace() {
            while at(i).is_some_and(char::is_whitespace) {
                i += 1;
            }
            Kind::Whitespace
        } else if c == '"' || c == '\'' {
            i += 1;
            let mut bad = false;
            while let Some(d) = at(i) {
                if d == c {
                    i += 1;
                    break;
                }
                if d == '\n' {
                    bad = true;
                    break;
                }
                i += if d == '\\' { 2 } else { 1 };
            }
            if bad {
                Kind::BadString
            } else {
                Kind::String
            }
        } else if starts_number(i) {
            i += 1;
            while at(i).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
            }
            if at(i) == Some('.') && at(i + 1).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
                while at(i).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                }
            }
            if at(i) == Some('%') {
                i += 1;
                Kind::Percentage
            } else if starts_ident(i) {
                i = name_end(i);
                Kind::Dimension
            } else {
                Kind::Number
            }
        } else if starts_ident(i) {
            i = name_end(i);
            let name: String = chars[start..i].iter().collect();
            if at(i) == Some('(') {
                i += 1;
                Kind::Function(name)
            } else {
                Kind::Ident(name)
            }
        } else if c == '#' && (is_name(at(i + 1)) || is_escape(i + 1)) {
            i = name_end(i + 1);
            Kind::Hash
        } else if c == '@' && starts_ident(i + 1) {
            i = name_end(i + 1);
            Kind::AtKeyword
        } else if c == '|' && at(i + 1) == Some('|') {
            i += 2;
            Kind::Column
        } else if c == '<' && chars[i..].starts_with(&['<', '!', '-', '-']) {
            i += 4;
            Kind::Cdo
        } else if c == '-' && chars[i..].starts_with(&['-', '-', '>']) {
            i += 3;
            Kind::Cdc
        } else {
            i += 1;
            match c {
                '(' => Kind::OpenParen,
                ')' => Kind::CloseParen,
                '[' => Kind::OpenSquare,
                ']' => Kind::CloseSquare,
                '{' => Kind::OpenCurly,
                '}' => Kind::CloseCurly,
                ',' => Kind::Comma,
                ':' => Kind::Colon,
                ';' => Kind::Semicolon,
                other => Kind::Delim(other),
            }
        };
        tokens.push(Token {
            kind,
            source: chars[start..i.min(chars.len())].iter().collect(),
        });
    }
    tokens.push(Token {
        kind: Kind::Eof,
        source: String::new(),
    });
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(s: &str) -> String {
        check(s).err().unwrap_or_default()
    }

    #[test]
    fn valid_selectors_pass() {
        for s in [
            "#a .b",
            "div > p + span ~ em",
            "input[name=\"q\"]",
            "li:nth-child(2n+1)",
            "a:not(.x, [href])",
            "button:has-text(\"Go\")",
            "*",
            "h1, h2",
            "#login >  #user",
            "p:first-child",
            ":scope > p",
            "[data-x='a b']",
            "\\31 23",
            "-foo",
        ] {
            assert_eq!(check(s), Ok(()), "{s}");
        }
    }

    #[test]
    fn errors_name_playwrights_token() {
        assert_eq!(
            error("###"),
            "Unexpected token \"#\" while parsing css selector \"###\". Did you mean to CSS.escape it?"
        );
        assert_eq!(
            error("p:nth-child(0"),
            "Unexpected token \"\" while parsing css selector \"p:nth-child(0\". Did you mean to CSS.escape it?"
        );
        assert!(error("a[href").starts_with("Unexpected token \"\""));
        assert!(error("div >").starts_with("Unexpected token \"\""));
        assert!(error("a,,b").starts_with("Unexpected token \",\""));
        assert!(error("p::before").starts_with("Unexpected token \":\""));
        assert!(error(". x").starts_with("Unexpected token \" \""));
        assert!(error("a;b").starts_with("Unsupported token \";\""));
        assert!(error("@media").starts_with("Unsupported token \"@media\""));
        assert!(error("\"text\"").starts_with("Error while parsing css selector"));
    }
}
