//! The sandbox's in-memory state: listings, uploaded images, counters and faults.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::config::SandboxConfig;
use crate::faults::Fault;
use crate::shopee::model::ShopeeItem;

#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub requests: u64,
    pub rejected_signatures: u64,
}

#[derive(Debug, Clone)]
pub struct StoredImage {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

#[derive(Debug, Default)]
pub struct ShopeeState {
    pub items: BTreeMap<u64, ShopeeItem>,
    pub images: HashMap<String, StoredImage>,
    pub next_id: u64,
    pub stats: Stats,
    pub fault: Fault,
    /// Requests per shop in the current second: (unix second, count).
    pub rate: HashMap<u64, (u64, u32)>,
}

impl ShopeeState {
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        // Realistic-looking ids, unique per sandbox run.
        20_000_000_000 + self.next_id
    }

    pub fn live_listings(&self) -> usize {
        self.items.len()
    }
}

#[derive(Debug, Default)]
pub struct TiktokState {
    pub products: BTreeMap<String, crate::tiktok::model::TiktokProduct>,
    pub images: HashMap<String, StoredImage>,
    /// `idempotency_key` → the product it created, so a retried create returns it.
    pub idempotency: HashMap<String, String>,
    pub next_id: u64,
    pub stats: Stats,
    /// Requests per (API path) in the current second: (unix second, count).
    pub rate: HashMap<String, (u64, u32)>,
}

impl TiktokState {
    pub fn next_id(&mut self) -> String {
        self.next_id += 1;
        format!("{}", 1_729_000_000_000_000_000u64 + self.next_id)
    }
}

#[derive(Debug, Default)]
pub struct State {
    pub shopee: ShopeeState,
    pub tiktok: TiktokState,
    pub tiktok_fault: Fault,
    /// A fault's `path`: when set, only calls whose path contains it are faulted (per
    /// platform: Shopee, TikTok); the others keep only the fault's latency.
    pub fault_paths: [Option<String>; 2],
    /// Set by a fault request with a `seed`: which calls a probabilistic fault hits is
    /// then the same from run to run (for the same order of calls).
    pub fault_rng: Option<rand::rngs::StdRng>,
    /// Authorization codes and tokens of both platforms.
    pub oauth: crate::oauth::OAuth,
}

impl State {
    /// `fault` as it applies to a call of `path` on the platform with this index in
    /// [`State::fault_paths`].
    pub fn fault_for(&self, platform: usize, path: &str, fault: Fault) -> Fault {
        match &self.fault_paths[platform] {
            Some(only) if !path.contains(only.as_str()) => Fault {
                mode: crate::faults::FaultMode::None,
                ..fault
            },
            _ => fault,
        }
    }

    /// The number a fault's probability is compared with, for the next call.
    pub fn fault_roll(&mut self) -> f64 {
        use rand::Rng;
        match &mut self.fault_rng {
            Some(rng) => rng.gen(),
            None => rand::random(),
        }
    }
}

#[derive(Clone)]
pub struct Sandbox {
    state: Arc<Mutex<State>>,
    pub config: Arc<SandboxConfig>,
}

impl Sandbox {
    pub fn new(config: SandboxConfig) -> Sandbox {
        Sandbox {
            state: Arc::new(Mutex::new(State::default())),
            config: Arc::new(config),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn reset(&self) {
        *self.lock() = State::default();
    }
}
