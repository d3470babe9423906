//! Composes a small model and returns its total energy in microjoules.
#![no_std]

use core::panic::PanicInfo;
use wattledger_core::compose::{Composer, GatingPolicy};
use wattledger_core::presets::Preset;
use wattledger_core::scenario::RESNET18_H100;

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    loop {}
}

/// Runs the built-in scenario; returns the total in µJ, or 0 on error.
#[unsafe(no_mangle)]
pub extern "C" fn wl_nostd_check() -> u64 {
    let Ok(mut c) = Composer::<8>::new(Preset::AgxOrinMaxn.model(), GatingPolicy::BreakEven) else {
        return 0;
    };
    for s in &RESNET18_H100 {
        if c.push(s, &mut ()).is_err() {
            return 0;
        }
    }
    match c.finish(&mut ()) {
        Ok(r) => (r.energy.total_j * 1e6) as u64,
        Err(_) => 0,
    }
}
