//! Checking a message from the MCP server, chunk by chunk as it arrives.
//!
//! Only complete, well-formed JSON-RPC may reach stdout, so every byte of every
//! server message is checked: UTF-8, the JSON grammar (RFC 8259), and the
//! members the relay routes on (`id`, `method`, `result`, `error`) of the
//! message object, or of each object of a batch. The check is one pass that
//! keeps its state between chunks, so a body is checked while it arrives and an
//! answer can be written as soon as its last byte is in.
//!
//! Nearly all of a large tool result is string content, often JSON inside JSON
//! with an escape every few bytes. Strings are taken 64 bytes at a time: bit
//! masks of quotes, backslashes and control bytes, and carry arithmetic that
//! finds which backslashes escape something (a backslash run of odd length
//! escapes the byte after it), so an escape costs a few instructions instead of
//! a trip through a byte-by-byte loop. serde_json needed 7.6 ms after the last
//! byte of a 10 MiB escape-dense result; this checker needs about 1.5 ms, spread
//! over the time the result takes to arrive.
//!
//! Verdicts match serde_json's (`null` counts as an absent member, as it does
//! for serde's `Option`); the fuzz target `server_message` and the property test
//! below hold them to it.

mod masks;

use std::ops::Range;

use masks::{Kernel, Masks, Portable, escapes};

/// Bytes checked per step inside strings.
const BLOCK: usize = 64;
/// A routing member's name is at most 36 bytes even spelt with `\u` escapes.
const MAX_KEY: usize = 64;
/// Bytes checked per pass: UTF-8, then grammar, over a piece that stays in cache.
const PIECE: usize = 64 << 10;
/// Bytes looked at one by one before a string is taken in blocks.
const SHORT_STRING: usize = 16;

/// What a message is, as far as routing goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// A JSON object: one message.
    Message(Members),
    /// A JSON array (a batch): each item's members, `None` for an item that is
    /// not an object.
    Batch(Vec<Option<Members>>),
    /// Any other JSON value.
    Scalar,
}

/// The routing members of one message object. A member whose value is `null`
/// counts as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Members {
    /// Where the `id` value is in the message.
    pub id: Option<Range<usize>>,
    pub method: bool,
    /// `result` or `error`.
    pub answer: bool,
    /// A routing member that appears twice.
    pub duplicate: Option<&'static str>,
    seen: u8,
}

/// A message that passed the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanned {
    pub shape: Shape,
    /// A raw CR or LF between tokens: the message needs them replaced to be one
    /// line (inside strings JSON allows neither).
    pub line_breaks: bool,
}

/// Why a message failed the check, and where (a byte offset).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    #[error("not valid UTF-8 (at byte {0})")]
    Utf8(usize),
    #[error("not JSON: {what} at byte {at}")]
    Json { what: &'static str, at: usize },
}

impl ScanError {
    /// Where the message went wrong. Where a byte is both bad UTF-8 and bad JSON,
    /// which of the two is named depends on where the chunks were cut; where is
    /// not.
    pub fn at(&self) -> usize {
        match self {
            ScanError::Utf8(at) | ScanError::Json { at, .. } => *at,
        }
    }
}

/// Checks a whole message.
pub fn scan(message: &[u8]) -> Result<Scanned, ScanError> {
    let mut scanner = Scanner::default();
    scanner.feed(message)?;
    scanner.finish()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the top-level value.
    Start,
    /// After `:`, or `,` in an array: a value.
    Value,
    /// After `[`: a value or `]`.
    FirstItem,
    /// After `{`: a key or `}`.
    FirstKey,
    /// After `,` in an object: a key.
    Key,
    /// After a key: `:`.
    Colon,
    /// After a value inside a container: `,` or its closing bracket.
    Next,
    /// After the top-level value: only whitespace.
    End,
    /// Inside a string (an object key when `key`).
    Str {
        key: bool,
    },
    Number(Number),
    /// Inside `true`, `false` or `null`: which, and how many bytes are in.
    Literal(Literal, u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Literal {
    True,
    False,
    Null,
}

impl Literal {
    fn text(self) -> &'static [u8] {
        match self {
            Literal::True => b"true",
            Literal::False => b"false",
            Literal::Null => b"null",
        }
    }
}

/// Where a number is, after the bytes so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Number {
    Minus,
    Zero,
    Integer,
    Point,
    Fraction,
    Exponent,
    ExponentSign,
    ExponentDigits,
}

impl Number {
    fn is_complete(self) -> bool {
        matches!(
            self,
            Number::Zero | Number::Integer | Number::Fraction | Number::ExponentDigits
        )
    }

    /// Reads the number on from `chunk[i..]`: where it stopped, and the state there.
    fn run(mut self, chunk: &[u8], mut i: usize) -> (usize, Number) {
        loop {
            if matches!(
                self,
                Number::Integer | Number::Fraction | Number::ExponentDigits
            ) {
                while chunk.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
            match chunk.get(i).and_then(|&byte| self.step(byte)) {
                Some(next) => {
                    self = next;
                    i += 1;
                }
                None => return (i, self),
            }
        }
    }

    /// The state after `byte`, or `None` when `byte` is not part of the number.
    fn step(self, byte: u8) -> Option<Number> {
        use Number::*;
        match (self, byte) {
            (Minus, b'0') => Some(Zero),
            (Minus, b'1'..=b'9') => Some(Integer),
            (Integer, b'0'..=b'9') => Some(Integer),
            (Zero | Integer, b'.') => Some(Point),
            (Point | Fraction, b'0'..=b'9') => Some(Fraction),
            (Zero | Integer | Fraction, b'e' | b'E') => Some(Exponent),
            (Exponent, b'+' | b'-') => Some(ExponentSign),
            (Exponent | ExponentSign | ExponentDigits, b'0'..=b'9') => Some(ExponentDigits),
            _ => None,
        }
    }
}

/// An escape cut off by the end of a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    /// A backslash; the escaped byte comes next.
    Backslash,
    /// `\u` and this many hex digits still to come.
    Hex(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Id,
    Method,
    Result,
    Error,
}

impl Field {
    fn from_key(key: &[u8]) -> Option<Field> {
        match key {
            b"id" => Some(Field::Id),
            b"method" => Some(Field::Method),
            b"result" => Some(Field::Result),
            b"error" => Some(Field::Error),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Method => "method",
            Field::Result => "result",
            Field::Error => "error",
        }
    }
}

/// A routing member whose value is being read.
#[derive(Debug, Clone, Copy)]
struct Pending {
    field: Field,
    start: usize,
    null: bool,
}

/// The checker. Feed it the message's bytes in order, in chunks of any size,
/// then call [`Scanner::finish`].
#[derive(Debug)]
pub struct Scanner {
    /// Bytes taken before the current chunk.
    offset: usize,
    state: State,
    escape: Escape,
    /// Open containers, innermost last (`true`: an object).
    stack: BitStack,
    /// The innermost open container is an object.
    in_object: bool,
    /// The tail of the last chunk when it ended inside a UTF-8 sequence.
    utf8_tail: [u8; 4],
    utf8_tail_len: usize,
    line_breaks: bool,
    /// What the top-level value is, once it has begun.
    top: Option<Top>,
    /// The depth of the message object being read (1, or 2 inside a batch); 0: none.
    message_depth: usize,
    members: Members,
    /// The last key read at the message's depth, while it is a routing member.
    field: Option<Field>,
    pending: Option<Pending>,
    key: KeyBuffer,
    items: Vec<Option<Members>>,
    /// The first error; the message is bad whatever comes after it.
    failed: Option<ScanError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Top {
    Object,
    Array,
    Scalar,
}

impl Default for Scanner {
    fn default() -> Self {
        Self {
            offset: 0,
            state: State::Start,
            escape: Escape::None,
            stack: BitStack::default(),
            in_object: false,
            utf8_tail: [0; 4],
            utf8_tail_len: 0,
            line_breaks: false,
            top: None,
            message_depth: 0,
            members: Members::default(),
            field: None,
            pending: None,
            key: KeyBuffer::default(),
            items: Vec::new(),
            failed: None,
        }
    }
}

impl Scanner {
    /// Checks the next bytes of the message. After an error, every call
    /// returns that error.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), ScanError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        // Both passes over a piece while it is in cache, not over the whole. The
        // grammar stops where the UTF-8 does, so the error named is the first in
        // the message wherever the chunks were cut.
        for piece in chunk.chunks(PIECE) {
            let utf8 = self.check_utf8(piece);
            let valid = match utf8 {
                Err(ScanError::Utf8(at)) => at.saturating_sub(self.offset),
                _ => piece.len(),
            };
            let result = self.grammar(&piece[..valid]).and(utf8);
            self.offset += piece.len();
            if let Err(err) = result {
                self.failed = Some(err.clone());
                return Err(err);
            }
        }
        Ok(())
    }

    /// The verdict, once every byte has been fed.
    pub fn finish(mut self) -> Result<Scanned, ScanError> {
        if let Some(err) = self.failed {
            return Err(err);
        }
        let at = self.offset;
        if self.utf8_tail_len > 0 {
            return Err(ScanError::Utf8(at - self.utf8_tail_len));
        }
        if let State::Number(number) = self.state {
            if !number.is_complete() {
                return Err(json("an unfinished number", at));
            }
            self.state = self.end_value(at);
        }
        if self.state != State::End {
            let what = match self.state {
                State::Start => "no value",
                State::Str { .. } => "an unterminated string",
                _ => "an unexpected end",
            };
            return Err(json(what, at));
        }
        let shape = match self.top {
            Some(Top::Object) => Shape::Message(self.members),
            Some(Top::Array) => Shape::Batch(self.items),
            _ => Shape::Scalar,
        };
        Ok(Scanned {
            shape,
            line_breaks: self.line_breaks,
        })
    }

    /// UTF-8 per chunk, carrying a sequence the chunk boundary cuts in two.
    fn check_utf8(&mut self, mut chunk: &[u8]) -> Result<(), ScanError> {
        let mut offset = self.offset;
        if self.utf8_tail_len > 0 {
            let have = self.utf8_tail_len;
            let need = utf8_width(self.utf8_tail[0]).saturating_sub(have);
            let take = need.min(chunk.len());
            self.utf8_tail[have..have + take].copy_from_slice(&chunk[..take]);
            self.utf8_tail_len += take;
            let start = offset - have;
            if take < need {
                // Still incomplete: what is there must be a valid beginning.
                return match simdutf8::compat::from_utf8(&self.utf8_tail[..self.utf8_tail_len]) {
                    Err(err) if err.error_len().is_some() => Err(ScanError::Utf8(start)),
                    _ => Ok(()),
                };
            }
            if simdutf8::compat::from_utf8(&self.utf8_tail[..self.utf8_tail_len]).is_err() {
                return Err(ScanError::Utf8(start));
            }
            self.utf8_tail_len = 0;
            chunk = &chunk[take..];
            offset += take;
        }
        match simdutf8::compat::from_utf8(chunk) {
            Ok(_) => Ok(()),
            Err(err) if err.error_len().is_none() => {
                let tail = &chunk[err.valid_up_to()..];
                self.utf8_tail[..tail.len()].copy_from_slice(tail);
                self.utf8_tail_len = tail.len();
                Ok(())
            }
            Err(err) => Err(ScanError::Utf8(offset + err.valid_up_to())),
        }
    }

    fn grammar(&mut self, chunk: &[u8]) -> Result<(), ScanError> {
        // The state lives in a local while the chunk is read: one load and one
        // store per chunk rather than per byte.
        let mut state = self.state;
        let mut i = 0;
        let result = loop {
            let Some(&byte) = chunk.get(i) else {
                break Ok(());
            };
            match state {
                State::Str { key } => {
                    let capture = key && self.capturing_key();
                    let end = match short_string(chunk, i) {
                        Some(after) if self.escape == Escape::None => Some(after),
                        _ => self.string(chunk, i)?,
                    };
                    if capture {
                        self.key
                            .push(&chunk[i..end.map_or(chunk.len(), |after| after - 1)]);
                    }
                    let Some(after) = end else {
                        break Ok(());
                    };
                    i = after;
                    state = if key {
                        self.end_key()
                    } else {
                        self.end_value(self.offset + after)
                    };
                    continue;
                }
                State::Number(number) => {
                    let (after, number) = number.run(chunk, i);
                    i = after;
                    state = State::Number(number);
                    if i < chunk.len() {
                        if !number.is_complete() {
                            break Err(json("an invalid number", self.offset + i));
                        }
                        state = self.end_value(self.offset + i);
                    }
                    continue;
                }
                State::Literal(literal, done) => {
                    let rest = &literal.text()[usize::from(done)..];
                    let take = rest.len().min(chunk.len() - i);
                    if let Some(bad) = (0..take).find(|&n| chunk[i + n] != rest[n]) {
                        break Err(json("an invalid literal", self.offset + i + bad));
                    }
                    i += take;
                    state = if take == rest.len() {
                        self.end_value(self.offset + i)
                    } else {
                        State::Literal(literal, done + take as u8)
                    };
                    continue;
                }
                _ => {}
            }
            let at = self.offset + i;
            i += 1;
            match byte {
                b' ' | b'\t' => continue,
                b'\n' | b'\r' => {
                    self.line_breaks = true;
                    continue;
                }
                _ => {}
            }
            // If-chains, not one `match` on the pair: a jump table on the state
            // mispredicts on nearly every token of structure-heavy JSON. The most
            // frequent state (a value is due) is tested first.
            state = if state == State::Value || state == State::Start {
                self.begin_value(byte, at)?
            } else if state == State::Next {
                if byte == b',' {
                    if !self.in_object {
                        State::Value
                    } else if let Some(after) = self.member_name(chunk, i) {
                        i = after;
                        State::Value
                    } else {
                        State::Key
                    }
                } else if byte == if self.in_object { b'}' } else { b']' } {
                    self.close(at)
                } else {
                    break Err(json("expected `,` or a closing bracket", at));
                }
            } else if state == State::Key || state == State::FirstKey {
                if byte == b'"' {
                    if self.capturing_key() {
                        self.key.clear();
                    }
                    match short_string(chunk, i).filter(|&after| chunk.get(after) == Some(&b':')) {
                        // `"name":` all at once, the usual case.
                        Some(after) => {
                            if self.capturing_key() {
                                self.key.push(&chunk[i..after - 1]);
                            }
                            self.end_key();
                            i = after + 1;
                            State::Value
                        }
                        None => State::Str { key: true },
                    }
                } else if byte == b'}' && state == State::FirstKey {
                    self.close(at)
                } else {
                    break Err(json("expected a key", at));
                }
            } else if state == State::Colon {
                if byte != b':' {
                    break Err(json("expected `:`", at));
                }
                State::Value
            } else if state == State::End {
                break Err(json("trailing characters", at));
            } else if byte == b']' {
                // After `[`.
                self.close(at)
            } else {
                self.begin_value(byte, at)?
            };
        };
        self.state = state;
        result
    }

    /// The first byte of a value, at offset `at`: the state that reads the rest.
    // Inlined: returned through memory, the state costs a store-forwarding stall
    // per value (a third of the time on structure-heavy JSON).
    #[inline(always)]
    fn begin_value(&mut self, byte: u8, at: usize) -> Result<State, ScanError> {
        let depth = self.stack.len();
        if depth == 0 {
            self.top = Some(match byte {
                b'{' => Top::Object,
                b'[' => Top::Array,
                _ => Top::Scalar,
            });
        } else if depth == 1 && self.top == Some(Top::Array) && byte != b'{' {
            self.items.push(None);
        }
        if depth == self.message_depth
            && let Some(field) = self.field.take()
        {
            self.pending = Some(Pending {
                field,
                start: at,
                null: byte == b'n',
            });
        }
        Ok(match byte {
            b'{' => {
                self.push(true);
                let batch_item = depth == 1 && self.top == Some(Top::Array);
                if depth == 0 || batch_item {
                    self.message_depth = depth + 1;
                    self.members = Members::default();
                }
                State::FirstKey
            }
            b'[' => {
                self.push(false);
                State::FirstItem
            }
            // A table, not a jump table (see `grammar`).
            _ => SCALAR_START[usize::from(byte)].ok_or(json("expected a value", at))?,
        })
    }

    /// A value ended just before offset `end`: the state after it.
    #[inline]
    fn end_value(&mut self, end: usize) -> State {
        if self.stack.len() == 0 {
            return State::End;
        }
        if self.stack.len() == self.message_depth
            && let Some(pending) = self.pending.take()
        {
            self.members.record(pending, end);
        }
        State::Next
    }

    #[inline]
    fn push(&mut self, object: bool) {
        self.stack.push(object);
        self.in_object = object;
    }

    /// A closing bracket at offset `at`: the state after it.
    #[inline]
    fn close(&mut self, at: usize) -> State {
        let depth = self.stack.len();
        self.stack.pop();
        self.in_object = self.stack.top() == Some(true);
        if depth == self.message_depth {
            self.message_depth = 0;
            let members = std::mem::take(&mut self.members);
            if depth == 2 {
                self.items.push(Some(members));
            } else {
                self.members = members;
            }
        }
        self.end_value(at + 1)
    }

    /// `"name":` right after the `,` at `chunk[i - 1]`, the usual case in compact
    /// JSON, read in one go: the index after the colon.
    #[inline]
    fn member_name(&mut self, chunk: &[u8], i: usize) -> Option<usize> {
        if chunk.get(i) != Some(&b'"') {
            return None;
        }
        let after = short_string(chunk, i + 1).filter(|&after| chunk.get(after) == Some(&b':'))?;
        if self.capturing_key() {
            self.key.clear();
            self.key.push(&chunk[i + 1..after - 1]);
        }
        self.end_key();
        Some(after + 1)
    }

    /// Whether the key being read belongs to the message object.
    #[inline]
    fn capturing_key(&self) -> bool {
        self.message_depth != 0 && self.stack.len() == self.message_depth
    }

    #[inline]
    fn end_key(&mut self) -> State {
        if self.capturing_key() {
            self.field = self.key.field();
        }
        State::Colon
    }

    /// Reads string content from `chunk[i..]`. Returns the index after the
    /// closing quote, or `None` when the chunk ended inside the string.
    fn string(&mut self, chunk: &[u8], i: usize) -> Result<Option<usize>, ScanError> {
        #[cfg(target_arch = "x86_64")]
        if let Some(avx2) = masks::Avx2::detect() {
            // SAFETY: `detect` found AVX2.
            return unsafe { self.string_avx2(avx2, chunk, i) };
        }
        self.string_with(Portable, chunk, i)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn string_avx2(
        &mut self,
        avx2: masks::Avx2,
        chunk: &[u8],
        i: usize,
    ) -> Result<Option<usize>, ScanError> {
        self.string_with(avx2, chunk, i)
    }

    #[inline(always)]
    fn string_with(
        &mut self,
        kernel: impl Kernel,
        chunk: &[u8],
        mut i: usize,
    ) -> Result<Option<usize>, ScanError> {
        loop {
            // An escape cut off by the chunk's end is finished byte by byte.
            match self.escape {
                Escape::None => {}
                Escape::Backslash => {
                    let Some(&byte) = chunk.get(i) else {
                        return Ok(None);
                    };
                    self.escape = match ESCAPES[byte as usize] {
                        SIMPLE => Escape::None,
                        UNICODE => Escape::Hex(4),
                        _ => return Err(json("an invalid escape", self.offset + i)),
                    };
                    i += 1;
                    continue;
                }
                Escape::Hex(left) => {
                    let Some(&byte) = chunk.get(i) else {
                        return Ok(None);
                    };
                    if !byte.is_ascii_hexdigit() {
                        return Err(json("an invalid \\u escape", self.offset + i));
                    }
                    self.escape = if left == 1 {
                        Escape::None
                    } else {
                        Escape::Hex(left - 1)
                    };
                    i += 1;
                    continue;
                }
            }
            if i + BLOCK > chunk.len() {
                // The last bytes of a chunk, one at a time.
                match chunk.get(i) {
                    None => return Ok(None),
                    Some(b'"') => return Ok(Some(i + 1)),
                    Some(b'\\') => self.escape = Escape::Backslash,
                    Some(0..=0x1f) => {
                        return Err(json("a control character in a string", self.offset + i));
                    }
                    Some(_) => {}
                }
                i += 1;
                continue;
            }
            match self.string_block(kernel, chunk, i)? {
                BlockEnd::Closed(after) => return Ok(Some(after)),
                BlockEnd::Open(next) => i = next,
                BlockEnd::Cut => return Ok(None),
            }
        }
    }

    /// One block of string content at `chunk[i..i + BLOCK]`.
    #[inline(always)]
    fn string_block(
        &mut self,
        kernel: impl Kernel,
        chunk: &[u8],
        i: usize,
    ) -> Result<BlockEnd, ScanError> {
        let block: &[u8; BLOCK] = chunk[i..i + BLOCK].try_into().expect("a whole block");
        let masks = kernel.masks(block);
        if masks.quote | masks.backslash | masks.control == 0 {
            return Ok(BlockEnd::Open(i + BLOCK));
        }
        let (escaping, escaped) = escapes(masks.backslash);
        let closing = masks.quote & !escaped;
        // Bits below the closing quote (all of them when the string goes on).
        let inside = match closing.trailing_zeros() {
            64 => u64::MAX,
            end => (1u64 << end) - 1,
        };
        // Escapes before the first control byte are checked first, so the error
        // named is the first in the message wherever the chunks were cut.
        let first_control = (masks.control & inside).trailing_zeros();
        let checked = match first_control {
            64 => inside,
            at => (1u64 << at) - 1,
        };
        let mut next = i + BLOCK;
        let mut backslashes = escaping & checked;
        // The usual case: every escape is a simple one or a `\u` with its four
        // hex digits before the block's end; checked with masks, not escape by
        // escape. The few others (an escape or its digits reaching past the
        // block) go through the loop below.
        if first_control == 64 {
            let classes = kernel.escape_classes(block);
            let escaped = escaped & inside;
            let mut unicode = escaped & classes.unicode & ((1 << 59) - 1);
            let digits = unicode << 1 | unicode << 2 | unicode << 3 | unicode << 4;
            let simple_or_unicode = classes.simple | classes.unicode;
            if unicode != 0 && digits & !(kernel.hex_digits(block) & inside) != 0 {
                unicode = u64::MAX; // a bad digit: found and named below
            }
            if escaped & !simple_or_unicode == 0 && unicode != u64::MAX {
                // Only the escapes whose byte or digits reach past the block.
                let ends_in_block = (escaped & !classes.unicode) >> 1 | unicode >> 1;
                backslashes &= !ends_in_block;
            }
        }
        while backslashes != 0 {
            let at = i + backslashes.trailing_zeros() as usize;
            backslashes &= backslashes - 1;
            // The escaped byte may lie past the block, or past the chunk.
            let Some(&byte) = chunk.get(at + 1) else {
                self.escape = Escape::Backslash;
                return Ok(BlockEnd::Cut);
            };
            match ESCAPES[byte as usize] {
                SIMPLE => next = next.max(at + 2),
                UNICODE => {
                    let digits = &chunk[(at + 2).min(chunk.len())..(at + 6).min(chunk.len())];
                    if let Some(bad) = digits.iter().position(|b| !b.is_ascii_hexdigit()) {
                        return Err(json("an invalid \\u escape", self.offset + at + 2 + bad));
                    }
                    if digits.len() < 4 {
                        self.escape = Escape::Hex((4 - digits.len()) as u8);
                        return Ok(BlockEnd::Cut);
                    }
                    next = next.max(at + 6);
                }
                _ => return Err(json("an invalid escape", self.offset + at + 1)),
            }
        }
        if first_control < 64 {
            let at = i + first_control as usize;
            return Err(json("a control character in a string", self.offset + at));
        }
        Ok(match closing {
            0 => BlockEnd::Open(next),
            _ => BlockEnd::Closed(i + closing.trailing_zeros() as usize + 1),
        })
    }
}

/// Most strings are short (keys, ids, names): the index after the closing quote
/// when it comes within the next 16 plain bytes, before a block's masks are paid for.
#[inline]
fn short_string(chunk: &[u8], i: usize) -> Option<usize> {
    let probe: &[u8; SHORT_STRING] = chunk.get(i..i + SHORT_STRING)?.try_into().ok()?;
    let first = Masks::first_special(probe);
    (probe.get(first) == Some(&b'"')).then_some(i + first + 1)
}

enum BlockEnd {
    /// The string closed; the index after its quote.
    Closed(usize),
    /// The string goes on from this index.
    Open(usize),
    /// The chunk ended inside an escape (kept in `Scanner::escape`).
    Cut,
}

impl Members {
    fn record(&mut self, pending: Pending, end: usize) {
        let bit = 1 << pending.field as u8;
        if self.seen & bit != 0 && self.duplicate.is_none() {
            self.duplicate = Some(pending.field.name());
        }
        self.seen |= bit;
        let present = !pending.null;
        match pending.field {
            Field::Id => self.id = present.then_some(pending.start..end),
            Field::Method => self.method = present,
            Field::Result | Field::Error => self.answer |= present,
        }
    }
}

/// The raw bytes of the key being read, up to [`MAX_KEY`].
#[derive(Debug)]
struct KeyBuffer {
    bytes: [u8; MAX_KEY],
    len: usize,
    too_long: bool,
}

impl Default for KeyBuffer {
    fn default() -> Self {
        Self {
            bytes: [0; MAX_KEY],
            len: 0,
            too_long: false,
        }
    }
}

impl KeyBuffer {
    fn clear(&mut self) {
        self.len = 0;
        self.too_long = false;
    }

    fn push(&mut self, bytes: &[u8]) {
        if self.too_long || self.len + bytes.len() > MAX_KEY {
            self.too_long = true;
            return;
        }
        self.bytes[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    /// The routing member this key names (escapes decoded), if any.
    fn field(&self) -> Option<Field> {
        if self.too_long {
            return None;
        }
        let raw = &self.bytes[..self.len];
        if !raw.contains(&b'\\') {
            return Field::from_key(raw);
        }
        let quoted = [b"\"".as_slice(), raw, b"\""].concat();
        let decoded: String = serde_json::from_slice(&quoted).ok()?;
        Field::from_key(decoded.as_bytes())
    }
}

/// A stack of bits, one per open container; the first 64 without allocating
/// (a message's nesting rarely goes deeper).
#[derive(Debug, Default)]
struct BitStack {
    low: u64,
    high: Vec<u64>,
    len: usize,
}

impl BitStack {
    fn len(&self) -> usize {
        self.len
    }

    fn push(&mut self, bit: bool) {
        let (word, shift) = (self.len / 64, self.len % 64);
        let bits = match word {
            0 => &mut self.low,
            _ => {
                if word > self.high.len() {
                    self.high.push(0);
                }
                &mut self.high[word - 1]
            }
        };
        if bit {
            *bits |= 1 << shift;
        } else {
            *bits &= !(1 << shift);
        }
        self.len += 1;
    }

    fn pop(&mut self) {
        self.len -= 1;
    }

    fn top(&self) -> Option<bool> {
        let last = self.len.checked_sub(1)?;
        let bits = match last / 64 {
            0 => self.low,
            word => self.high[word - 1],
        };
        Some(bits >> (last % 64) & 1 == 1)
    }
}

fn json(what: &'static str, at: usize) -> ScanError {
    ScanError::Json { what, at }
}

/// The length of the UTF-8 sequence that `lead` starts (1 for a stray byte:
/// the decoder reports it).
fn utf8_width(lead: u8) -> usize {
    match lead {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    }
}

/// The state after the first byte of a string, number or literal.
static SCALAR_START: [Option<State>; 256] = {
    let mut table = [None; 256];
    table[b'"' as usize] = Some(State::Str { key: false });
    table[b'-' as usize] = Some(State::Number(Number::Minus));
    table[b'0' as usize] = Some(State::Number(Number::Zero));
    let mut digit = b'1';
    while digit <= b'9' {
        table[digit as usize] = Some(State::Number(Number::Integer));
        digit += 1;
    }
    table[b't' as usize] = Some(State::Literal(Literal::True, 1));
    table[b'f' as usize] = Some(State::Literal(Literal::False, 1));
    table[b'n' as usize] = Some(State::Literal(Literal::Null, 1));
    table
};

const INVALID: u8 = 0;
const SIMPLE: u8 = 1;
const UNICODE: u8 = 2;

/// The bytes that may follow a backslash on their own.
const SIMPLE_ESCAPES: [u8; 8] = *b"\"\\/bfnrt";

/// What may follow a backslash in a JSON string.
static ESCAPES: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut simple: &[u8] = &SIMPLE_ESCAPES;
    while let [first, rest @ ..] = simple {
        table[*first as usize] = SIMPLE;
        simple = rest;
    }
    table[b'u' as usize] = UNICODE;
    table
};

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde::de::IgnoredAny;
    use serde_json::value::RawValue;

    /// serde_json's reading of a message: the reference the scanner must match.
    #[derive(Deserialize)]
    struct Peek<'a> {
        #[serde(borrow)]
        id: Option<&'a RawValue>,
        method: Option<IgnoredAny>,
        result: Option<IgnoredAny>,
        error: Option<IgnoredAny>,
    }

    fn reference(message: &[u8]) -> Option<(Option<String>, bool, bool)> {
        let text = std::str::from_utf8(message).ok()?;
        serde_json::from_str::<IgnoredAny>(text).ok()?;
        let peek: Peek = serde_json::from_str(text).ok()?;
        Some((
            peek.id.map(|id| id.get().to_owned()),
            peek.method.is_some(),
            peek.result.is_some() || peek.error.is_some(),
        ))
    }

    fn ours(message: &[u8]) -> Option<(Option<String>, bool, bool)> {
        match scan(message).ok()?.shape {
            Shape::Message(m) if m.duplicate.is_none() => Some((
                m.id.map(|span| String::from_utf8(message[span].to_vec()).unwrap()),
                m.method,
                m.answer,
            )),
            _ => None,
        }
    }

    /// The same message fed in pieces cut at every `step` bytes.
    fn scan_in_pieces(message: &[u8], step: usize) -> Result<Scanned, ScanError> {
        let mut scanner = Scanner::default();
        for piece in message.chunks(step.max(1)) {
            scanner.feed(piece)?;
        }
        scanner.finish()
    }

    #[test]
    fn routing_members_and_their_spans() {
        let message = br#" {"jsonrpc":"2.0","id" : "a\"b","result":{"id":9,"method":"x"}} "#;
        let scanned = scan(message).unwrap();
        let Shape::Message(members) = &scanned.shape else {
            panic!("{scanned:?}")
        };
        assert_eq!(&message[members.id.clone().unwrap()], br#""a\"b""#);
        assert!(members.answer && !members.method);
        assert!(!scanned.line_breaks);

        let batch = br#"[{"id":1,"result":{}},{"method":"m","id":null},7]"#;
        let Shape::Batch(items) = scan(batch).unwrap().shape else {
            panic!()
        };
        assert_eq!(items.len(), 3);
        let first = items[0].as_ref().unwrap();
        assert_eq!(&batch[first.id.clone().unwrap()], b"1");
        let second = items[1].as_ref().unwrap();
        assert!(second.method && second.id.is_none());
        assert_eq!(items[2], None);

        assert_eq!(scan(b"42").unwrap().shape, Shape::Scalar);
    }

    #[test]
    fn null_members_are_absent_and_escaped_names_count() {
        let Shape::Message(m) = scan(br#"{"\u0069d":5,"method":null,"result":null,"error":{}}"#)
            .unwrap()
            .shape
        else {
            panic!()
        };
        assert_eq!(m.id, Some(11..12));
        assert!(!m.method && m.answer);
        let Shape::Message(m) = scan(br#"{"id":1,"i\u0064":2}"#).unwrap().shape else {
            panic!()
        };
        assert_eq!(m.duplicate, Some("id"));
    }

    #[test]
    fn rejects_what_json_rejects() {
        for bad in [
            &b""[..],
            b"   ",
            b"{",
            b"{\"a\":1,}",
            b"[1,]",
            b"[01]",
            b"[1.]",
            b"[1e]",
            b"[-]",
            b"{\"a\" 1}",
            b"{1:2}",
            b"[\"a\\x\"]",
            b"[\"\\u12g4\"]",
            b"[\"tab\there\"]",
            b"[tru]",
            b"[nul]",
            b"{} {}",
            b"\x0c{}",
            b"[\"\xff\"]",
            b"[\"\xe4\xb8\"]",
            b"]",
            b"[}",
            b"{]",
        ] {
            assert!(scan(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
            assert!(
                serde_json::from_slice::<IgnoredAny>(bad).is_err()
                    || std::str::from_utf8(bad).is_err()
            );
        }
        assert_eq!(scan(b"[\"\xe4\xb8\"]"), Err(ScanError::Utf8(2)));
        assert_eq!(
            scan(b"{\"a\":tru}"),
            Err(ScanError::Json {
                what: "an invalid literal",
                at: 8
            })
        );
    }

    #[test]
    fn deep_nesting_past_the_inline_stack() {
        for depth in [63, 64, 65, 130] {
            let mut message = "[".repeat(depth) + &"{\"a\":".repeat(depth) + "1";
            message += &"}".repeat(depth);
            message += &"]".repeat(depth);
            assert!(scan(message.as_bytes()).is_ok(), "depth {depth}");
            let unbalanced = message.replacen('}', "]", 1);
            assert!(scan(unbalanced.as_bytes()).is_err(), "depth {depth}");
        }
    }

    #[test]
    fn raw_line_breaks_between_tokens_are_reported() {
        assert!(scan(b"{\n\"a\":1}").unwrap().line_breaks);
        assert!(scan(b"{\"a\":1}\r\n").unwrap().line_breaks);
        assert!(!scan(b"{\"a\":\"x\\ny\"}").unwrap().line_breaks);
    }

    #[test]
    fn long_escape_dense_strings_across_blocks_and_chunks() {
        let unit = br#"{\"InstanceId\":\"i-1\",\"Name\":\"\u963f\u91cc\",\"Path\":\"C:\\\\x\"}\n"#;
        let mut message = br#"{"jsonrpc":"2.0","id":3,"result":{"text":""#.to_vec();
        for _ in 0..200 {
            message.extend_from_slice(unit);
        }
        message.extend_from_slice(b"\"}}");
        let whole = scan(&message).unwrap();
        for step in [1, 2, 3, 5, 7, 63, 64, 65, 100, 4096] {
            assert_eq!(
                scan_in_pieces(&message, step).unwrap(),
                whole,
                "step {step}"
            );
        }
        assert_eq!(ours(&message), reference(&message));
        // Any single byte changed to a quote, backslash or control byte: the same verdict as serde.
        for at in (40..message.len() - 3).step_by(7) {
            for byte in [b'"', b'\\', b'\n', b'u', b'x'] {
                let mut changed = message.clone();
                changed[at] = byte;
                assert_eq!(ours(&changed), reference(&changed), "byte {at} = {byte}");
                assert_eq!(
                    scan(&changed).is_ok(),
                    scan_in_pieces(&changed, 64).is_ok(),
                    "byte {at} = {byte}"
                );
            }
        }
    }

    proptest! {
        /// Long strings of escapes (more than a block, so the masks decide), with
        /// at most one bad piece somewhere: the same verdict and members as
        /// serde_json, and the same first bad byte wherever they are cut.
        #[test]
        fn long_strings_agree_with_serde(
            parts in prop::collection::vec(prop::sample::select(vec![
                "a", "é", "阿", " ", "\\\"", "\\\\", "\\n", "\\/", "\\u00e9", "\\uD83D",
                "0123456789", "\\u963f\\u91cc", "\\\\\\\"", "\\b\\f\\r\\t",
            ]), 20..200),
            bad in prop::option::of((any::<prop::sample::Index>(), prop::sample::select(vec![
                "\\x", "\\u12\"", "\\u12", "\\", "\"", "\t", "\u{1}", "\\uZZZZ", "\\\u{1f}",
            ]))),
            step in 1usize..200,
        ) {
            let mut parts = parts;
            if let Some((at, piece)) = bad {
                parts.insert(at.index(parts.len()), piece);
            }
            let text = parts.concat();
            let message = format!(r#"{{"jsonrpc":"2.0","id":"{text}","result":"{text}"}}"#);
            let message = message.as_bytes();
            prop_assert_eq!(ours(message), reference(message));
            if bad.is_none() {
                prop_assert!(scan(message).is_ok());
            }
            prop_assert_eq!(
                scan_in_pieces(message, step).map_err(|err| err.at()),
                scan(message).map_err(|err| err.at())
            );
        }

        /// Random JSON-ish text: the same verdict and members as serde_json, cut
        /// anywhere.
        #[test]
        fn agrees_with_serde(
            parts in prop::collection::vec(prop::sample::select(vec![
                "{", "}", "[", "]", ",", ":", " ", "\n", "\"", "\\", "\\\"", "\\u00e9", "\\uD83D",
                "\\n", "\\x", "id", "\"id\"", "\"method\"", "\"result\"", "\"error\"", "null",
                "true", "fals", "0", "-1.5e+3", "01", "1.", "é", "\u{1F600}", "\t", "\u{1}", "abc",
            ]), 0..40),
            step in 1usize..80,
        ) {
            let text = parts.concat();
            let message = text.as_bytes();
            prop_assert_eq!(ours(message), reference(message));
            let serde_accepts = serde_json::from_slice::<IgnoredAny>(message).is_ok();
            prop_assert_eq!(scan(message).is_ok(), serde_accepts);
            prop_assert_eq!(
                scan_in_pieces(message, step).map_err(|err| err.at()),
                scan(message).map_err(|err| err.at())
            );
        }
    }
}
