//! Which rail each INA3221 channel measures on each Jetson board, and how
//! the rails nest.
//!
//! A board's rails form a tree. Where the board measures its own input
//! (`VDD_IN`, `POM_5V_IN`) that rail *is* the total and every other rail is
//! a part of it: adding a part to its own input counts the part twice (the
//! Orin Nano's `VDD_IN` already holds `VDD_CPU_GPU_CV`). Where no input is
//! measured (AGX Orin, AGX Xavier) the total is the sum of the top-level
//! rails, each fed from the module's input in parallel. A rail whose place
//! in the tree the public documents do not settle is [`Role::Unplaced`]:
//! reported, never added to a total.
//!
//! | board | chip, channel: rail (shunt) | total |
//! |---|---|---|
//! | AGX Orin (P3701) | 0x40: `VDD_GPU_SOC`, `VDD_CPU_CV`, `VIN_SYS_5V0`; 0x41 ch 1: `VDDQ_VDD2_1V8AO` (all 2 mΩ) | sum of the three 0x40 rails; `VDDQ_VDD2_1V8AO` unplaced |
//! | Orin Nano / Orin NX (P3767) | 0x40: `VDD_IN`, `VDD_CPU_GPU_CV`, `VDD_SOC` (all 5 mΩ) | `VDD_IN` |
//! | Xavier NX (P3668) | 0x40: `VDD_IN`, `VDD_CPU_GPU_CV`, `VDD_SOC` (all 5 mΩ) | `VDD_IN` |
//! | AGX Xavier (P2888) | 0x40: `GPU`, `CPU`, `SOC`; 0x41: `CV`, `VDDRQ`, `SYS5V` (all 5 mΩ) | sum of all six |
//! | Nano (P3448, L4T r32) | 0x40: `POM_5V_IN`, `POM_5V_GPU`, `POM_5V_CPU` (shunts not found in a public source) | `POM_5V_IN` |
//!
//! Sources are given beside each table below. Shunt resistances are in µΩ,
//! the unit of the device-tree property `shunt-resistor-micro-ohms`
//! (5 000 µΩ = 5 mΩ); where no public source gives one it is `None`, and a
//! caller must supply the value from its own board's schematic.

use super::Channel;

/// A rail's place in its board's tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The board's input rail: it is the total, and holds every other rail.
    Input,
    /// Inside the rail at index `of` of the same board (its parent).
    Part {
        /// Index of the containing rail in [`Board::rails`].
        of: usize,
    },
    /// A top-level rail of a board without a measured input: the total is
    /// the sum of these.
    SumPart,
    /// Measured, but where it sits is not documented publicly: never added
    /// to the total (it may well be inside one of the others).
    Unplaced,
}

/// One monitored rail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rail {
    /// The label the Linux driver gives it (`in*_label`, `rail_name_*`).
    pub name: &'static str,
    /// The chip's 7-bit I²C address.
    pub address: u8,
    /// The chip's channel.
    pub channel: Channel,
    /// The shunt resistance, µΩ; `None` where no public source gives it.
    pub shunt_micro_ohms: Option<u32>,
    /// Where the rail sits in the tree.
    pub role: Role,
}

/// Which board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoardId {
    /// Jetson AGX Orin module (P3701).
    AgxOrin,
    /// Jetson Orin Nano and Orin NX modules (P3767).
    OrinNanoNx,
    /// Jetson Xavier NX module (P3668).
    XavierNx,
    /// Jetson AGX Xavier module (P2888).
    AgxXavier,
    /// Jetson Nano module (P3448), as L4T r32 names its rails.
    NanoR32,
}

/// A board's rails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Board {
    /// Which board.
    pub id: BoardId,
    /// Its name, for reports.
    pub name: &'static str,
    /// Its monitored rails, chip by chip and channel by channel.
    pub rails: &'static [Rail],
}

const fn ch(i: u8) -> Channel {
    Channel(i)
}

const fn rail(
    name: &'static str,
    address: u8,
    channel: u8,
    shunt: Option<u32>,
    role: Role,
) -> Rail {
    Rail {
        name,
        address,
        channel: ch(channel),
        shunt_micro_ohms: shunt,
        role,
    }
}

// AGX Orin (P3701). Labels, channels and shunts: Linux mainline
// arch/arm64/boot/dts/nvidia/tegra234-p3701.dtsi, nodes power-sensor@40 and
// power-sensor@41 on i2c@c240000 (added by "arm64: tegra: Add power-sensors
// for Tegra234 boards", Jon Hunter, 2023): every populated input has
// shunt-resistor-micro-ohms = <2000>; 0x41 inputs 0 and 2 are disabled.
// The module's input is not measured: NVIDIA's Jetson Linux Developer Guide
// (Platform Power and Performance, Jetson Orin) describes VDD_GPU_SOC,
// VDD_CPU_CV and VIN_SYS_5V0 as separate supplies of the module, so the
// total is their sum. Which supply feeds VDDQ_VDD2_1V8AO (DRAM) is not
// stated in the public documents found, so it is left out of the total.
const AGX_ORIN: [Rail; 4] = [
    rail("VDD_GPU_SOC", 0x40, 0, Some(2000), Role::SumPart),
    rail("VDD_CPU_CV", 0x40, 1, Some(2000), Role::SumPart),
    rail("VIN_SYS_5V0", 0x40, 2, Some(2000), Role::SumPart),
    rail("VDDQ_VDD2_1V8AO", 0x41, 1, Some(2000), Role::Unplaced),
];

// Orin Nano / Orin NX (P3767). Linux mainline
// arch/arm64/boot/dts/nvidia/tegra234-p3767.dtsi, power-sensor@40 on
// i2c@c240000 (same patch as above): VDD_IN, VDD_CPU_GPU_CV, VDD_SOC, each
// shunt-resistor-micro-ohms = <5000>. VDD_IN is the module's input; the
// other two are supplies inside it (Developer Guide, Jetson Orin power
// monitor; NVIDIA forum answer "VDD_IN is the total power of module ...
// DDR and interface rails are included in VDD_IN").
const ORIN_NANO_NX: [Rail; 3] = [
    rail("VDD_IN", 0x40, 0, Some(5000), Role::Input),
    rail("VDD_CPU_GPU_CV", 0x40, 1, Some(5000), Role::Part { of: 0 }),
    rail("VDD_SOC", 0x40, 2, Some(5000), Role::Part { of: 0 }),
];

// Xavier NX (P3668). Linux arch/arm64/boot/dts/nvidia/tegra194-p3668.dtsi,
// power-sensor@40 on i2c@c250000 ("arm64: tegra: Add power-sensors for
// Tegra194 boards", Jon Hunter): VDD_IN, VDD_CPU_GPU_CV, VDD_SOC, each
// shunt-resistor-micro-ohms = <5000>. Same tree as the Orin Nano/NX.
const XAVIER_NX: [Rail; 3] = ORIN_NANO_NX;

// AGX Xavier (P2888). Shunts and what each channel monitors: Jetson AGX
// Xavier Series Product Design Guide (DG-09840-001 v2.5) §5.6.2 "Power
// Monitor" and Figure 5-14: two INA3221 at 0x40 (GPU, CPU, SOC) and 0x41
// (CV, VDDRQ, system 5 V), every sense resistor 0.005 Ω. Labels: L4T r32
// device trees as tabulated in energymon's jetson/JetsonPowerRails.md.
// No channel measures the module's input: §5.2 of the design guide derives
// SYS_VIN_HV (feeding GPU, CPU, SOC, CV, VDDRQ) and SYS_VIN_MV (feeding
// SYS5V) in parallel from the main source, so the total is the sum of all six.
const AGX_XAVIER: [Rail; 6] = [
    rail("GPU", 0x40, 0, Some(5000), Role::SumPart),
    rail("CPU", 0x40, 1, Some(5000), Role::SumPart),
    rail("SOC", 0x40, 2, Some(5000), Role::SumPart),
    rail("CV", 0x41, 0, Some(5000), Role::SumPart),
    rail("VDDRQ", 0x41, 1, Some(5000), Role::SumPart),
    rail("SYS5V", 0x41, 2, Some(5000), Role::SumPart),
];

// Nano (P3448) on L4T r32 (ina3221x iio driver). Labels: L4T r32 device
// trees as tabulated in energymon's jetson/JetsonPowerRails.md; NVIDIA's
// L4T r32 Developer Guide names them VDD_IN, VDD_GPU, VDD_CPU, with the
// input holding the other two. The shunt resistances were not found in a
// public source that could be cited here, so they are unknown (`None`).
const NANO_R32: [Rail; 3] = [
    rail("POM_5V_IN", 0x40, 0, None, Role::Input),
    rail("POM_5V_GPU", 0x40, 1, None, Role::Part { of: 0 }),
    rail("POM_5V_CPU", 0x40, 2, None, Role::Part { of: 0 }),
];

/// Every board this table knows, in the order [`identify`] tries them.
pub const BOARDS: [Board; 5] = [
    Board {
        id: BoardId::AgxOrin,
        name: "Jetson AGX Orin",
        rails: &AGX_ORIN,
    },
    Board {
        id: BoardId::OrinNanoNx,
        name: "Jetson Orin Nano / Orin NX",
        rails: &ORIN_NANO_NX,
    },
    Board {
        id: BoardId::XavierNx,
        name: "Jetson Xavier NX",
        rails: &XAVIER_NX,
    },
    Board {
        id: BoardId::AgxXavier,
        name: "Jetson AGX Xavier",
        rails: &AGX_XAVIER,
    },
    Board {
        id: BoardId::NanoR32,
        name: "Jetson Nano (L4T r32)",
        rails: &NANO_R32,
    },
];

/// The board `id`.
pub fn board(id: BoardId) -> &'static Board {
    match id {
        BoardId::AgxOrin => &BOARDS[0],
        BoardId::OrinNanoNx => &BOARDS[1],
        BoardId::XavierNx => &BOARDS[2],
        BoardId::AgxXavier => &BOARDS[3],
        BoardId::NanoR32 => &BOARDS[4],
    }
}

/// The board whose rails these labels are, if any: every label must be one
/// of its rails (compared without regard to ASCII case) and every rail its
/// total is made of must be present. Unconnected channels (`NC`) are the
/// caller's to leave out.
///
/// The Orin Nano/NX and the Xavier NX have the same labels and the same
/// tree; such labels identify the Orin Nano/NX, and either answer adds up
/// the same way.
pub fn identify<'a>(labels: impl Iterator<Item = &'a str> + Clone) -> Option<&'static Board> {
    BOARDS.iter().find(|b| {
        let mut any = false;
        let all_known = labels.clone().all(|l| {
            any = true;
            b.rail(l).is_some()
        });
        let totals_present = b
            .total_rails()
            .all(|(_, r)| labels.clone().any(|l| l.eq_ignore_ascii_case(r.name)));
        any && all_known && totals_present
    })
}

impl Board {
    /// The rail named `name` (without regard to ASCII case) and its index.
    pub fn rail(&self, name: &str) -> Option<(usize, &'static Rail)> {
        self.rails
            .iter()
            .enumerate()
            .find(|(_, r)| r.name.eq_ignore_ascii_case(name))
    }

    /// The board's input rail, where one is measured.
    pub fn input(&self) -> Option<(usize, &'static Rail)> {
        self.rails
            .iter()
            .enumerate()
            .find(|(_, r)| r.role == Role::Input)
    }

    /// The rails whose sum is the board's total: its input rail alone, or
    /// where none is measured every [`Role::SumPart`] rail. No rail in it
    /// is inside another rail in it.
    pub fn total_rails(&self) -> impl Iterator<Item = (usize, &'static Rail)> + '_ {
        let input = self.input();
        self.rails
            .iter()
            .enumerate()
            .filter(move |(i, r)| match input {
                Some((j, _)) => *i == j,
                None => r.role == Role::SumPart,
            })
    }

    /// The rail that contains rail `index`, if any.
    pub fn parent(&self, index: usize) -> Option<(usize, &'static Rail)> {
        match self.rails.get(index)?.role {
            Role::Part { of } => self.rails.get(of).map(|r| (of, r)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_board_table_is_a_tree_with_one_kind_of_total() {
        for b in &BOARDS {
            let inputs = b.rails.iter().filter(|r| r.role == Role::Input).count();
            let sum_parts = b.rails.iter().filter(|r| r.role == Role::SumPart).count();
            // Either an input rail (exactly one, no sum parts) or a sum.
            assert!(
                (inputs == 1 && sum_parts == 0) || (inputs == 0 && sum_parts > 0),
                "{}",
                b.name
            );
            for (i, r) in b.rails.iter().enumerate() {
                if let Role::Part { of } = r.role {
                    assert_ne!(of, i, "{}: {} is its own part", b.name, r.name);
                    assert!(of < b.rails.len(), "{}: {}", b.name, r.name);
                }
                // No two rails on one chip channel.
                assert!(
                    !b.rails[..i]
                        .iter()
                        .any(|o| o.address == r.address && o.channel == r.channel),
                    "{}: {}",
                    b.name,
                    r.name
                );
            }
        }
    }
}
