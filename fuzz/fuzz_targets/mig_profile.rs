//! MIG profile names: the parser never panics, and whatever it accepts
//! prints canonically and parses back to the same profile.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wattledger_core::mig::{Profile, catalog};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Profile::parse(&text) {
        Ok(p) => {
            let printed = p.to_string();
            let again = Profile::parse(&printed)
                .unwrap_or_else(|e| panic!("canonical form {printed:?} of {text:?} fails: {e}"));
            assert_eq!(again, p, "{text:?} printed as {printed:?}");
            // Canonical printing is a fixed point.
            assert_eq!(again.to_string(), printed);
            assert_eq!(again.compute_slices(), p.compute_slices());
            assert_eq!(again.gpu_slices(), p.gpu_slices());
            assert_eq!(again.memory_gb(), p.memory_gb());
            assert_eq!(again.attributes(), p.attributes());
            assert!(p.attributes().len() <= wattledger_core::mig::profile::MAX_ATTRIBUTES);
            // An accepted profile can be looked up on every catalog GPU.
            for gpu in catalog::gpus() {
                if let Some(m) = gpu.find_profile(&p) {
                    assert!(gpu.is_valid_profile(&p));
                    let _ = m;
                }
            }
        }
        Err(e) => {
            // Every error renders (no panic in Display).
            let _ = e.to_string();
        }
    }
    // GPU lookup by name takes any text.
    let _ = catalog::find_gpu(&text);
});
