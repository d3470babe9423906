//! `CUDA_VISIBLE_DEVICES` resolved against devices discovered through the
//! fake NVML (tests/fake_nvml/scenarios/cluster.scenario):
//!
//! | index | GPU | UUID | MIG instances (gi/ci) |
//! |---|---|---|---|
//! | 0 | A100 | GPU-4f1c2a9e-… | MIG-0a1b2c3d-1111-… (1/0), MIG-0a1b2c3d-2222-… (2/0) |
//! | 1 | H100 | GPU-77aa0000-… | — |
//! | 2 | H100 | GPU-77bb0000-… | — |
//! | 3 | H200 | GPU-2c4e6a8b-… | — |
#![cfg(feature = "nvml")]

#[path = "support/fake_nvml.rs"]
mod fake_nvml;

use fake_nvml::FakeNvml;
use wattledger_std::sensors::Sensor;
use wattledger_std::sensors::nvml::NvmlSensor;
use wattledger_std::visible::{
    InvalidToken, TokenProblem, VisibleDevice, VisibleDevices, cuda_visible_devices,
};

const MIG_1: &str = "MIG-0a1b2c3d-1111-5e6f-8a9b-0c1d2e3f4a5b";
const MIG_2: &str = "MIG-0a1b2c3d-2222-5e6f-8a9b-0c1d2e3f4a5b";

fn sensor(fake: &FakeNvml) -> NvmlSensor {
    NvmlSensor::with_lib_path(fake.lib_path()).unwrap()
}

fn gpu(token: &str, device: u32) -> VisibleDevice {
    VisibleDevice {
        token: token.to_string(),
        device,
        mig_uuid: None,
    }
}

fn mig(token: &str, device: u32, uuid: &str) -> VisibleDevice {
    VisibleDevice {
        token: token.to_string(),
        device,
        mig_uuid: Some(uuid.to_string()),
    }
}

fn stop(token: &str, problem: TokenProblem) -> Option<InvalidToken> {
    Some(InvalidToken {
        token: token.to_string(),
        problem,
    })
}

#[test]
fn unset_shows_everything_and_empty_shows_nothing() {
    let fake = FakeNvml::scenario("cluster");
    let s = sensor(&fake);
    assert_eq!(s.devices().len(), 4);
    let all = s.visible_devices(None);
    assert_eq!(
        all.visible,
        vec![gpu("0", 0), gpu("1", 1), gpu("2", 2), gpu("3", 3)]
    );
    assert_eq!(all.stopped_at, None);
    assert_eq!(s.visible_devices(Some("")), VisibleDevices::default());
    assert_eq!(s.visible_devices(Some("  ")), VisibleDevices::default());
}

#[test]
fn indices_keep_cuda_order_and_stop_at_the_first_bad_token() {
    let fake = FakeNvml::scenario("cluster");
    let s = sensor(&fake);
    let v = s.visible_devices(Some("3, 1"));
    assert_eq!(v.visible, vec![gpu("3", 3), gpu("1", 1)]);
    assert_eq!(v.parent_devices(), vec![3, 1]);
    // 7 is out of range: it and everything after are dropped.
    let v = s.visible_devices(Some("0,7,1"));
    assert_eq!(v.visible, vec![gpu("0", 0)]);
    assert_eq!(v.stopped_at, stop("7", TokenProblem::NoMatch));
    let v = s.visible_devices(Some("2,foo,1"));
    assert_eq!(v.visible, vec![gpu("2", 2)]);
    assert_eq!(v.stopped_at, stop("foo", TokenProblem::Malformed));
    let v = s.visible_devices(Some("-1,0"));
    assert_eq!(v.visible, vec![]);
    assert_eq!(v.stopped_at, stop("-1", TokenProblem::Malformed));
    // Index 1 and the UUID of GPU 1 are the same GPU.
    let v = s.visible_devices(Some("1,GPU-77aa"));
    assert_eq!(v.visible, vec![gpu("1", 1)]);
    assert_eq!(v.stopped_at, stop("GPU-77aa", TokenProblem::Duplicate));
}

#[test]
fn gpu_uuids_match_by_unique_prefix() {
    let fake = FakeNvml::scenario("cluster");
    let s = sensor(&fake);
    let full = "GPU-2c4e6a8b-0d1f-4a3b-9c5d-7e9f1a3b5c7d";
    assert_eq!(s.visible_devices(Some(full)).visible, vec![gpu(full, 3)]);
    // Prefixes, upper case accepted.
    let v = s.visible_devices(Some("GPU-77BB,GPU-77aa0"));
    assert_eq!(v.visible, vec![gpu("GPU-77BB", 2), gpu("GPU-77aa0", 1)]);
    assert_eq!(v.stopped_at, None);
    // GPU-77 fits both H100s.
    let v = s.visible_devices(Some("0,GPU-77"));
    assert_eq!(v.visible, vec![gpu("0", 0)]);
    assert_eq!(v.stopped_at, stop("GPU-77", TokenProblem::Ambiguous));
    let v = s.visible_devices(Some("GPU-ffff"));
    assert_eq!(v.stopped_at, stop("GPU-ffff", TokenProblem::NoMatch));
}

#[test]
fn mig_tokens_map_to_their_parent_gpu() {
    let fake = FakeNvml::scenario("cluster");
    let s = sensor(&fake);
    // Both instances live on GPU 0; GPU 0 is measured once.
    let value = format!("{MIG_1},{MIG_2},3");
    let v = s.visible_devices(Some(&value));
    assert_eq!(
        v.visible,
        vec![mig(MIG_1, 0, MIG_1), mig(MIG_2, 0, MIG_2), gpu("3", 3)]
    );
    assert_eq!(v.stopped_at, None);
    assert_eq!(v.parent_devices(), vec![0, 3]);
    // A unique prefix is enough; a shared one is ambiguous.
    let v = s.visible_devices(Some("MIG-0a1b2c3d-2222"));
    assert_eq!(v.visible, vec![mig("MIG-0a1b2c3d-2222", 0, MIG_2)]);
    let v = s.visible_devices(Some("MIG-0a1b2c3d"));
    assert_eq!(v.stopped_at, stop("MIG-0a1b2c3d", TokenProblem::Ambiguous));
    // The same instance twice.
    let v = s.visible_devices(Some(&format!("{MIG_1},{MIG_1}")));
    assert_eq!(v.visible, vec![mig(MIG_1, 0, MIG_1)]);
    assert_eq!(v.stopped_at, stop(MIG_1, TokenProblem::Duplicate));
}

#[test]
fn legacy_mig_tokens_match_parent_and_instance_ids() {
    let fake = FakeNvml::scenario("cluster");
    let s = sensor(&fake);
    let token = "MIG-GPU-4f1c2a9e-6b7d-4e21-9c3a-1a2b3c4d5e6f/2/0";
    assert_eq!(
        s.visible_devices(Some(token)).visible,
        vec![mig(token, 0, MIG_2)]
    );
    // No GPU instance 5 on that GPU; no MIG at all on GPU 3.
    let missing = "MIG-GPU-4f1c2a9e-6b7d-4e21-9c3a-1a2b3c4d5e6f/5/0";
    assert_eq!(
        s.visible_devices(Some(missing)).stopped_at,
        stop(missing, TokenProblem::NoMatch)
    );
    let on_h200 = "MIG-GPU-2c4e6a8b-0d1f-4a3b-9c5d-7e9f1a3b5c7d/1/0";
    assert_eq!(
        s.visible_devices(Some(on_h200)).stopped_at,
        stop(on_h200, TokenProblem::NoMatch)
    );
}

#[test]
fn the_free_function_gives_the_same_answer_as_the_method() {
    let fake = FakeNvml::scenario("cluster");
    let s = sensor(&fake);
    let value = "GPU-77bb,MIG-0a1b2c3d-1111,9";
    assert_eq!(
        cuda_visible_devices(s.devices(), Some(value)),
        s.visible_devices(Some(value))
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;
    use wattledger_std::sensors::DeviceInfo;

    fn cluster_devices() -> Vec<DeviceInfo> {
        let fake = FakeNvml::scenario("cluster");
        sensor(&fake).devices().to_vec()
    }

    /// Tokens drawn from the forms that occur, valid and not.
    fn token() -> impl Strategy<Value = String> {
        prop_oneof![
            (0u32..6).prop_map(|i| i.to_string()),
            prop::sample::select(vec![
                "GPU-77",
                "GPU-77aa",
                "GPU-77bb",
                "GPU-4f1c",
                "GPU-2c4e",
                "GPU-zz",
                "MIG-0a1b2c3d",
                "MIG-0a1b2c3d-1111",
                "MIG-0a1b2c3d-2222",
                "MIG-",
                "MIG-GPU-4f1c2a9e-6b7d-4e21-9c3a-1a2b3c4d5e6f/1/0",
                "MIG-GPU-4f1c2a9e-6b7d-4e21-9c3a-1a2b3c4d5e6f/9/0",
                " 1 ",
                "",
                "x",
            ])
            .prop_map(str::to_string),
            "[ -~]{0,12}",
        ]
    }

    proptest! {
        #[test]
        fn resolution_is_a_clean_prefix_of_the_tokens(tokens in prop::collection::vec(token(), 0..8)) {
            let devices = cluster_devices();
            let value = tokens.join(",");
            let v = cuda_visible_devices(&devices, Some(&value));
            if value.trim().is_empty() {
                prop_assert_eq!(v, VisibleDevices::default());
                return Ok(());
            }
            let items: Vec<&str> = value.split(',').map(str::trim).collect();
            // Visible entries are the leading tokens, in order; resolution
            // stops exactly at the next one, or ran through all of them.
            prop_assert!(v.visible.len() <= items.len());
            for (entry, item) in v.visible.iter().zip(&items) {
                prop_assert_eq!(entry.token.as_str(), *item);
                prop_assert!((entry.device as usize) < devices.len());
            }
            match &v.stopped_at {
                Some(stop) => prop_assert_eq!(stop.token.as_str(), items[v.visible.len()]),
                None => prop_assert_eq!(v.visible.len(), items.len()),
            }
            // Nothing is listed twice, and parents are listed once each.
            for (i, a) in v.visible.iter().enumerate() {
                for b in &v.visible[i + 1..] {
                    prop_assert!(a.mig_uuid != b.mig_uuid || (a.mig_uuid.is_none() && a.device != b.device));
                }
            }
            let parents = v.parent_devices();
            let mut dedup = parents.clone();
            dedup.sort_unstable();
            dedup.dedup();
            prop_assert_eq!(dedup.len(), parents.len());
        }
    }
}
