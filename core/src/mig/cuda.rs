//! Classifying `CUDA_VISIBLE_DEVICES`.
//!
//! The value is a comma-separated list. Each token, after trimming ASCII
//! white space around it, is one of:
//!
//! * an **index**, `0`, `1`, … (ASCII digits, fitting a `u32`);
//! * `GPU-<uuid>`: a whole GPU;
//! * `MIG-<uuid>`: a MIG instance (the form of driver R470 and later);
//! * `MIG-GPU-<uuid>/<gi>/<ci>`: the legacy MIG form, the parent GPU's UUID
//!   with the GPU-instance and compute-instance ids.
//!
//! A `<uuid>` is NVIDIA's `8-4-4-4-12` form of hexadecimal digits (either
//! case). Like CUDA, a **prefix** of it is accepted after `GPU-` and `MIG-`
//! (`GPU-8932f937`), cut anywhere, as long as what is there has the right
//! shape; [`Uuid::is_complete`] says whether it was whole. CUDA picks the
//! device whose UUID starts with the prefix, so a prefix that fits two
//! devices is ambiguous; that can only be decided against the real device
//! list ([`Uuid::matches`]). The legacy form needs the whole UUID, since
//! `/` follows it. The prefixes `GPU-` and `MIG-` are case-sensitive.
//!
//! CUDA stops at the first token it cannot use and hides every device after
//! it (which is why `CUDA_VISIBLE_DEVICES=-1` hides all GPUs). The iterator
//! here does not stop: it yields an error for that token and goes on, so a
//! checker can report every bad token; a caller that wants CUDA's view
//! takes the tokens up to the first error. An empty (or all-blank) value
//! yields no token; an empty token between commas is an error.

use core::fmt;

/// The length of a whole UUID without its prefix (`8-4-4-4-12`).
pub const UUID_LEN: usize = 36;

/// A UUID, or the prefix of one, without its `GPU-`/`MIG-` prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Uuid<'a> {
    text: &'a str,
}

impl<'a> Uuid<'a> {
    /// Checks the shape of a UUID or of a non-empty prefix of one.
    ///
    /// # Errors
    /// [`DeviceTokenError::EmptyUuid`], `UuidTooLong` (over 36 characters),
    /// `MalformedUuid` with the byte position of the first character that is
    /// not a hex digit where one belongs, or not `-` at positions 8, 13,
    /// 18, 23.
    pub fn parse(text: &'a str) -> Result<Self, DeviceTokenError> {
        if text.is_empty() {
            return Err(DeviceTokenError::EmptyUuid);
        }
        for (position, ch) in text.char_indices() {
            if position >= UUID_LEN {
                return Err(DeviceTokenError::UuidTooLong);
            }
            let ok = if matches!(position, 8 | 13 | 18 | 23) {
                ch == '-'
            } else {
                ch.is_ascii_hexdigit()
            };
            if !ok {
                return Err(DeviceTokenError::MalformedUuid { position });
            }
        }
        Ok(Self { text })
    }

    /// The text as given (without `GPU-`/`MIG-`).
    pub const fn as_str(&self) -> &'a str {
        self.text
    }

    /// Whether this is a whole UUID rather than a prefix.
    pub const fn is_complete(&self) -> bool {
        self.text.len() == UUID_LEN
    }

    /// Whether a device UUID as NVML writes it (`GPU-…` or `MIG-…`, or the
    /// bare hex form) begins with this UUID or prefix, ignoring hex case.
    pub fn matches(&self, device_uuid: &str) -> bool {
        let bare = device_uuid
            .strip_prefix("GPU-")
            .or_else(|| device_uuid.strip_prefix("MIG-"))
            .unwrap_or(device_uuid);
        bare.get(..self.text.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(self.text))
    }
}

impl fmt::Display for Uuid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text)
    }
}

/// One classified token of `CUDA_VISIBLE_DEVICES`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceToken<'a> {
    /// A device index.
    Index(u32),
    /// `GPU-<uuid>`.
    Gpu(Uuid<'a>),
    /// `MIG-<uuid>`.
    Mig(Uuid<'a>),
    /// `MIG-GPU-<uuid>/<gi>/<ci>`.
    LegacyMig {
        /// The parent GPU (always a whole UUID).
        gpu: Uuid<'a>,
        /// GPU-instance id.
        gpu_instance: u32,
        /// Compute-instance id.
        compute_instance: u32,
    },
}

impl DeviceToken<'_> {
    /// Whether the token names a MIG instance (either form).
    pub const fn is_mig(&self) -> bool {
        matches!(self, Self::Mig(_) | Self::LegacyMig { .. })
    }
}

impl fmt::Display for DeviceToken<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Index(i) => write!(f, "{i}"),
            Self::Gpu(u) => write!(f, "GPU-{u}"),
            Self::Mig(u) => write!(f, "MIG-{u}"),
            Self::LegacyMig {
                gpu,
                gpu_instance,
                compute_instance,
            } => write!(f, "MIG-GPU-{gpu}/{gpu_instance}/{compute_instance}"),
        }
    }
}

/// Why a token of `CUDA_VISIBLE_DEVICES` was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceTokenError {
    /// Nothing between two commas (or before/after one).
    EmptyToken,
    /// `-<digits>`: CUDA reads it as invalid and hides this and every later
    /// device (the `-1` idiom).
    NegativeIndex,
    /// An index that does not fit a `u32`.
    IndexOutOfRange,
    /// Starts with a digit but is not all digits (`0x1`, `1a`).
    MalformedIndex,
    /// `GPU-` or `MIG-` with nothing after it.
    EmptyUuid,
    /// A character that cannot be at that place of a UUID.
    MalformedUuid {
        /// Byte position in the UUID text (after `GPU-`/`MIG-`).
        position: usize,
    },
    /// More than 36 characters of UUID.
    UuidTooLong,
    /// The legacy form needs the whole UUID before `/`.
    IncompleteUuid,
    /// `MIG-GPU-<uuid>` without `/<gi>/<ci>`, or with more parts.
    MissingInstanceIds,
    /// `<gi>` or `<ci>` of the legacy form is not a `u32` number.
    MalformedInstanceId,
    /// None of the forms (`abc`, `gpu-…` in lower case).
    Unrecognised,
}

impl fmt::Display for DeviceTokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyToken => f.write_str("empty device token"),
            Self::NegativeIndex => {
                f.write_str("negative index: CUDA hides this and every later device")
            }
            Self::IndexOutOfRange => f.write_str("device index does not fit 32 bits"),
            Self::MalformedIndex => f.write_str("malformed device index"),
            Self::EmptyUuid => f.write_str("UUID missing after 'GPU-' or 'MIG-'"),
            Self::MalformedUuid { position } => {
                write!(f, "malformed UUID at character {position}")
            }
            Self::UuidTooLong => write!(f, "UUID longer than {UUID_LEN} characters"),
            Self::IncompleteUuid => f.write_str("legacy MIG token needs the whole GPU UUID"),
            Self::MissingInstanceIds => {
                f.write_str("legacy MIG token needs exactly '/<gi>/<ci>' after the UUID")
            }
            Self::MalformedInstanceId => f.write_str("malformed GPU or compute instance id"),
            Self::Unrecognised => {
                f.write_str("not an index, GPU-<uuid>, MIG-<uuid> or MIG-GPU-<uuid>/<gi>/<ci>")
            }
        }
    }
}

impl core::error::Error for DeviceTokenError {}

/// Classifies one token (surrounding ASCII white space is ignored).
///
/// # Errors
/// One [`DeviceTokenError`] variant per malformed form.
pub fn classify_token(token: &str) -> Result<DeviceToken<'_>, DeviceTokenError> {
    let t = token.trim_matches(|c: char| c.is_ascii_whitespace());
    if t.is_empty() {
        return Err(DeviceTokenError::EmptyToken);
    }
    if let Some(rest) = t.strip_prefix("MIG-GPU-") {
        let mut parts = rest.split('/');
        let uuid = Uuid::parse(parts.next().unwrap_or(""))?;
        if !uuid.is_complete() {
            return Err(DeviceTokenError::IncompleteUuid);
        }
        let (gi, ci, extra) = (parts.next(), parts.next(), parts.next());
        let (Some(gi), Some(ci), None) = (gi, ci, extra) else {
            return Err(DeviceTokenError::MissingInstanceIds);
        };
        let id = |s: &str| {
            super::profile::parse_decimal(s).map_err(|_| DeviceTokenError::MalformedInstanceId)
        };
        return Ok(DeviceToken::LegacyMig {
            gpu: uuid,
            gpu_instance: id(gi)?,
            compute_instance: id(ci)?,
        });
    }
    if let Some(rest) = t.strip_prefix("MIG-") {
        return Uuid::parse(rest).map(DeviceToken::Mig);
    }
    if let Some(rest) = t.strip_prefix("GPU-") {
        return Uuid::parse(rest).map(DeviceToken::Gpu);
    }
    if let Some(rest) = t.strip_prefix('-') {
        if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DeviceTokenError::NegativeIndex);
        }
        return Err(DeviceTokenError::Unrecognised);
    }
    if t.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return super::profile::parse_decimal(t)
            .map(DeviceToken::Index)
            .map_err(|overflow| {
                if overflow {
                    DeviceTokenError::IndexOutOfRange
                } else {
                    DeviceTokenError::MalformedIndex
                }
            });
    }
    Err(DeviceTokenError::Unrecognised)
}

/// Iterates the tokens of a whole `CUDA_VISIBLE_DEVICES` value, borrowing
/// it; see the [module documentation](self).
pub fn visible_devices(value: &str) -> VisibleDevices<'_> {
    let blank = value.chars().all(|c| c.is_ascii_whitespace());
    VisibleDevices {
        rest: if blank { None } else { Some(value) },
    }
}

/// The iterator of [`visible_devices`]: one `Result` per comma-separated
/// token, in order.
#[derive(Clone, Debug)]
pub struct VisibleDevices<'a> {
    rest: Option<&'a str>,
}

impl<'a> Iterator for VisibleDevices<'a> {
    type Item = Result<DeviceToken<'a>, DeviceTokenError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest?;
        let (token, after) = match rest.split_once(',') {
            Some((token, after)) => (token, Some(after)),
            None => (rest, None),
        };
        self.rest = after;
        Some(classify_token(token))
    }
}

impl core::iter::FusedIterator for VisibleDevices<'_> {}
