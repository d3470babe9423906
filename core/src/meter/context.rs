//! The MIG context a meter carries into every report.

// `heapless::String` is used under another name: cbindgen reads this crate
// for the structs the C header shares, and takes any `String` for Rust's.
use heapless::String as Text;

use super::MeterError;

/// Longest device or parent UUID a [`MigContext`] holds, in bytes.
///
/// A MIG UUID is `MIG-` plus 36 characters; the legacy form
/// `MIG-GPU-<uuid>/<gi>/<ci>` is about 50. 64 leaves room for both.
pub const UUID_CAPACITY: usize = 64;

/// Longest MIG profile name a [`MigContext`] holds, in bytes
/// (`1c.7g.80gb+me.all` is 17).
pub const PROFILE_CAPACITY: usize = 32;

/// Which text field of a [`MigContext`] was too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum MigField {
    /// The measured device's UUID.
    DeviceUuid,
    /// The physical parent GPU's UUID.
    ParentUuid,
    /// The MIG profile name.
    Profile,
}

/// Where a meter's numbers come from, as far as MIG is concerned.
///
/// NVML reports power and energy only for a whole physical GPU. When the
/// measured device is a MIG instance, every joule in a report is the
/// *parent's* total, shared by all instances on it. The adapter knows this
/// when it builds the meter, attaches it here, and the meter copies it into
/// each [`WindowReport`](super::WindowReport) so that later rules (the `mig`
/// module) can warn about double counting without asking the adapter again.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MigContext {
    /// Whether the measured device is a MIG instance rather than a whole GPU.
    pub is_mig: bool,
    /// UUID of the measured device (`GPU-…` or `MIG-…`); empty when unknown.
    pub device_uuid: Text<UUID_CAPACITY>,
    /// UUID of the physical parent GPU (for a whole GPU, its own UUID); empty when unknown.
    pub parent_uuid: Text<UUID_CAPACITY>,
    /// MIG profile name such as `3g.40gb`; empty for a whole GPU or when unknown.
    pub profile: Text<PROFILE_CAPACITY>,
}

fn bounded<const N: usize>(text: &str, field: MigField) -> Result<Text<N>, MeterError> {
    let mut out = Text::new();
    out.push_str(text).map_err(|_| MeterError::MigTextTooLong {
        field,
        len: text.len(),
        max: N,
    })?;
    Ok(out)
}

impl MigContext {
    /// A context for a whole (non-MIG) GPU, or any device with its own power reading.
    ///
    /// The parent UUID is the device's own.
    ///
    /// # Errors
    /// [`MeterError::MigTextTooLong`] when `uuid` is longer than [`UUID_CAPACITY`] bytes.
    pub fn whole_gpu(uuid: &str) -> Result<Self, MeterError> {
        Ok(MigContext {
            is_mig: false,
            device_uuid: bounded(uuid, MigField::DeviceUuid)?,
            parent_uuid: bounded(uuid, MigField::ParentUuid)?,
            profile: Text::new(),
        })
    }

    /// A context for a MIG instance `uuid` on the physical GPU `parent_uuid`.
    ///
    /// `profile` may be empty when it could not be determined.
    ///
    /// # Errors
    /// [`MeterError::MigTextTooLong`] naming the first field that does not fit:
    /// a UUID longer than [`UUID_CAPACITY`] or a profile longer than
    /// [`PROFILE_CAPACITY`] bytes.
    pub fn instance(uuid: &str, parent_uuid: &str, profile: &str) -> Result<Self, MeterError> {
        Ok(MigContext {
            is_mig: true,
            device_uuid: bounded(uuid, MigField::DeviceUuid)?,
            parent_uuid: bounded(parent_uuid, MigField::ParentUuid)?,
            profile: bounded(profile, MigField::Profile)?,
        })
    }

    /// Whether the energy measured through this device is the parent GPU's
    /// whole energy (true exactly for MIG instances), so that adding the
    /// figures of several instances of one parent counts it more than once.
    pub fn energy_is_parent_total(&self) -> bool {
        self.is_mig
    }
}
