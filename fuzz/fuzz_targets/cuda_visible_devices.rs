//! `CUDA_VISIBLE_DEVICES`: the classifier never panics, yields one result
//! per comma-separated token, and every accepted token prints in a form
//! that classifies back to the same token.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wattledger_core::mig::{DeviceToken, classify_token, cuda::UUID_LEN, visible_devices};

fuzz_target!(|data: &[u8]| {
    let value = String::from_utf8_lossy(data);
    let blank = value.chars().all(|c| c.is_ascii_whitespace());
    let expected = if blank { 0 } else { value.split(',').count() };
    let mut seen = 0usize;
    for (result, raw) in visible_devices(&value).zip(value.split(',')) {
        seen += 1;
        // The iterator classifies exactly the comma-separated token.
        assert_eq!(result, classify_token(raw));
        let Ok(token) = result else {
            continue;
        };
        let printed = token.to_string();
        let back = classify_token(&printed)
            .unwrap_or_else(|e| panic!("{token:?} printed as {printed:?} fails: {e}"));
        assert_eq!(back, token, "{raw:?} printed as {printed:?}");
        match token {
            DeviceToken::Index(_) => assert!(!token.is_mig()),
            DeviceToken::Gpu(u) => {
                assert!(!token.is_mig());
                assert!(!u.as_str().is_empty() && u.as_str().len() <= UUID_LEN);
            }
            DeviceToken::Mig(u) => {
                assert!(token.is_mig());
                assert!(!u.as_str().is_empty() && u.as_str().len() <= UUID_LEN);
            }
            DeviceToken::LegacyMig { gpu, .. } => {
                assert!(token.is_mig());
                assert!(gpu.is_complete());
            }
        }
    }
    if !blank {
        assert_eq!(visible_devices(&value).count(), expected);
    }
    assert!(seen <= expected);
});
