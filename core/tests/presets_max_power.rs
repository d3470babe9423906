//! Every preset carries the most power its hardware can draw, with a source.

use wattledger_core::presets::Preset;

#[test]
fn every_preset_has_a_max_power_above_its_idle_and_a_source() {
    for p in Preset::ALL {
        let max = p.max_power();
        let spec = p.model().spec().clone();
        // Idle and uncore power are drawn with nothing running: the rated
        // maximum must leave room above them.
        assert!(
            max.watts > spec.idle_power_w + spec.uncore_power_w,
            "{}: {} W",
            p.name(),
            max.watts
        );
        assert!(!max.source.is_empty(), "{}", p.name());
    }
    assert_eq!(Preset::H100Sxm5.max_power().watts, 700.0);
    assert_eq!(Preset::AgxOrin15w.max_power().watts, 15.0);
}
