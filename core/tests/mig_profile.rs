//! MIG profile grammar: every error, canonical printing, round trips.

use proptest::prelude::*;
use wattledger_core::mig::profile::{
    Attribute, AttributeSign, KnownAttribute, MAX_ATTRIBUTE_LEN, MAX_ATTRIBUTES, Profile,
    ProfileError as E, ProfileField as F,
};

fn p(s: &str) -> Profile {
    Profile::parse(s).unwrap()
}

fn err(s: &str) -> E {
    Profile::parse(s).unwrap_err()
}

#[test]
fn parses_the_fields() {
    let gi = p("3g.40gb");
    assert_eq!(
        (gi.compute_slices(), gi.gpu_slices(), gi.memory_gb()),
        (3, 3, 40)
    );
    assert!(!gi.is_compute_instance());
    assert_eq!(gi.attribute_sign(), None);
    assert!(gi.attributes().is_empty());

    let ci = p("1c.3g.40gb");
    assert_eq!(
        (ci.compute_slices(), ci.gpu_slices(), ci.memory_gb()),
        (1, 3, 40)
    );
    assert!(ci.is_compute_instance());
    assert_eq!(ci.gpu_instance(), gi);

    let me = p("1g.10gb+me");
    assert_eq!(me.attribute_sign(), Some(AttributeSign::Include));
    assert_eq!(me.attributes().len(), 1);
    assert_eq!(
        me.attributes()[0].known(),
        Some(KnownAttribute::MediaExtensions)
    );
    assert!(me.has_attribute("me"));
    assert!(!me.has_attribute("gfx"));

    let all = p("1g.24gb+me.all");
    assert_eq!(all.attributes()[0].as_str(), "me.all");
    assert_eq!(
        all.attributes()[0].known(),
        Some(KnownAttribute::MediaExtensionsAll)
    );

    let neg = p("2g.48gb-me");
    assert_eq!(neg.attribute_sign(), Some(AttributeSign::Exclude));
    assert_eq!(neg.to_string(), "2g.48gb-me");

    let gfx = p("4g.96gb+gfx");
    assert_eq!(gfx.attributes()[0].known(), Some(KnownAttribute::Graphics));
    let other = p("1g.5gb+foo");
    assert_eq!(other.attributes()[0].known(), None);
}

#[test]
fn equality_ignores_spelling() {
    // c == g written out, and leading zeros (Go's Atoi accepts them).
    assert_eq!(p("1c.1g.5gb"), p("1g.5gb"));
    assert_eq!(p("01g.005gb"), p("1g.5gb"));
    // Attribute order is normalised: go-nvlib compares sorted lists.
    assert_eq!(p("1g.5gb+me,gfx"), p("1g.5gb+gfx,me"));
    assert_ne!(p("1g.5gb+me"), p("1g.5gb-me"));
    assert_ne!(p("1g.5gb+me"), p("1g.5gb"));
    assert_ne!(p("1c.2g.10gb"), p("2g.10gb"));
}

#[test]
fn prints_canonically() {
    assert_eq!(p("1c.1g.5gb").to_string(), "1g.5gb");
    assert_eq!(p("1c.3g.40gb").to_string(), "1c.3g.40gb");
    assert_eq!(p("007g.080gb").to_string(), "7g.80gb");
    assert_eq!(p("1g.5gb+me,gfx").to_string(), "1g.5gb+gfx,me");
    assert_eq!(p("1g.5gb-b,a").to_string(), "1g.5gb-a,b");
    assert_eq!(p("1c.1g.24gb+me.all").to_string(), "1g.24gb+me.all");
}

#[test]
fn grammar_errors_each_have_their_variant() {
    let cases: &[(&str, E)] = &[
        ("", E::Empty),
        ("1g.5gb+me-x", E::BothSigns),
        ("1g.5gb-me+x", E::BothSigns),
        (" 1g.5gb", E::SurroundingSpace { field: F::Gpu }),
        ("1g.5gb ", E::SurroundingSpace { field: F::Memory }),
        (" 1c.1g.5gb", E::SurroundingSpace { field: F::Compute }),
        ("1g.\u{3000}5gb", E::SurroundingSpace { field: F::Memory }),
        ("1g.5gb +me", E::SurroundingSpace { field: F::Memory }),
        ("1.5gb", E::MissingSuffix { field: F::Gpu }),
        ("1g.5", E::MissingSuffix { field: F::Memory }),
        ("1g.5g", E::MissingSuffix { field: F::Memory }),
        ("1x.1g.5gb", E::MissingSuffix { field: F::Compute }),
        ("1c.1.5gb", E::MissingSuffix { field: F::Gpu }),
        ("xg.5gb", E::MalformedNumber { field: F::Gpu }),
        ("g.5gb", E::MalformedNumber { field: F::Gpu }),
        ("1g.gb", E::MalformedNumber { field: F::Memory }),
        ("1 g.5gb", E::MalformedNumber { field: F::Gpu }),
        ("c.1g.5gb", E::MalformedNumber { field: F::Compute }),
        ("\u{0663}g.5gb", E::MalformedNumber { field: F::Gpu }),
        ("4294967296g.5gb", E::NumberOutOfRange { field: F::Gpu }),
        ("1g.99999999999gb", E::NumberOutOfRange { field: F::Memory }),
        ("1c.1g.5gb.1x", E::WrongFieldCount { found: 4 }),
        ("1g", E::WrongFieldCount { found: 1 }),
        ("1g5gb", E::WrongFieldCount { found: 1 }),
        ("-1g.5gb", E::WrongFieldCount { found: 1 }),
        ("1g.5gb+me,me", E::DuplicateAttribute),
        ("1g.5gb+me,gfx,me", E::DuplicateAttribute),
        ("1g.5gb+", E::EmptyAttribute),
        ("1g.5gb-", E::EmptyAttribute),
        ("1g.5gb+me,", E::EmptyAttribute),
        ("1g.5gb+,me", E::EmptyAttribute),
        ("1g.5gb+ me", E::AttributeSurroundingSpace),
        ("1g.5gb+me ", E::AttributeSurroundingSpace),
        ("1g.5gb+1me", E::AttributeStartsWithDigit),
        ("1g.5gb+.me", E::AttributeDotAtEdge),
        ("1g.5gb+me.", E::AttributeDotAtEdge),
        ("1g.5gb+m_e", E::AttributeInvalidChar { ch: '_' }),
        ("1g.5gb+mé", E::AttributeInvalidChar { ch: 'é' }),
        ("1g.5gb+me+gfx", E::AttributeInvalidChar { ch: '+' }),
        ("1g.5gb+a,b,c,d,e", E::TooManyAttributes),
        ("1g.5gb+abcdefghijklmnop", E::AttributeTooLong),
    ];
    for (text, want) in cases {
        assert_eq!(Profile::parse(text), Err(*want), "input {text:?}");
        // Every error renders a message.
        assert!(!want.to_string().is_empty());
    }
    // The limits are what the constants say: 4 attributes and 15 bytes fit.
    assert_eq!(MAX_ATTRIBUTES, 4);
    assert_eq!(MAX_ATTRIBUTE_LEN, 15);
    assert!(Profile::parse("1g.5gb+a,b,c,d").is_ok());
    assert!(Profile::parse("1g.5gb+abcdefghijklmno").is_ok());
    assert_eq!(
        err("1g.5gb+abcdefghijklmno,abcdefghijklmnop"),
        E::AttributeTooLong
    );
}

#[test]
fn accepts_what_go_nvlib_accepts() {
    // Zero and c > g are well formed for the grammar (the catalog rejects
    // them), as in go-nvlib.
    assert_eq!(p("0g.0gb").to_string(), "0g.0gb");
    assert_eq!(p("5c.2g.1gb").to_string(), "5c.2g.1gb");
    assert_eq!(p("4294967295g.1gb").gpu_slices(), u32::MAX);
    // Upper-case letters and digits inside attributes.
    assert_eq!(p("1g.5gb+ME2.x").attributes()[0].as_str(), "ME2.x");
}

#[test]
fn with_attributes_validates_like_parse() {
    let base = Profile::new(1, 1, 10);
    let built = base
        .with_attributes(AttributeSign::Include, &["me", "gfx"])
        .unwrap();
    assert_eq!(built, p("1g.10gb+gfx,me"));
    assert_eq!(
        base.with_attributes(AttributeSign::Include, &[]),
        Err(E::EmptyAttribute)
    );
    assert_eq!(
        base.with_attributes(AttributeSign::Exclude, &["me", "me"]),
        Err(E::DuplicateAttribute)
    );
    assert_eq!(Attribute::new("9x"), Err(E::AttributeStartsWithDigit));
}

#[test]
fn ordering_puts_smaller_instances_first() {
    let mut v = [
        p("7g.80gb"),
        p("1g.10gb+me"),
        p("1c.3g.40gb"),
        p("1g.10gb"),
        p("3g.40gb"),
    ];
    v.sort();
    let names: Vec<String> = v.iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        ["1g.10gb", "1g.10gb+me", "1c.3g.40gb", "3g.40gb", "7g.80gb"]
    );
}

fn attr() -> impl Strategy<Value = String> {
    "[a-zA-Z][a-zA-Z0-9]{0,5}(\\.[a-zA-Z0-9]{1,4})?"
}

fn valid_profile() -> impl Strategy<Value = Profile> {
    (
        0u32..=u32::MAX,
        0u32..=u32::MAX,
        0u32..=u32::MAX,
        proptest::option::of((
            any::<bool>(),
            proptest::collection::btree_set(attr(), 1..=MAX_ATTRIBUTES),
        )),
        any::<bool>(),
    )
        .prop_map(|(c, g, m, attrs, same)| {
            let base = Profile::new(if same { g } else { c }, g, m);
            match attrs {
                None => base,
                Some((plus, set)) => {
                    let list: Vec<&str> = set.iter().map(String::as_str).collect();
                    let sign = if plus {
                        AttributeSign::Include
                    } else {
                        AttributeSign::Exclude
                    };
                    base.with_attributes(sign, &list).unwrap()
                }
            }
        })
}

proptest! {
    #[test]
    fn print_then_parse_is_identity(profile in valid_profile()) {
        let text = profile.to_string();
        prop_assert_eq!(Profile::parse(&text), Ok(profile));
        // Printing is canonical: a second round prints the same text.
        prop_assert_eq!(Profile::parse(&text).unwrap().to_string(), text);
    }

    #[test]
    fn parser_never_panics(s in any::<String>()) {
        let _ = Profile::parse(&s);
    }

    #[test]
    fn parser_never_panics_on_near_profiles(s in "[0-9cgb.+,\\- a-zé]{0,24}") {
        if let Ok(profile) = Profile::parse(&s) {
            // Whatever parses prints to something that parses to it.
            prop_assert_eq!(Profile::parse(&profile.to_string()), Ok(profile));
        }
    }
}
