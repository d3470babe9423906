//! MIG profile names: `[<c>c.]<g>g.<mem>gb[+attr[,attr]|-attr[,attr]]`.
//!
//! The accepted language is the one of NVIDIA's go-nvlib
//! (`pkg/nvlib/device/mig_profile.go`), so a name that `nvidia-smi`, the GPU
//! operator or mig-parted accepts is accepted here, and the other way round:
//!
//! * the empty string is rejected;
//! * a name holding both a `+` and a `-` is rejected; otherwise the name is
//!   split at its first `+` (or, if there is none, its first `-`) into the
//!   *fields* and the *attribute list*;
//! * the fields are two (`<g>g.<mem>gb`, meaning `c == g`) or three
//!   (`<c>c.<g>g.<mem>gb`) dot-separated parts; each part may not have
//!   leading or trailing white space, must end in its suffix (`c`, `g`,
//!   `gb`) and must hold a decimal number before it (ASCII digits; leading
//!   zeros are allowed, as Go's `strconv.Atoi` allows them);
//! * the attribute list is split at commas; each attribute must be unique,
//!   non-empty, without surrounding white space, must not begin with a digit
//!   nor begin or end with a dot, and may hold only ASCII letters, digits and
//!   dots (`me`, `me.all`, `gfx`).
//!
//! Where this parser differs from go-nvlib, it differs only in *which* error
//! is reported, never in whether a name is accepted, with two exceptions
//! forced by fixed-size storage: numbers must fit a `u32` (go-nvlib: a
//! 64-bit `int`), and at most [`MAX_ATTRIBUTES`] attributes of at most
//! [`MAX_ATTRIBUTE_LEN`] bytes are kept (more is an error, never a silent
//! truncation). The error differences: go-nvlib splits the fields with
//! `SplitN(".", 3)`, so `1g.5gb.x` is reported there as "missing `c`"; here
//! any count of fields other than two or three is
//! [`ProfileError::WrongFieldCount`].
//!
//! **Attribute order is normalised.** go-nvlib keeps the attributes in the
//! order written when printing, but compares two profiles with the attribute
//! lists sorted (`Matches`). Here the attributes are sorted (byte order) when
//! parsed, so the derived equality is go-nvlib's `Matches` and printing is
//! canonical: `parse("1g.5gb+me,gfx")` prints as `1g.5gb+gfx,me`.
//!
//! The grammar alone does not say whether a profile exists on any GPU
//! (`0g.0gb` and `5c.2g.1gb` are well formed); ask the catalog
//! ([`crate::mig::catalog`]) for that.

use core::cmp::Ordering;
use core::fmt;
use core::str::FromStr;

/// The most attributes a [`Profile`] holds. NVIDIA's profiles carry at most
/// one today (`+me`, `+me.all`, `+gfx`, `-me`); four leaves room for
/// combinations without making the `Copy` value large.
pub const MAX_ATTRIBUTES: usize = 4;

/// The longest attribute, in bytes (`me.all` has 6).
pub const MAX_ATTRIBUTE_LEN: usize = 15;

/// Which numeric field of a profile name an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProfileField {
    /// The compute-instance slice count, `<c>c`.
    Compute,
    /// The GPU-instance slice count, `<g>g`.
    Gpu,
    /// The memory size, `<mem>gb`.
    Memory,
}

impl ProfileField {
    /// The suffix that ends this field in a profile name: `c`, `g` or `gb`.
    pub const fn suffix(self) -> &'static str {
        match self {
            Self::Compute => "c",
            Self::Gpu => "g",
            Self::Memory => "gb",
        }
    }
}

/// Why a profile name was rejected. Every malformed form has its own variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProfileError {
    /// The name is the empty string.
    Empty,
    /// The name holds both a `+` and a `-`: attributes are either all
    /// included or all excluded.
    BothSigns,
    /// A field has leading or trailing white space (`" 1g.5gb"`).
    SurroundingSpace {
        /// The field.
        field: ProfileField,
    },
    /// A field does not end in its suffix (`1.5gb` lacks the `g`).
    MissingSuffix {
        /// The field whose suffix is missing.
        field: ProfileField,
    },
    /// The text before a suffix is not a decimal number (`xg.5gb`, `g.5gb`).
    MalformedNumber {
        /// The field.
        field: ProfileField,
    },
    /// A number does not fit a `u32`.
    NumberOutOfRange {
        /// The field.
        field: ProfileField,
    },
    /// The fields are not two or three dot-separated parts.
    WrongFieldCount {
        /// How many parts there were.
        found: usize,
    },
    /// An attribute appears twice (`+me,me`).
    DuplicateAttribute,
    /// An attribute is empty (`1g.5gb+`, `+me,`).
    EmptyAttribute,
    /// An attribute has leading or trailing white space.
    AttributeSurroundingSpace,
    /// An attribute begins with a digit (`+1me`).
    AttributeStartsWithDigit,
    /// An attribute begins or ends with a dot (`+.me`, `+me.`).
    AttributeDotAtEdge,
    /// An attribute holds a character other than an ASCII letter, digit or
    /// dot.
    AttributeInvalidChar {
        /// The first offending character.
        ch: char,
    },
    /// More than [`MAX_ATTRIBUTES`] attributes.
    TooManyAttributes,
    /// An attribute longer than [`MAX_ATTRIBUTE_LEN`] bytes.
    AttributeTooLong,
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("profile is the empty string"),
            Self::BothSigns => f.write_str("profile holds both '+' and '-' attributes"),
            Self::SurroundingSpace { field } => {
                write!(f, "leading or trailing space on '<n>{}'", field.suffix())
            }
            Self::MissingSuffix { field } => {
                write!(f, "missing '{0}' in '<n>{0}'", field.suffix())
            }
            Self::MalformedNumber { field } => {
                write!(f, "malformed number in '<n>{}'", field.suffix())
            }
            Self::NumberOutOfRange { field } => {
                write!(f, "number in '<n>{}' does not fit 32 bits", field.suffix())
            }
            Self::WrongFieldCount { found } => {
                write!(f, "{found} dot-separated field(s), expected 2 or 3")
            }
            Self::DuplicateAttribute => f.write_str("attribute appears twice"),
            Self::EmptyAttribute => f.write_str("empty attribute"),
            Self::AttributeSurroundingSpace => {
                f.write_str("leading or trailing space in attribute")
            }
            Self::AttributeStartsWithDigit => f.write_str("attribute begins with a digit"),
            Self::AttributeDotAtEdge => f.write_str("attribute begins or ends with a dot"),
            Self::AttributeInvalidChar { ch } => {
                write!(
                    f,
                    "character {ch:?} in attribute is not a letter, digit or dot"
                )
            }
            Self::TooManyAttributes => {
                write!(f, "more than {MAX_ATTRIBUTES} attributes")
            }
            Self::AttributeTooLong => {
                write!(f, "attribute longer than {MAX_ATTRIBUTE_LEN} bytes")
            }
        }
    }
}

impl core::error::Error for ProfileError {}

/// Whether a profile's attributes are required (`+`) or excluded (`-`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AttributeSign {
    /// `+attr`: the instance has these engines/features.
    Include,
    /// `-attr`: the instance explicitly lacks them (`-me`, Blackwell).
    Exclude,
}

impl AttributeSign {
    /// The sign character, `+` or `-`.
    pub const fn as_char(self) -> char {
        match self {
            Self::Include => '+',
            Self::Exclude => '-',
        }
    }
}

/// The attributes NVIDIA uses today, for callers that want to match on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KnownAttribute {
    /// `me`: one media-extension engine set (NVDEC/NVJPG/OFA).
    MediaExtensions,
    /// `me.all`: all media engines of the GPU.
    MediaExtensionsAll,
    /// `gfx`: graphics engines (Blackwell workstation parts).
    Graphics,
}

impl KnownAttribute {
    /// The attribute as written in a profile name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MediaExtensions => "me",
            Self::MediaExtensionsAll => "me.all",
            Self::Graphics => "gfx",
        }
    }
}

/// One attribute of a profile, stored inline (no allocation, `Copy`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Attribute {
    len: u8,
    bytes: [u8; MAX_ATTRIBUTE_LEN],
}

impl Attribute {
    const EMPTY: Self = Self {
        len: 0,
        bytes: [0; MAX_ATTRIBUTE_LEN],
    };

    /// Checks one attribute by go-nvlib's rules and stores it.
    ///
    /// # Errors
    /// [`ProfileError::EmptyAttribute`], `AttributeSurroundingSpace`,
    /// `AttributeStartsWithDigit`, `AttributeDotAtEdge`,
    /// `AttributeInvalidChar` (in that order of checking), and
    /// `AttributeTooLong` for a valid attribute over [`MAX_ATTRIBUTE_LEN`].
    pub fn new(text: &str) -> Result<Self, ProfileError> {
        if text.is_empty() {
            return Err(ProfileError::EmptyAttribute);
        }
        if text.trim() != text {
            return Err(ProfileError::AttributeSurroundingSpace);
        }
        let raw = text.as_bytes();
        if raw.first().is_some_and(u8::is_ascii_digit) {
            return Err(ProfileError::AttributeStartsWithDigit);
        }
        if raw.first() == Some(&b'.') || raw.last() == Some(&b'.') {
            return Err(ProfileError::AttributeDotAtEdge);
        }
        if let Some(ch) = text
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '.'))
        {
            return Err(ProfileError::AttributeInvalidChar { ch });
        }
        let mut out = Self::EMPTY;
        let len = u8::try_from(raw.len()).map_err(|_| ProfileError::AttributeTooLong)?;
        let slot = out
            .bytes
            .get_mut(..raw.len())
            .ok_or(ProfileError::AttributeTooLong)?;
        slot.copy_from_slice(raw);
        out.len = len;
        Ok(out)
    }

    /// The attribute text (ASCII letters, digits and inner dots).
    pub fn as_str(&self) -> &str {
        let used = self.bytes.get(..usize::from(self.len)).unwrap_or(&[]);
        // Only ASCII is ever stored, so this cannot fail; "" is unreachable.
        core::str::from_utf8(used).unwrap_or("")
    }

    /// The attribute as one of NVIDIA's known ones, if it is one.
    pub fn known(&self) -> Option<KnownAttribute> {
        match self.as_str() {
            "me" => Some(KnownAttribute::MediaExtensions),
            "me.all" => Some(KnownAttribute::MediaExtensionsAll),
            "gfx" => Some(KnownAttribute::Graphics),
            _ => None,
        }
    }
}

impl PartialOrd for Attribute {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Attribute {
    /// Byte order of the text (`gfx` < `me` < `me.all`).
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl fmt::Debug for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed MIG profile: a fixed-size `Copy` value, no allocation.
///
/// Equality ignores how the name was spelled: `1c.1g.5gb` equals `1g.5gb`,
/// `01g.5gb` equals `1g.5gb`, `+me,gfx` equals `+gfx,me`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Profile {
    compute: u32,
    gpu: u32,
    memory_gb: u32,
    sign: Option<AttributeSign>,
    count: u8,
    // Sorted; slots at `count..` are always `Attribute::EMPTY`, so the
    // derived equality is equality of the attribute sets.
    attrs: [Attribute; MAX_ATTRIBUTES],
}

impl Profile {
    /// A profile without attributes. `compute == gpu` is a GPU-instance
    /// profile (`3g.40gb`); `compute < gpu` a compute-instance profile
    /// (`1c.3g.40gb`). No value is refused: the grammar does not refuse any.
    pub const fn new(compute: u32, gpu: u32, memory_gb: u32) -> Self {
        Self {
            compute,
            gpu,
            memory_gb,
            sign: None,
            count: 0,
            attrs: [Attribute::EMPTY; MAX_ATTRIBUTES],
        }
    }

    /// This profile with the given attributes (replacing any it had),
    /// validated and sorted as the parser does.
    ///
    /// # Errors
    /// Any attribute error of [`Attribute::new`], `DuplicateAttribute`,
    /// `TooManyAttributes`, and `EmptyAttribute` for an empty list. `self`
    /// is not changed (it is taken by value).
    pub fn with_attributes(
        self,
        sign: AttributeSign,
        attributes: &[&str],
    ) -> Result<Self, ProfileError> {
        let mut out = Self::new(self.compute, self.gpu, self.memory_gb);
        if attributes.is_empty() {
            return Err(ProfileError::EmptyAttribute);
        }
        for text in attributes {
            out.push_attribute(text)?;
        }
        out.sign = Some(sign);
        Ok(out)
    }

    /// Parses a profile name; see the [module documentation](self) for the
    /// grammar.
    ///
    /// # Errors
    /// One [`ProfileError`] variant for each kind of malformed name.
    pub fn parse(text: &str) -> Result<Self, ProfileError> {
        if text.is_empty() {
            return Err(ProfileError::Empty);
        }
        let plus = text.find('+');
        let minus = text.find('-');
        let (fields, attrs) = match (plus, minus) {
            (Some(_), Some(_)) => return Err(ProfileError::BothSigns),
            (Some(at), None) => (
                text.get(..at).unwrap_or(""),
                Some((AttributeSign::Include, text.get(at + 1..).unwrap_or(""))),
            ),
            (None, Some(at)) => (
                text.get(..at).unwrap_or(""),
                Some((AttributeSign::Exclude, text.get(at + 1..).unwrap_or(""))),
            ),
            (None, None) => (text, None),
        };
        let (compute, gpu, memory_gb) = parse_fields(fields)?;
        let mut out = Self::new(compute, gpu, memory_gb);
        if let Some((sign, list)) = attrs {
            for item in list.split(',') {
                out.push_attribute(item)?;
            }
            out.sign = Some(sign);
        }
        Ok(out)
    }

    fn push_attribute(&mut self, text: &str) -> Result<(), ProfileError> {
        // go-nvlib checks uniqueness before the other rules.
        if self.attributes().iter().any(|a| a.as_str() == text) {
            return Err(ProfileError::DuplicateAttribute);
        }
        let attr = Attribute::new(text)?;
        let count = usize::from(self.count);
        if count >= MAX_ATTRIBUTES {
            return Err(ProfileError::TooManyAttributes);
        }
        // Insert keeping byte order.
        let at = self
            .attributes()
            .iter()
            .position(|a| *a > attr)
            .unwrap_or(count);
        if let Some(tail) = self.attrs.get_mut(at..=count) {
            tail.rotate_right(1);
            if let Some(first) = tail.first_mut() {
                *first = attr;
            }
        }
        self.count = self.count.saturating_add(1);
        Ok(())
    }

    /// Compute slices `c` (equal to [`Self::gpu_slices`] when the name had no
    /// `<c>c.` part).
    pub const fn compute_slices(&self) -> u32 {
        self.compute
    }

    /// GPU-instance slices `g`.
    pub const fn gpu_slices(&self) -> u32 {
        self.gpu
    }

    /// Memory in GB, as written in the name.
    pub const fn memory_gb(&self) -> u32 {
        self.memory_gb
    }

    /// `+` or `-`, or `None` without attributes.
    pub const fn attribute_sign(&self) -> Option<AttributeSign> {
        self.sign
    }

    /// The attributes, sorted by byte order.
    pub fn attributes(&self) -> &[Attribute] {
        self.attrs.get(..usize::from(self.count)).unwrap_or(&[])
    }

    /// Whether the attribute is listed (with either sign).
    pub fn has_attribute(&self, name: &str) -> bool {
        self.attributes().iter().any(|a| a.as_str() == name)
    }

    /// Whether this names a compute instance inside a larger GPU instance
    /// (`c != g`, e.g. `1c.3g.40gb`).
    pub const fn is_compute_instance(&self) -> bool {
        self.compute != self.gpu
    }

    /// The GPU-instance profile this profile lives in: the same value with
    /// `c = g` (`1c.3g.40gb+me` → `3g.40gb+me`).
    pub const fn gpu_instance(&self) -> Self {
        let mut out = *self;
        out.compute = out.gpu;
        out
    }
}

impl PartialOrd for Profile {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Profile {
    /// Smaller instances first: by `g`, then `c`, memory, sign (none, `+`,
    /// `-`) and attributes.
    fn cmp(&self, other: &Self) -> Ordering {
        (self.gpu, self.compute, self.memory_gb, self.sign)
            .cmp(&(other.gpu, other.compute, other.memory_gb, other.sign))
            .then_with(|| self.attributes().cmp(other.attributes()))
    }
}

impl FromStr for Profile {
    type Err = ProfileError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Profile {
    /// Canonical form: `<g>g.<mem>gb` when `c == g`, else
    /// `<c>c.<g>g.<mem>gb`, then `+a,b` or `-a` with the sorted attributes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.compute != self.gpu {
            write!(f, "{}c.", self.compute)?;
        }
        write!(f, "{}g.{}gb", self.gpu, self.memory_gb)?;
        if let Some(sign) = self.sign {
            let mut sep = sign.as_char();
            for attr in self.attributes() {
                write!(f, "{sep}{attr}")?;
                sep = ',';
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Profile({self})")
    }
}

fn parse_fields(s: &str) -> Result<(u32, u32, u32), ProfileError> {
    let mut parts = s.split('.');
    let (a, b, c, extra) = (parts.next(), parts.next(), parts.next(), parts.next());
    match (a, b, c, extra) {
        (Some(c_part), Some(g_part), Some(m_part), None) => {
            let c = parse_field(c_part, ProfileField::Compute)?;
            let g = parse_field(g_part, ProfileField::Gpu)?;
            let m = parse_field(m_part, ProfileField::Memory)?;
            Ok((c, g, m))
        }
        (Some(g_part), Some(m_part), None, None) => {
            let g = parse_field(g_part, ProfileField::Gpu)?;
            let m = parse_field(m_part, ProfileField::Memory)?;
            Ok((g, g, m))
        }
        _ => Err(ProfileError::WrongFieldCount {
            found: s.split('.').count(),
        }),
    }
}

fn parse_field(s: &str, field: ProfileField) -> Result<u32, ProfileError> {
    if s.trim() != s {
        return Err(ProfileError::SurroundingSpace { field });
    }
    let digits = s
        .strip_suffix(field.suffix())
        .ok_or(ProfileError::MissingSuffix { field })?;
    parse_decimal(digits).map_err(|overflow| {
        if overflow {
            ProfileError::NumberOutOfRange { field }
        } else {
            ProfileError::MalformedNumber { field }
        }
    })
}

/// ASCII decimal digits into a `u32`; `Err(true)` on overflow, `Err(false)`
/// when empty or not all digits.
pub(crate) fn parse_decimal(digits: &str) -> Result<u32, bool> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(false);
    }
    digits.bytes().try_fold(0u32, |acc, b| {
        acc.checked_mul(10)
            .and_then(|v| v.checked_add(u32::from(b - b'0')))
            .ok_or(true)
    })
}
