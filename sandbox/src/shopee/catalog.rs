//! The reference data a shop sees: categories, attributes, brands, limits, logistics.

use serde_json::{json, Value};

pub struct Category {
    pub id: u64,
    pub parent: u64,
    pub name: &'static str,
    pub leaf: bool,
}

pub const CATEGORIES: &[Category] = &[
    Category {
        id: 100_001,
        parent: 0,
        name: "Pakaian",
        leaf: false,
    },
    Category {
        id: 100_011,
        parent: 100_001,
        name: "Atasan",
        leaf: true,
    },
    Category {
        id: 100_012,
        parent: 100_001,
        name: "Bawahan",
        leaf: true,
    },
    Category {
        id: 100_002,
        parent: 0,
        name: "Perlengkapan Rumah",
        leaf: false,
    },
    Category {
        id: 100_021,
        parent: 100_002,
        name: "Peralatan Dapur",
        leaf: true,
    },
    Category {
        id: 100_003,
        parent: 0,
        name: "Perawatan & Kecantikan",
        leaf: false,
    },
    Category {
        id: 100_031,
        parent: 100_003,
        name: "Perawatan Wajah",
        leaf: true,
    },
    Category {
        id: 100_004,
        parent: 0,
        name: "Handphone & Aksesoris",
        leaf: false,
    },
    Category {
        id: 100_041,
        parent: 100_004,
        name: "Aksesoris Handphone",
        leaf: true,
    },
    Category {
        id: 100_005,
        parent: 0,
        name: "Makanan & Minuman",
        leaf: false,
    },
    Category {
        id: 100_051,
        parent: 100_005,
        name: "Makanan Ringan",
        leaf: true,
    },
];

/// Every leaf category in the sandbox requires a brand attribute ("Merek"), as many
/// Indonesian categories do; "Tidak Ada Merek" is the honest value for unbranded goods.
pub const BRAND_ATTRIBUTE_ID: u64 = 100_900;
/// "Bahan" (material): mandatory in Bawahan, with no value that claims nothing, so the
/// seller must choose one.
pub const MATERIAL_ATTRIBUTE_ID: u64 = 100_901;
pub const MATERIAL_CATEGORY_ID: u64 = 100_012;
pub const LOGISTICS_CHANNEL_ID: u64 = 80_014;
pub const DISABLED_CHANNEL_ID: u64 = 80_099;
pub const BRANDS: &[(u64, &str)] = &[(1_101, "Sandbox Brand")];

pub const NAME_LIMIT: (usize, usize) = (20, 120);
pub const DESCRIPTION_LIMIT: (usize, usize) = (20, 3_000);
pub const PRICE_LIMIT: (f64, f64) = (100.0, 1_000_000_000.0);
pub const IMAGE_LIMIT: (usize, usize) = (1, 9);
pub const MAX_MODELS: usize = 50;
pub const MAX_TIERS: usize = 2;

pub fn category(id: u64) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.id == id)
}

pub fn category_list() -> Value {
    json!({
        "category_list": CATEGORIES.iter().map(|c| json!({
            "category_id": c.id,
            "parent_category_id": c.parent,
            "original_category_name": c.name,
            "display_category_name": c.name,
            "has_children": !c.leaf,
        })).collect::<Vec<_>>(),
    })
}

pub fn attribute_tree(category_ids: &[u64]) -> Value {
    json!({
        "list": category_ids.iter().map(|id| {
            let mut tree = vec![json!({
                "attribute_id": BRAND_ATTRIBUTE_ID,
                "mandatory": true,
                "name": "Merek",
                "attribute_value_list": [
                    {"value_id": 1, "name": "Tidak Ada Merek", "value_unit": ""},
                    {"value_id": 2, "name": "Sandbox Brand", "value_unit": ""},
                ],
                "attribute_info": {"input_type": 1, "input_validation_type": 0, "format_type": 1, "max_value_count": 1, "support_search_value": false},
            })];
            if *id == MATERIAL_CATEGORY_ID {
                tree.push(json!({
                    "attribute_id": MATERIAL_ATTRIBUTE_ID,
                    "mandatory": true,
                    "name": "Bahan",
                    "attribute_value_list": [
                        {"value_id": 11, "name": "Katun", "value_unit": ""},
                        {"value_id": 12, "name": "Denim", "value_unit": ""},
                    ],
                    "attribute_info": {"input_type": 1, "input_validation_type": 0, "format_type": 1, "max_value_count": 1, "support_search_value": false},
                }));
            }
            json!({"category_id": id, "attribute_tree": tree})
        }).collect::<Vec<_>>(),
    })
}

pub fn brand_list() -> Value {
    json!({
        "brand_list": BRANDS.iter().map(|(id, name)| json!({
            "brand_id": id, "original_brand_name": name, "display_brand_name": name,
        })).collect::<Vec<_>>(),
        "has_next_page": false,
        "next_offset": 0,
        "is_mandatory": false,
        "input_type": "DROP_DOWN",
    })
}

pub fn item_limit() -> Value {
    let limit = |(min, max): (usize, usize)| json!({"min_limit": min, "max_limit": max});
    json!({
        "price_limit": {"min_limit": PRICE_LIMIT.0, "max_limit": PRICE_LIMIT.1},
        "stock_limit": {"min_limit": 0, "max_limit": 999_999},
        "item_name_length_limit": limit(NAME_LIMIT),
        "item_description_length_limit": limit(DESCRIPTION_LIMIT),
        "item_image_count_limit": limit(IMAGE_LIMIT),
        "tier_variation_name_length_limit": limit((1, 14)),
        "tier_variation_option_length_limit": limit((1, 30)),
        "item_count_limit": {"max_limit": 10_000},
        "wholesale_price_threshold_percentage": {"min_limit": 1, "max_limit": 50},
        "dts_limit": {"days_to_ship_limit": {"min_limit": 1, "max_limit": 3}, "non_pre_order_days_to_ship": 2},
        "weight_limit": {"weight_mandatory": true},
        "dimension_limit": {"dimension_mandatory": false},
        "size_chart_limit": {"size_chart_mandatory": false},
        "gtin_limit": {"gtin_validation_rule": "Flexible"},
    })
}

pub fn channel_list() -> Value {
    let channel = |id: u64, name: &str, enabled: bool| {
        json!({
            "logistics_channel_id": id,
            "logistics_channel_name": name,
            "cod_enabled": true,
            "enabled": enabled,
            "fee_type": "SIZE_INPUT",
            "size_list": [],
            "weight_limit": {"item_max_weight": 50.0, "item_min_weight": 0.01},
            "item_max_dimension": {"height": 150, "width": 150, "length": 150, "unit": "cm", "dimension_sum": 0},
            "volume_limit": {"item_max_volume": 0, "item_min_volume": 0},
            "logistics_description": "",
            "force_enable": false,
            "mask_channel_id": 0,
        })
    };
    json!({"logistics_channel_list": [
        channel(LOGISTICS_CHANNEL_ID, "Reguler (Cashless)", true),
        channel(DISABLED_CHANNEL_ID, "Kargo", false),
    ]})
}
