//! The compiled-in catalog against the CSV it was built from, name and PCI
//! lookups, and the capability queries.

use wattledger_core::mig::arch::{total_compute_slices, total_memory_slices};
use wattledger_core::mig::catalog::{self, find_gpu, find_gpu_by_pci_device_id, gpus};
use wattledger_core::mig::{
    Architecture, MigSupport, Profile, mig_with_nvlink_fabric, supports_mig,
};

const CSV: &str = include_str!("../data/mig-profiles.csv");

#[test]
fn every_csv_row_is_in_the_catalog_with_all_its_values() {
    let mut rows = 0;
    for line in CSV.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let c: Vec<&str> = line.split(',').collect();
        assert_eq!(c.len(), 12, "{line}");
        let gpu = catalog::gpu_by_catalog_name(c[0]).unwrap_or_else(|| panic!("{}", c[0]));
        assert_eq!(gpu.name(), c[0]);
        let pci = (!c[1].is_empty()).then(|| u16::from_str_radix(&c[1][2..], 16).unwrap());
        assert_eq!(gpu.pci_device_id(), pci, "{line}");
        assert_eq!(
            gpu.architecture(),
            Architecture::from_name(c[2]).unwrap(),
            "{line}"
        );
        assert_eq!(gpu.compute_slices(), c[3].parse::<u32>().unwrap(), "{line}");
        assert_eq!(gpu.memory_slices(), c[4].parse::<u32>().unwrap(), "{line}");
        let spec = gpu
            .profile_by_name(c[5])
            .unwrap_or_else(|| panic!("{line}"));
        assert_eq!(
            spec.compute_slices(),
            c[6].parse::<u32>().unwrap(),
            "{line}"
        );
        assert_eq!(spec.memory_slices(), c[7].parse::<u32>().unwrap(), "{line}");
        assert_eq!(spec.memory_gb(), c[8].parse::<u32>().unwrap(), "{line}");
        assert_eq!(spec.max_instances(), c[9].parse::<u32>().unwrap(), "{line}");
        let sm = (!c[10].is_empty()).then(|| c[10].parse::<u32>().unwrap());
        assert_eq!(spec.sm_count(), sm, "{line}");
        let note = (!c[11].is_empty()).then_some(c[11]);
        assert_eq!(spec.note(), note, "{line}");
        // The name parses, agrees with the numbers, and is valid on its GPU.
        let parsed = Profile::parse(c[5]).unwrap();
        assert_eq!(spec.profile(), Some(parsed));
        assert_eq!(parsed.gpu_slices(), spec.compute_slices(), "{line}");
        assert_eq!(parsed.memory_gb(), spec.memory_gb(), "{line}");
        assert_eq!(gpu.find_profile(&parsed).unwrap().spec, spec);
        assert!(supports_mig(gpu.architecture(), gpu.name()) == MigSupport::Supported);
        rows += 1;
    }
    // And nothing else: the catalog holds exactly the CSV's rows.
    let total: usize = gpus().iter().map(|g| g.profiles().len()).sum();
    assert_eq!(total, rows);
    // A30: 5 rows; ten GPUs with 7 rows (A100-40GB, A100-80GB, the four
    // H100s, H200, GH200, B200, GB200): 70; RTX PRO 6000: 10. 5 + 70 + 10 = 85.
    assert_eq!(rows, 85);
}

#[test]
fn profile_validity_on_a_gpu() {
    let a100 = find_gpu("NVIDIA A100-SXM4-40GB").unwrap();
    assert_eq!(a100.name(), "A100-40GB");
    assert!(a100.is_valid_profile(&Profile::parse("3g.20gb").unwrap()));
    assert!(a100.is_valid_profile(&Profile::parse("1g.5gb+me").unwrap()));
    // A compute instance inside a valid GPU instance, with c <= g.
    let ci = a100
        .find_profile(&Profile::parse("1c.3g.20gb").unwrap())
        .unwrap();
    assert_eq!(ci.compute_slices, 1);
    assert_eq!(ci.spec.name(), "3g.20gb");
    assert!(!a100.is_valid_profile(&Profile::parse("4c.3g.20gb").unwrap()));
    assert!(!a100.is_valid_profile(&Profile::parse("0c.3g.20gb").unwrap()));
    // An 80 GB profile is not on the 40 GB part; +me exists only on 1g.
    assert!(!a100.is_valid_profile(&Profile::parse("7g.80gb").unwrap()));
    assert!(!a100.is_valid_profile(&Profile::parse("2g.10gb+me").unwrap()));
    assert!(!a100.is_valid_profile(&Profile::parse("1g.5gb-me").unwrap()));
    let rtx = find_gpu("NVIDIA RTX PRO 6000 Blackwell Workstation Edition").unwrap();
    assert!(rtx.is_valid_profile(&Profile::parse("1g.24gb-me").unwrap()));
    assert!(rtx.is_valid_profile(&Profile::parse("2g.48gb+me.all").unwrap()));
    assert!(!rtx.is_valid_profile(&Profile::parse("4g.96gb+me.all").unwrap()));
}

#[test]
fn nvml_names_match() {
    let cases = [
        ("NVIDIA A100-SXM4-40GB", Some("A100-40GB")),
        ("NVIDIA A100-PCIE-40GB", Some("A100-40GB")),
        ("A100-SXM4-40GB", Some("A100-40GB")),
        ("NVIDIA A100-SXM4-80GB", Some("A100-80GB")),
        ("NVIDIA A100 80GB PCIe", Some("A100-80GB")),
        ("nvidia a30", Some("A30-24GB")),
        ("NVIDIA H100 80GB HBM3", Some("H100-80GB-SXM5")),
        ("NVIDIA H100 PCIe", Some("H100-80GB-PCIe")),
        ("NVIDIA H100 NVL", Some("H100-NVL-94GB")),
        ("NVIDIA H20", Some("H100-96GB")),
        ("NVIDIA GH200 480GB", Some("H100-96GB")),
        ("NVIDIA GH200 144G HBM3e", Some("GH200-144GB")),
        ("NVIDIA H200", Some("H200-141GB")),
        ("NVIDIA H200 NVL", Some("H200-141GB")),
        ("NVIDIA B200", Some("B200")),
        ("NVIDIA GB200", Some("GB200")),
        (
            "NVIDIA RTX PRO 6000 Blackwell Server Edition",
            Some("RTX-PRO-6000-Blackwell"),
        ),
        // Ambiguous or unknown: no guess.
        ("NVIDIA H100", None),
        ("NVIDIA A100", None),
        ("NVIDIA GH200", None),
        ("NVIDIA GeForce RTX 4090", None),
        ("NVIDIA RTX 6000 Ada Generation", None),
        ("NVIDIA B300", None),
        ("", None),
        ("NVIDIA", None),
    ];
    for (name, want) in cases {
        assert_eq!(find_gpu(name).map(|g| g.name()), want, "{name:?}");
    }
    // Every catalog name finds itself, in any case.
    for g in gpus() {
        assert_eq!(find_gpu(g.name()).unwrap().name(), g.name());
        assert_eq!(
            find_gpu(&g.name().to_ascii_lowercase()).unwrap().name(),
            g.name()
        );
    }
}

#[test]
fn pci_device_ids() {
    assert_eq!(
        find_gpu_by_pci_device_id(0x2321).unwrap().name(),
        "H100-NVL-94GB"
    );
    // NVML's pciDeviceId: device << 16 | vendor 0x10DE.
    assert_eq!(
        find_gpu_by_pci_device_id(0x2901_10DE).unwrap().name(),
        "B200"
    );
    assert_eq!(
        find_gpu_by_pci_device_id(0x2BB5).unwrap().name(),
        "RTX-PRO-6000-Blackwell"
    );
    assert!(find_gpu_by_pci_device_id(0x2901_1002).is_none()); // AMD vendor id
    assert!(find_gpu_by_pci_device_id(0x1234).is_none());
}

#[test]
fn slices_and_sm_counts() {
    let a30 = find_gpu("NVIDIA A30").unwrap();
    assert_eq!(
        (total_compute_slices(a30), total_memory_slices(a30)),
        (4, 4)
    );
    let h100 = find_gpu("NVIDIA H100 80GB HBM3").unwrap();
    assert_eq!(
        (total_compute_slices(h100), total_memory_slices(h100)),
        (7, 8)
    );
    let seven = h100.profile_by_name("7g.80gb").unwrap();
    assert_eq!(seven.sm_count(), Some(132));
    assert_eq!(h100.profile_by_name("1g.20gb").unwrap().memory_slices(), 2);
    assert_eq!(
        find_gpu("NVIDIA H100 PCIe")
            .unwrap()
            .profile_by_name("7g.80gb")
            .unwrap()
            .sm_count(),
        None
    );
}

#[test]
fn architecture_numbers_round_trip() {
    let known = [
        (2, Architecture::Kepler),
        (3, Architecture::Maxwell),
        (4, Architecture::Pascal),
        (5, Architecture::Volta),
        (6, Architecture::Turing),
        (7, Architecture::Ampere),
        (8, Architecture::Ada),
        (9, Architecture::Hopper),
        (10, Architecture::Blackwell),
    ];
    for (n, a) in known {
        assert_eq!(Architecture::from_nvml(n), a);
        assert_eq!(a.to_nvml(), n);
        assert_eq!(Architecture::from_name(a.name()), Some(a));
    }
    for n in [0, 1, 11, 0xffff_ffff] {
        assert_eq!(Architecture::from_nvml(n), Architecture::Unknown(n));
        assert_eq!(Architecture::from_nvml(n).to_nvml(), n);
    }
    assert!(Architecture::Unknown(11).is_newer_than_known());
    assert!(!Architecture::Unknown(0xffff_ffff).is_newer_than_known());
}

#[test]
fn mig_support_by_capability() {
    use Architecture as A;
    use MigSupport::*;
    let cases = [
        (A::Ampere, "NVIDIA A100-SXM4-40GB", Supported),
        (A::Ampere, "NVIDIA A30", Supported),
        (A::Ampere, "NVIDIA A10", Unknown),
        (A::Ampere, "NVIDIA GeForce RTX 3090", Unsupported),
        (A::Hopper, "NVIDIA H100 80GB HBM3", Supported),
        (A::Hopper, "NVIDIA H800", Supported),
        (A::Blackwell, "NVIDIA B200", Supported),
        (
            A::Blackwell,
            "NVIDIA RTX PRO 6000 Blackwell Workstation Edition",
            Supported,
        ),
        (A::Blackwell, "NVIDIA GeForce RTX 5090", Unsupported),
        (A::Blackwell, "NVIDIA B300", Unknown),
        (A::Volta, "Tesla V100-SXM2-16GB", Unsupported),
        (A::Turing, "Tesla T4", Unsupported),
        (A::Ada, "NVIDIA L40S", Unsupported),
        (A::Kepler, "Tesla K80", Unsupported),
        (A::Unknown(11), "NVIDIA Future", Unknown),
    ];
    for (arch, name, want) in cases {
        assert_eq!(supports_mig(arch, name), want, "{arch} {name}");
    }
    // Architecture decides before the name: a catalog name on a pre-Ampere
    // architecture is a contradiction, reported as unsupported.
    assert_eq!(supports_mig(A::Volta, "NVIDIA A100-SXM4-40GB"), Unsupported);
}

#[test]
fn mig_and_nvlink_fabric() {
    assert!(!mig_with_nvlink_fabric(Architecture::Ampere));
    assert!(mig_with_nvlink_fabric(Architecture::Hopper));
    assert!(mig_with_nvlink_fabric(Architecture::Blackwell));
    assert!(mig_with_nvlink_fabric(Architecture::Unknown(11)));
    assert!(!mig_with_nvlink_fabric(Architecture::Volta));
    assert!(!mig_with_nvlink_fabric(Architecture::Unknown(0xffff_ffff)));
}
