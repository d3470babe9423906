//! `CUDA_VISIBLE_DEVICES` classification.

use proptest::prelude::*;
use wattledger_core::mig::cuda::{
    DeviceToken, DeviceTokenError as E, Uuid, classify_token, visible_devices,
};

const U: &str = "8932f937-d72c-4106-c12f-20bd9faed9f6";

#[test]
fn classifies_each_form() {
    assert_eq!(classify_token("0"), Ok(DeviceToken::Index(0)));
    assert_eq!(classify_token(" 12 "), Ok(DeviceToken::Index(12)));
    let gpu = format!("GPU-{U}");
    let Ok(DeviceToken::Gpu(u)) = classify_token(&gpu) else {
        panic!()
    };
    assert!(u.is_complete());
    assert_eq!(u.as_str(), U);
    let mig = format!("MIG-{U}");
    let t = classify_token(&mig).unwrap();
    assert!(t.is_mig());
    assert_eq!(t.to_string(), mig);
    let legacy = format!("MIG-GPU-{U}/3/0");
    let t = classify_token(&legacy).unwrap();
    assert_eq!(
        t,
        DeviceToken::LegacyMig {
            gpu: Uuid::parse(U).unwrap(),
            gpu_instance: 3,
            compute_instance: 0
        }
    );
    assert!(t.is_mig());
    assert_eq!(t.to_string(), legacy);
    // Upper-case hex is a UUID too.
    assert!(classify_token(&format!("GPU-{}", U.to_ascii_uppercase())).is_ok());
}

#[test]
fn prefixes_are_accepted_and_matched() {
    let Ok(DeviceToken::Gpu(u)) = classify_token("GPU-8932f937") else {
        panic!()
    };
    assert!(!u.is_complete());
    assert!(u.matches(&format!("GPU-{U}")));
    assert!(u.matches(&format!("GPU-{}", U.to_ascii_uppercase())));
    assert!(!u.matches("GPU-8932f938-d72c-4106-c12f-20bd9faed9f6"));
    assert!(!u.matches("GPU-8932"));
    // A prefix cut just after a hyphen.
    assert!(classify_token("MIG-8932f937-").is_ok());
}

#[test]
fn malformed_tokens_are_typed_errors() {
    let cases: Vec<(String, E)> = vec![
        ("".into(), E::EmptyToken),
        ("  ".into(), E::EmptyToken),
        ("-1".into(), E::NegativeIndex),
        ("99999999999".into(), E::IndexOutOfRange),
        ("1a".into(), E::MalformedIndex),
        ("0x1".into(), E::MalformedIndex),
        ("GPU-".into(), E::EmptyUuid),
        ("MIG-".into(), E::EmptyUuid),
        ("GPU-8932g937".into(), E::MalformedUuid { position: 4 }),
        ("GPU-8932f9370".into(), E::MalformedUuid { position: 8 }),
        (format!("GPU-{U}0"), E::UuidTooLong),
        ("MIG-GPU-8932f937/1/0".into(), E::IncompleteUuid),
        (format!("MIG-GPU-{U}"), E::MissingInstanceIds),
        (format!("MIG-GPU-{U}/1"), E::MissingInstanceIds),
        (format!("MIG-GPU-{U}/1/0/2"), E::MissingInstanceIds),
        (format!("MIG-GPU-{U}/x/0"), E::MalformedInstanceId),
        (format!("MIG-GPU-{U}/1/"), E::MalformedInstanceId),
        ("gpu-8932f937".into(), E::Unrecognised),
        ("abc".into(), E::Unrecognised),
        ("-".into(), E::Unrecognised),
        ("é".into(), E::Unrecognised),
    ];
    for (token, want) in cases {
        assert_eq!(classify_token(&token), Err(want), "{token:?}");
        assert!(!want.to_string().is_empty());
    }
}

#[test]
fn iterates_a_whole_value() {
    let value = format!("0, GPU-{U},MIG-{U},,bogus,MIG-GPU-{U}/1/0");
    let got: Vec<_> = visible_devices(&value).collect();
    assert_eq!(got.len(), 6);
    assert_eq!(got[0], Ok(DeviceToken::Index(0)));
    assert!(matches!(got[1], Ok(DeviceToken::Gpu(_))));
    assert!(matches!(got[2], Ok(DeviceToken::Mig(_))));
    assert_eq!(got[3], Err(E::EmptyToken));
    assert_eq!(got[4], Err(E::Unrecognised));
    assert!(matches!(
        got[5],
        Ok(DeviceToken::LegacyMig {
            gpu_instance: 1,
            compute_instance: 0,
            ..
        })
    ));
    // CUDA's view: the tokens before the first bad one.
    let usable = visible_devices(&value).take_while(Result::is_ok).count();
    assert_eq!(usable, 3);
    assert_eq!(visible_devices("").count(), 0);
    assert_eq!(visible_devices("  ").count(), 0);
    assert_eq!(
        visible_devices("0,").collect::<Vec<_>>(),
        [Ok(DeviceToken::Index(0)), Err(E::EmptyToken)]
    );
    assert_eq!(
        visible_devices("-1").collect::<Vec<_>>(),
        [Err(E::NegativeIndex)]
    );
}

proptest! {
    #[test]
    fn classifier_never_panics(s in any::<String>()) {
        let n = visible_devices(&s).count();
        // One result per comma-separated token, unless the value is blank.
        if !s.chars().all(|c| c.is_ascii_whitespace()) {
            prop_assert_eq!(n, s.split(',').count());
        }
        let _ = classify_token(&s);
    }

    #[test]
    fn uuids_and_prefixes_classify(hex in "[0-9a-fA-F]{32}", cut in 1usize..=36) {
        let u = format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]);
        let token = format!("GPU-{}", &u[..cut]);
        let Ok(DeviceToken::Gpu(p)) = classify_token(&token) else {
            return Err(TestCaseError::fail(token));
        };
        prop_assert_eq!(p.is_complete(), cut == 36);
        let full = format!("GPU-{u}");
        prop_assert!(p.matches(&full));
    }
}
