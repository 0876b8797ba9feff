//! The demo catalog: a deterministic, realistic Indonesian seller's catalog (titles as
//! sellers write them, whole-rupiah prices, a third with variants, 3–6 images each).

use app::domain::Rupiah;

use super::images::demo_path;
use super::{NewProduct, NewVariant};

pub const DEMO_COUNT: usize = 4_147;

/// SplitMix64: tiny, fast and stable across versions, so the demo catalog never changes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

struct Category {
    code: &'static str,
    name: &'static str,
    nouns: &'static [&'static str],
    details: &'static [&'static str],
    price: (i64, i64),
    weight_g: (i64, i64),
    tiers: &'static [(&'static str, &'static [&'static str])],
}

const COLORS: &[&str] = &[
    "Hitam",
    "Putih",
    "Navy",
    "Abu Misty",
    "Maroon",
    "Sage",
    "Mocca",
    "Dusty Pink",
    "Army",
];
const SIZES: &[&str] = &["S", "M", "L", "XL", "XXL"];

const CATEGORIES: &[Category] = &[
    Category {
        code: "FSH",
        name: "Fashion",
        nouns: &[
            "Kaos Polos",
            "Kemeja Flanel",
            "Celana Chino",
            "Hoodie Jumper",
            "Rok Plisket",
            "Gamis Syari",
            "Jaket Bomber",
            "Kaos Kaki",
            "Celana Kulot",
            "Kemeja Linen",
        ],
        details: &[
            "Cotton Combed 30s",
            "Bahan Premium",
            "Unisex",
            "Lengan Pendek",
            "Lengan Panjang",
            "Slim Fit",
            "Oversize",
            "Pria Wanita",
            "Polos Basic",
            "Adem Nyaman",
            "Bahan Tebal",
            "Jahitan Rapi",
        ],
        price: (25_000, 350_000),
        weight_g: (150, 900),
        tiers: &[("Warna", COLORS), ("Ukuran", SIZES)],
    },
    Category {
        code: "HOM",
        name: "Rumah Tangga",
        nouns: &[
            "Rak Piring Stainless",
            "Keranjang Lipat",
            "Sapu Lantai",
            "Tempat Bumbu Dapur",
            "Kotak Penyimpanan",
            "Gantungan Baju",
            "Set Pisau Dapur",
            "Botol Minum",
            "Lap Microfiber",
            "Tempat Sampah Injak",
        ],
        details: &[
            "Anti Karat",
            "Serbaguna",
            "2 Susun",
            "Tebal Kuat",
            "Bisa Dilipat",
            "Multifungsi",
            "BPA Free",
            "1 Liter",
            "Minimalis",
            "Hemat Tempat",
            "Mudah Dibersihkan",
        ],
        price: (10_000, 750_000),
        weight_g: (100, 5_000),
        tiers: &[("Warna", &["Putih", "Abu", "Hijau Mint", "Biru", "Krem"])],
    },
    Category {
        code: "BTY",
        name: "Kecantikan",
        nouns: &[
            "Serum Wajah Niacinamide",
            "Sabun Cuci Muka",
            "Lip Tint",
            "Sunscreen Gel",
            "Masker Wajah Clay",
            "Body Lotion",
            "Toner Wajah",
            "Micellar Water",
            "Hair Oil",
        ],
        details: &[
            "10%",
            "SPF 50 PA++++",
            "Brightening",
            "Untuk Kulit Berminyak",
            "30ml",
            "100ml",
            "Tahan Lama",
            "Travel Size",
            "BPOM",
            "Ringan Tidak Lengket",
            "Kulit Sensitif",
        ],
        price: (15_000, 450_000),
        weight_g: (50, 600),
        tiers: &[("Varian", &["30ml", "50ml", "100ml", "200ml"])],
    },
    Category {
        code: "GDG",
        name: "Aksesoris Gadget",
        nouns: &[
            "Case HP Silikon",
            "Kabel Data Type C",
            "Charger Fast Charging",
            "Tempered Glass",
            "Holder HP Mobil",
            "Powerbank",
            "Earphone Bluetooth",
            "Tripod HP",
            "Ring Light",
            "Stand Laptop",
        ],
        details: &[
            "Fast Charging 3A",
            "1 Meter",
            "20W",
            "Anti Gores",
            "10000mAh",
            "TWS",
            "Universal",
            "Magnetic",
            "Garansi 1 Tahun",
            "Portable",
            "Aluminium",
        ],
        price: (5_000, 2_500_000),
        weight_g: (50, 1_500),
        tiers: &[
            ("Warna", &["Hitam", "Putih", "Biru", "Merah"]),
            ("Tipe", &["Standar", "Pro"]),
        ],
    },
    Category {
        code: "FOD",
        name: "Makanan",
        nouns: &[
            "Keripik Singkong Pedas",
            "Kopi Bubuk Robusta",
            "Sambal Bawang",
            "Madu Hutan",
            "Kacang Mete Panggang",
            "Granola Oat",
            "Teh Hijau Celup",
            "Abon Sapi",
            "Kerupuk Ikan",
        ],
        details: &[
            "250gr",
            "500gr",
            "1kg",
            "Level 5",
            "Tanpa Pengawet",
            "Kemasan Pouch",
            "Oleh Oleh Khas Bandung",
            "Renyah Gurih",
            "Halal",
            "Home Made",
            "Siap Saji",
        ],
        price: (5_000, 300_000),
        weight_g: (100, 2_000),
        tiers: &[("Ukuran", &["250gr", "500gr", "1kg"])],
    },
];

/// `count` demo products; the same count always gives the same catalog.
pub fn demo_catalog(count: usize, public_url: &str) -> Vec<NewProduct> {
    let mut rng = Rng(0x5EED_CA7A_1060);
    (0..count)
        .map(|i| demo_product(&mut rng, i, public_url))
        .collect()
}

fn demo_product(rng: &mut Rng, i: usize, public_url: &str) -> NewProduct {
    let category = &CATEGORIES[i % CATEGORIES.len()];
    let sku = format!("{}-{:05}", category.code, i + 1);
    let title = demo_title(rng, category);
    let base_price = round_price(rng.range(category.price.0, category.price.1));
    let image_count = 3 + rng.below(4) as u32;
    let images = (1..=image_count)
        .map(|n| format!("{public_url}{}", demo_path(&sku, n)))
        .collect();
    let (tier_names, variants) = if rng.below(3) == 0 {
        demo_variants(rng, category, &sku, base_price)
    } else {
        (Vec::new(), Vec::new())
    };
    let stock = if variants.is_empty() {
        rng.range(0, 500) as i32
    } else {
        variants.iter().map(|v| v.stock).sum()
    };
    let base_price = variants
        .iter()
        .map(|v| v.base_price)
        .min()
        .unwrap_or(base_price);
    let dimensions_cm = (rng.below(2) == 0).then(|| {
        [
            rng.range(5, 60) as i32,
            rng.range(5, 40) as i32,
            rng.range(1, 30) as i32,
        ]
    });
    NewProduct {
        description: format!(
            "{title}.\n\nProduk {} pilihan, dikirim dari gudang kami di Bandung. Cek ukuran dan varian sebelum membeli.\nSKU: {sku}",
            category.name.to_lowercase()
        ),
        sku,
        title,
        category: category.name.to_string(),
        base_price,
        weight_g: rng.range(category.weight_g.0, category.weight_g.1) as i32,
        dimensions_cm,
        stock,
        images,
        tier_names,
        variants,
    }
}

/// "Kaos Polos Cotton Combed 30s Unisex Lengan Pendek": the noun first, then details,
/// 30–120 characters.
fn demo_title(rng: &mut Rng, category: &Category) -> String {
    let mut title = rng.pick(category.nouns).to_string();
    let wanted = 2 + rng.below(4);
    let mut used = Vec::new();
    while used.len() < wanted || title.chars().count() < 30 {
        let detail = rng.pick(category.details);
        if used.contains(&detail) {
            if used.len() >= category.details.len() {
                break;
            }
            continue;
        }
        if title.chars().count() + 1 + detail.chars().count() > 120 {
            break;
        }
        used.push(detail);
        title.push(' ');
        title.push_str(detail);
    }
    title
}

fn demo_variants(
    rng: &mut Rng,
    category: &Category,
    sku: &str,
    base: Rupiah,
) -> (Vec<String>, Vec<NewVariant>) {
    let tiers = &category.tiers[..category.tiers.len().min(1 + rng.below(2))];
    let picks: Vec<Vec<&str>> = tiers
        .iter()
        .map(|(_, options)| {
            let n = (2 + rng.below(3)).min(options.len());
            let start = rng.below(options.len());
            (0..n)
                .map(|k| options[(start + k) % options.len()])
                .collect()
        })
        .collect();
    let mut combos: Vec<Vec<&str>> = vec![Vec::new()];
    for options in &picks {
        combos = combos
            .into_iter()
            .flat_map(|c| options.iter().map(move |o| [c.clone(), vec![*o]].concat()))
            .collect();
    }
    let variants = combos
        .into_iter()
        .enumerate()
        .map(|(k, options)| NewVariant {
            sku: format!("{sku}-{:02}", k + 1),
            options: options.into_iter().map(str::to_string).collect(),
            base_price: round_price(base.0 + (k as i64 % 3) * base.0 / 10),
            stock: rng.range(0, 200) as i32,
        })
        .collect();
    (
        tiers.iter().map(|(name, _)| name.to_string()).collect(),
        variants,
    )
}

/// Sellers price in steps of Rp 500 (Rp 1.000 above Rp 100.000).
fn round_price(p: i64) -> Rupiah {
    let step = if p >= 100_000 { 1_000 } else { 500 };
    Rupiah(((p / step).max(1) * step).clamp(5_000, 2_500_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_catalog_is_deterministic_and_realistic() {
        let a = demo_catalog(DEMO_COUNT, "http://localhost:3000");
        assert_eq!(a.len(), DEMO_COUNT);
        assert_eq!(a, demo_catalog(DEMO_COUNT, "http://localhost:3000"));
        let with_variants = a.iter().filter(|p| !p.variants.is_empty()).count();
        assert!(
            (DEMO_COUNT / 4..DEMO_COUNT * 2 / 5).contains(&with_variants),
            "{with_variants}"
        );
        let mut skus = std::collections::HashSet::new();
        for p in &a {
            let len = p.title.chars().count();
            assert!((30..=120).contains(&len), "{len}: {}", p.title);
            assert!((5_000..=2_500_000).contains(&p.base_price.0));
            assert!((3..=6).contains(&p.images.len()));
            assert!(p.tier_names.len() <= 2 && p.variants.len() <= 50);
            assert!(skus.insert(p.sku.clone()));
            for v in &p.variants {
                assert!(skus.insert(v.sku.clone()));
                assert_eq!(v.options.len(), p.tier_names.len());
            }
        }
    }

    #[test]
    fn every_demo_title_gets_in_band_seo_titles_on_both_platforms() {
        use app::api::Platform;
        use app::domain::similarity::normalize;
        use app::domain::{seo_title, similarity, TitleLimits, SIMILARITY_BAND};
        let catalog = demo_catalog(DEMO_COUNT, "http://localhost:3000");
        let mut in_band = 0;
        for p in &catalog {
            let shopee = seo_title(
                &p.title,
                &p.category,
                Platform::Shopee,
                TitleLimits::SHOPEE_DEFAULT,
            );
            let tiktok = seo_title(&p.title, &p.category, Platform::Tiktok, TitleLimits::TIKTOK);
            if let (Ok(s), Ok(t)) = (shopee, tiktok) {
                let ok = SIMILARITY_BAND.contains(&similarity(&p.title, &s))
                    && SIMILARITY_BAND.contains(&similarity(&p.title, &t))
                    && normalize(&s) != normalize(&t);
                in_band += usize::from(ok);
            }
        }
        println!("SEO titles in band on both platforms: {in_band}/{DEMO_COUNT}");
        assert_eq!(in_band, DEMO_COUNT);
    }
}
