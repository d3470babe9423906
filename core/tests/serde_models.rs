//! Serde: hardware models, subgraphs and reports round-trip through JSON, and
//! deserializing a hardware model checks it like `HardwareModel::new`.
#![cfg(feature = "serde")]

use wattledger_core::compose::{Composer, GatingPolicy, ModelReport, Subgraph};
use wattledger_core::hardware::{HardwareError, HardwareField, HardwareModel};
use wattledger_core::presets::Preset;
use wattledger_core::scenario::RESNET18_H100;

#[test]
fn hardware_models_round_trip_and_are_checked() {
    for p in Preset::ALL {
        let m = p.model();
        let json = serde_json::to_string(&m).unwrap();
        let back: HardwareModel = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m, "{}", p.name());
    }
    // A negative idle power is refused on the way in, with the model's own error.
    let mut v: serde_json::Value = serde_json::to_value(Preset::H100Sxm5.model()).unwrap();
    v["idle_power_w"] = serde_json::json!(-3.0);
    let err = serde_json::from_value::<HardwareModel>(v)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&HardwareError::Negative(HardwareField::IdlePower).to_string()),
        "{err}"
    );
}

#[test]
fn model_files_without_active_power_still_load() {
    // A model file written before `active_power_w` existed: drop the key and
    // it must load, with 0 W (the dynamic term it never had).
    let mut v: serde_json::Value = serde_json::to_value(Preset::A100_40gb.model()).unwrap();
    assert_eq!(v["active_power_w"], serde_json::json!(350.0));
    v.as_object_mut().unwrap().remove("active_power_w");
    let m: HardwareModel = serde_json::from_value(v).unwrap();
    assert_eq!(m.spec().active_power_w, 0.0);
    assert_eq!(m.spec().idle_power_w, 30.0);
}

#[test]
fn subgraphs_and_reports_round_trip() {
    let s = RESNET18_H100[6];
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.contains("\"precision\":\"fp16\""), "{json}");
    assert_eq!(serde_json::from_str::<Subgraph>(&json).unwrap(), s);
    let mut c: Composer = Composer::new(Preset::H100Sxm5.model(), GatingPolicy::BreakEven).unwrap();
    for s in &RESNET18_H100 {
        c.push(s, &mut ()).unwrap();
    }
    let r = c.finish(&mut ()).unwrap();
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.contains("\"policy\":\"break-even\""), "{json}");
    assert_eq!(serde_json::from_str::<ModelReport>(&json).unwrap(), r);
}
