//! TikTok Shop endpoints: shops, categories, warehouses, images and products.

use axum::body::Bytes;
use axum::extract::{Multipart, OriginalUri, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::model::{TiktokProduct, TiktokSku, WAREHOUSE_ID};
use super::{handle, now_millis, now_secs, Call, Cipher, TiktokError};
use crate::store::{Sandbox, StoredImage, TiktokState};

type Params = Vec<(String, String)>;

/// Leaf categories: one per master category SyncStore's demo uses.
const CATEGORIES: &[(&str, &str, &str, bool)] = &[
    ("600001", "0", "Fashion Wanita & Pria", false),
    ("600011", "600001", "Kaos & Atasan", true),
    ("600002", "0", "Rumah Tangga", false),
    ("600021", "600002", "Peralatan Dapur", true),
    ("600003", "0", "Kecantikan & Perawatan", false),
    ("600031", "600003", "Perawatan Wajah", true),
    ("600004", "0", "Aksesoris Handphone", false),
    ("600041", "600004", "Kabel & Charger", true),
    ("600005", "0", "Makanan & Minuman", false),
    ("600051", "600005", "Camilan", true),
];
const PRICE_RANGE: (f64, f64) = (100.0, 100_000_000.0);
const PLATFORMS: [&str; 2] = ["TIKTOK_SHOP", "TOKOPEDIA"];

fn body_json(body: &[u8]) -> Result<Value, TiktokError> {
    serde_json::from_slice(body)
        .map_err(|e| TiktokError::product(11_050_001, format!("Invalid request body: {e}")))
}

pub async fn authorized_shops(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> Response {
    let call = Call {
        path: "/authorization/202309/shops",
        params: &p,
        headers: &headers,
        body: Some(&[]),
        cipher: Cipher::Rejected,
    };
    handle(&sb, call, |_, sb| {
        Ok(json!({"shops": [{
            "id": "7494000000000000001", "name": "Toko Sandbox", "region": "ID",
            "seller_type": "LOCAL", "cipher": sb.config.tiktok.shop_cipher, "code": "IDSANDBOX01",
        }]}))
    })
    .await
}

pub async fn categories(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> Response {
    let call = Call {
        path: "/product/202309/categories",
        params: &p,
        headers: &headers,
        body: Some(&[]),
        cipher: Cipher::Required,
    };
    handle(&sb, call, |_, _| {
        Ok(json!({"categories": CATEGORIES.iter().map(|(id, parent, name, leaf)| json!({
            "id": id, "parent_id": parent, "local_name": name, "is_leaf": leaf, "permission_statuses": ["AVAILABLE"],
        })).collect::<Vec<_>>()}))
    })
    .await
}

pub async fn attributes(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(p): Query<Params>,
) -> Response {
    let path = format!("/product/202309/categories/{id}/attributes");
    let call = Call {
        path: &path,
        params: &p,
        headers: &headers,
        body: Some(&[]),
        cipher: Cipher::Required,
    };
    handle(&sb, call, |_, _| {
        Ok(json!({"attributes": [
            {"id": "100089", "name": "Warna", "type": "SALES_PROPERTY", "is_requried": false, "values": [], "is_customizable": true, "is_multiple_selection": false, "requirement_conditions": []},
            {"id": "100392", "name": "Negara Asal", "type": "PRODUCT_PROPERTY", "is_requried": false, "values": [{"id": "1001533", "name": "Indonesia"}], "is_customizable": true, "is_multiple_selection": false, "requirement_conditions": []},
        ]}))
    })
    .await
}

pub async fn warehouses(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> Response {
    let call = Call {
        path: "/logistics/202309/warehouses",
        params: &p,
        headers: &headers,
        body: Some(&[]),
        cipher: Cipher::Required,
    };
    handle(&sb, call, |_, _| {
        Ok(json!({"warehouses": [{
            "id": WAREHOUSE_ID, "name": "Gudang Bandung", "effect_status": "ENABLED", "type": "SALES_WAREHOUSE",
            "sub_type": "DOMESTIC_WAREHOUSE", "is_default": true,
            "address": {"region": "ID", "city": "Bandung", "full_address": "Jl. Sandbox 1, Bandung"},
        }]}))
    })
    .await
}

pub async fn upload_image(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Query(p): Query<Params>,
    mut multipart: Multipart,
) -> Response {
    let (mut data, mut use_case) = (None, None);
    while let Ok(Some(field)) = multipart.next_field().await {
        match field.name() {
            Some("data") => data = field.bytes().await.ok(),
            Some("use_case") => use_case = field.text().await.ok(),
            _ => {}
        }
    }
    let base = sb.config.public_url.clone();
    let call = Call {
        path: "/product/202309/images/upload",
        params: &p,
        headers: &headers,
        body: None,
        cipher: Cipher::Rejected,
    };
    handle(&sb, call, move |state, _| {
        let bytes = data.ok_or_else(|| TiktokError::product(11_050_001, "upload file is invalid: the data part is missing"))?;
        if bytes.len() > 10 * 1024 * 1024 {
            return Err(TiktokError::product(36_009_021, "file is too large"));
        }
        let kind = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            "image/png"
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            "image/jpeg"
        } else {
            return Err(TiktokError::product(11_050_001, "upload file is invalid: not a JPG or PNG image"));
        };
        let uri = format!("tos-alisg-i-sandbox-sg/{}", hex::encode(rand::random::<[u8; 12]>()));
        state.images.insert(uri.clone(), StoredImage { bytes: bytes.to_vec(), content_type: kind });
        Ok(json!({
            "uri": uri, "url": format!("{base}/tiktok-media/{}", urlencoding_path(&uri)),
            "width": 320, "height": 320, "use_case": use_case.unwrap_or_else(|| "MAIN_IMAGE".into()),
        }))
    })
    .await
}

/// Image URIs contain `/`; in our URL they travel as one path segment.
fn urlencoding_path(uri: &str) -> String {
    uri.replace('/', "~")
}

pub async fn serve_image(State(sb): State<Sandbox>, Path(uri): Path<String>) -> Response {
    let state = sb.lock();
    match state.tiktok.images.get(&uri.replace('~', "/")) {
        Some(img) => (
            [(header::CONTENT_TYPE, img.content_type)],
            img.bytes.clone(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such image").into_response(),
    }
}

fn parse_skus(state: &mut TiktokState, body: &Value) -> Result<Vec<TiktokSku>, TiktokError> {
    let skus = body["skus"]
        .as_array()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| TiktokError::product(12_052_486, "skus are required"))?;
    if skus.len() > 100 {
        return Err(TiktokError::product(
            12_052_050,
            "A product can have at most 100 SKUs",
        ));
    }
    let attr_types = |s: &Value| -> Vec<String> {
        let mut t: Vec<String> = s["sales_attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                a["id"]
                    .as_str()
                    .or(a["name"].as_str())
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        t.sort();
        t
    };
    let first_types = attr_types(&skus[0]);
    if first_types.len() > 3 {
        return Err(TiktokError::product(
            12_052_050,
            "At most 3 sales attribute types",
        ));
    }
    let mut out = Vec::new();
    for s in skus {
        if attr_types(s) != first_types {
            return Err(TiktokError::product(
                12_052_050,
                "Every SKU must carry the same sales attribute types",
            ));
        }
        let seller_sku = s["seller_sku"].as_str().unwrap_or_default();
        if seller_sku.is_empty() || seller_sku.chars().count() > 50 || seller_sku.contains(' ') {
            return Err(TiktokError::product(
                12_052_571,
                "seller_sku must be 1-50 characters without spaces",
            ));
        }
        let amount = s["price"]["amount"].as_str().ok_or_else(|| {
            TiktokError::product(12_052_571, "price.amount is required (a string)")
        })?;
        if s["price"]["currency"].as_str() != Some("IDR") {
            return Err(TiktokError::product(
                12_052_084,
                "currency is not valid for this shop",
            ));
        }
        match amount.parse::<f64>() {
            Ok(v) if (PRICE_RANGE.0..=PRICE_RANGE.1).contains(&v) && v.fract() == 0.0 => {}
            _ => {
                return Err(TiktokError::product(
                    12_052_073,
                    format!("price {amount:?} is invalid or out of range"),
                ))
            }
        }
        let inventory = s["inventory"]
            .as_array()
            .filter(|i| !i.is_empty())
            .ok_or_else(|| TiktokError::product(12_052_486, "inventory is required"))?;
        if inventory
            .iter()
            .any(|i| i["warehouse_id"].as_str() != Some(WAREHOUSE_ID))
        {
            return Err(TiktokError::product(
                12_019_022,
                "SKU lacks a valid warehouse",
            ));
        }
        let quantity: i64 = inventory
            .iter()
            .filter_map(|i| i["quantity"].as_i64())
            .sum();
        out.push(TiktokSku {
            id: state.next_id(),
            seller_sku: seller_sku.to_string(),
            sales_attributes: s["sales_attributes"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
            price: amount.to_string(),
            quantity,
        });
    }
    Ok(out)
}

fn validate_product(state: &TiktokState, body: &Value) -> Result<(), TiktokError> {
    let title = body["title"].as_str().unwrap_or_default();
    let len = title.chars().count();
    if !(25..=255).contains(&len) {
        return Err(TiktokError::product(
            12_052_051,
            format!("title must be 25-255 characters, got {len}"),
        ));
    }
    let description = body["description"].as_str().unwrap_or_default();
    if description.is_empty() || description.chars().count() > 10_000 {
        return Err(TiktokError::product(
            12_052_013,
            "description must be 1-10000 characters",
        ));
    }
    let category = body["category_id"].as_str().unwrap_or_default();
    if !CATEGORIES
        .iter()
        .any(|(id, _, _, leaf)| *id == category && *leaf)
    {
        return Err(TiktokError::product(
            12_052_024,
            "category is not a leaf category",
        ));
    }
    let images = body["main_images"].as_array().cloned().unwrap_or_default();
    if images.is_empty() {
        return Err(TiktokError::product(12_052_028, "main image is required"));
    }
    if images.len() > 9 {
        return Err(TiktokError::product(12_052_306, "at most 9 main images"));
    }
    if images.iter().any(|i| {
        i["uri"]
            .as_str()
            .is_none_or(|u| !state.images.contains_key(u))
    }) {
        return Err(TiktokError::product(
            12_052_300,
            "main image uri is invalid",
        ));
    }
    let weight = &body["package_weight"];
    if weight["unit"].as_str() != Some("KILOGRAM") {
        return Err(TiktokError::product(
            12_019_061,
            "package_weight.unit must be KILOGRAM",
        ));
    }
    if weight["value"]
        .as_str()
        .and_then(|v| v.parse::<f64>().ok())
        .is_none_or(|v| v <= 0.0)
    {
        return Err(TiktokError::product(
            12_052_181,
            "package weight must be more than zero",
        ));
    }
    if let Some(platforms) = body["listing_platforms"].as_array() {
        if platforms.is_empty()
            || platforms
                .iter()
                .any(|p| p.as_str().is_none_or(|p| !PLATFORMS.contains(&p)))
        {
            return Err(TiktokError::product(
                12_052_330,
                "product is not supported to list in designated sale platform",
            ));
        }
    }
    Ok(())
}

fn created_response(p: &TiktokProduct) -> Value {
    json!({
        "product_id": p.id,
        "skus": p.skus.iter().map(|s| json!({"id": s.id, "seller_sku": s.seller_sku, "sales_attributes": s.sales_attributes, "external_sku_id": ""})).collect::<Vec<_>>(),
        "warnings": [],
    })
}

pub async fn create(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Query(p): Query<Params>,
    body: Bytes,
) -> Response {
    let call = Call {
        path: "/product/202309/products",
        params: &p,
        headers: &headers,
        body: Some(&body),
        cipher: Cipher::Required,
    };
    handle(&sb, call, |state, sb| {
        let body = body_json(&body)?;
        // A retried create with the same key gets the product the first one made.
        let key = body["idempotency_key"].as_str().map(str::to_string);
        if let Some(existing) = key
            .as_ref()
            .and_then(|k| state.idempotency.get(k))
            .and_then(|id| state.products.get(id))
        {
            return Ok(created_response(existing));
        }
        validate_product(state, &body)?;
        let skus = parse_skus(state, &body)?;
        let id = state.next_id();
        let now = now_secs();
        let product = TiktokProduct {
            id: id.clone(),
            title: body["title"].as_str().unwrap_or_default().to_string(),
            description: body["description"].as_str().unwrap_or_default().to_string(),
            category_id: body["category_id"].as_str().unwrap_or_default().to_string(),
            main_images: body["main_images"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["uri"].as_str().map(str::to_string))
                .collect(),
            skus,
            package_weight: body["package_weight"].clone(),
            package_dimensions: body.get("package_dimensions").cloned().unwrap_or(json!({})),
            product_attributes: body.get("product_attributes").cloned().unwrap_or(json!([])),
            listing_platforms: body["listing_platforms"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(|p| p.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_else(|| vec!["TIKTOK_SHOP".to_string()]),
            deactivated: false,
            frozen: false,
            audit_ends_ms: now_millis() + u128::from(sb.config.tiktok_audit_ms),
            create_time: now,
            update_time: now,
        };
        let response = created_response(&product);
        if let Some(k) = key {
            state.idempotency.insert(k, id.clone());
        }
        state.products.insert(id, product);
        Ok(response)
    })
    .await
}

/// The public reference says a frozen product cannot be deleted but names no code; this is
/// the sandbox's.
const FROZEN_NOT_DELETABLE: u64 = 12_052_232;

/// `POST /_sandbox/tiktok/freeze` `{"product_id"}`: the platform freezes a product, as a
/// policy hold would, so a test can see a delete refused.
pub async fn freeze(State(sb): State<Sandbox>, body: Bytes) -> Response {
    let id = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|b| b["product_id"].as_str().map(str::to_string));
    let mut state = sb.lock();
    match id.and_then(|id| state.tiktok.products.get_mut(&id)) {
        Some(product) => {
            product.frozen = true;
            axum::Json(json!({"ok": true})).into_response()
        }
        None => (
            axum::http::StatusCode::NOT_FOUND,
            axum::Json(json!({"error": "no such product"})),
        )
            .into_response(),
    }
}

fn product_not_found(id: &str) -> TiktokError {
    // The public reference names no code for an unknown id; 12052700 is the sandbox's.
    TiktokError::product(12_052_700, format!("product {id} does not exist"))
}

pub async fn get_product(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(p): Query<Params>,
) -> Response {
    let path = format!("/product/202309/products/{id}");
    let base = sb.config.public_url.clone();
    let call = Call {
        path: &path,
        params: &p,
        headers: &headers,
        body: Some(&[]),
        cipher: Cipher::Required,
    };
    handle(&sb, call, |state, _| {
        let product = state
            .products
            .get(&id)
            .ok_or_else(|| product_not_found(&id))?;
        Ok(product.detail(
            |uri| format!("{base}/tiktok-media/{}", urlencoding_path(uri)),
            now_millis(),
        ))
    })
    .await
}

pub async fn search_202309(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Query(p): Query<Params>,
    body: Bytes,
) -> Response {
    search(sb, headers, p, body, "/product/202309/products/search").await
}

pub async fn search_202312(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Query(p): Query<Params>,
    body: Bytes,
) -> Response {
    search(sb, headers, p, body, "/product/202312/products/search").await
}

pub async fn search_202502(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Query(p): Query<Params>,
    body: Bytes,
) -> Response {
    search(sb, headers, p, body, "/product/202502/products/search").await
}

async fn search(sb: Sandbox, headers: HeaderMap, p: Params, body: Bytes, path: &str) -> Response {
    let page_size: Option<usize> = p
        .iter()
        .find(|(k, _)| k == "page_size")
        .and_then(|(_, v)| v.parse().ok());
    let call = Call {
        path,
        params: &p,
        headers: &headers,
        body: Some(&body),
        cipher: Cipher::Required,
    };
    handle(&sb, call, |state, _| {
        let page_size = page_size.filter(|s| (1..=100).contains(s))
            .ok_or_else(|| TiktokError::product(36_009_004, "page_size is required (1-100)"))?;
        let filter = if body.is_empty() { json!({}) } else { body_json(&body)? };
        let skus: Vec<&str> = filter["seller_skus"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let now = now_millis();
        let matching: Vec<Value> = state.products.values()
            .filter(|p| skus.is_empty() || p.skus.iter().any(|s| skus.contains(&s.seller_sku.as_str())))
            .filter(|p| filter["status"].as_str().is_none_or(|s| s == "ALL" || s == p.status(now)))
            .map(|p| p.summary(now))
            .collect();
        let total = matching.len();
        Ok(json!({"products": matching.into_iter().take(page_size).collect::<Vec<_>>(), "total_count": total, "next_page_token": ""}))
    })
    .await
}

pub async fn update_prices(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(p): Query<Params>,
    body: Bytes,
) -> Response {
    let path = format!("/product/202309/products/{id}/prices/update");
    let call = Call {
        path: &path,
        params: &p,
        headers: &headers,
        body: Some(&body),
        cipher: Cipher::Required,
    };
    handle(&sb, call, |state, _| {
        let body = body_json(&body)?;
        let product = state
            .products
            .get_mut(&id)
            .ok_or_else(|| product_not_found(&id))?;
        let updates = body["skus"]
            .as_array()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| TiktokError::product(12_052_571, "skus are required"))?;
        for u in updates {
            let sku_id = u["id"].as_str().unwrap_or_default();
            let amount = u["price"]["amount"].as_str().unwrap_or_default();
            if !amount
                .parse::<f64>()
                .is_ok_and(|v| (PRICE_RANGE.0..=PRICE_RANGE.1).contains(&v) && v.fract() == 0.0)
            {
                return Err(TiktokError::product(
                    12_052_073,
                    format!("price {amount:?} is invalid or out of range"),
                ));
            }
            let sku = product
                .skus
                .iter_mut()
                .find(|s| s.id == sku_id)
                .ok_or_else(|| {
                    TiktokError::product(
                        12_052_571,
                        format!("SKU {sku_id} does not belong to this product"),
                    )
                })?;
            sku.price = amount.to_string();
        }
        product.update_time = now_secs();
        Ok(json!({}))
    })
    .await
}

fn product_ids(body: &Value) -> Result<Vec<String>, TiktokError> {
    let ids: Vec<String> = body["product_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    if ids.is_empty() || ids.len() > 20 {
        return Err(TiktokError::product(
            36_009_004,
            "product_ids takes 1 to 20 ids",
        ));
    }
    Ok(ids)
}

fn batch(
    state: &mut TiktokState,
    ids: &[String],
    mut op: impl FnMut(&mut TiktokState, &str),
) -> Value {
    let mut errors = Vec::new();
    for id in ids {
        if state.products.contains_key(id) {
            op(state, id);
        } else {
            errors.push(json!({"code": 12_052_700, "message": "product does not exist", "detail": {"product_id": id}}));
        }
    }
    json!({"errors": errors})
}

pub async fn delete_products(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Query(p): Query<Params>,
    body: Bytes,
) -> Response {
    let call = Call {
        path: "/product/202309/products",
        params: &p,
        headers: &headers,
        body: Some(&body),
        cipher: Cipher::Required,
    };
    handle(&sb, call, |state, _| {
        let ids = product_ids(&body_json(&body)?)?;
        let frozen: Vec<String> = ids
            .iter()
            .filter(|id| state.products.get(*id).is_some_and(|p| p.frozen))
            .cloned()
            .collect();
        let mut answer = batch(state, &ids, |state, id| {
            if state.products.get(id).is_some_and(|p| !p.frozen) {
                state.products.remove(id);
                state.idempotency.retain(|_, v| v != id);
            }
        });
        if let Some(errors) = answer["errors"].as_array_mut() {
            for id in frozen {
                errors.push(json!({"code": FROZEN_NOT_DELETABLE, "message": "a product frozen on a platform cannot be deleted", "detail": {"product_id": id}}));
            }
        }
        Ok(answer)
    })
    .await
}

async fn set_active(
    sb: Sandbox,
    headers: HeaderMap,
    p: Params,
    body: Bytes,
    path: &str,
    active: bool,
) -> Response {
    let call = Call {
        path,
        params: &p,
        headers: &headers,
        body: Some(&body),
        cipher: Cipher::Required,
    };
    let audit_ms = u128::from(sb.config.tiktok_audit_ms);
    handle(&sb, call, |state, _| {
        let ids = product_ids(&body_json(&body)?)?;
        Ok(batch(state, &ids, |state, id| {
            if let Some(p) = state.products.get_mut(id) {
                p.deactivated = !active;
                if active {
                    // Activating sends the product back to audit.
                    p.audit_ends_ms = now_millis() + audit_ms;
                }
                p.update_time = now_secs();
            }
        }))
    })
    .await
}

pub async fn activate(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Query(p): Query<Params>,
    body: Bytes,
) -> Response {
    set_active(
        sb,
        headers,
        p,
        body,
        "/product/202309/products/activate",
        true,
    )
    .await
}

pub async fn deactivate(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Query(p): Query<Params>,
    body: Bytes,
) -> Response {
    set_active(
        sb,
        headers,
        p,
        body,
        "/product/202309/products/deactivate",
        false,
    )
    .await
}

pub async fn brands(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> Response {
    let call = Call {
        path: "/product/202309/brands",
        params: &p,
        headers: &headers,
        body: Some(&[]),
        cipher: Cipher::Required,
    };
    let page_size: Option<usize> = p
        .iter()
        .find(|(k, _)| k == "page_size")
        .and_then(|(_, v)| v.parse().ok());
    handle(&sb, call, |_, _| {
        page_size.filter(|s| (1..=100).contains(s)).ok_or_else(|| TiktokError::product(36_009_004, "page_size is required (1-100)"))?;
        Ok(json!({"brands": [{"id": "7082427311584347905", "name": "Sandbox Brand", "authorized_status": "AUTHORIZED", "is_t1_brand": false, "brand_status": "AVAILABLE"}], "total_count": 1, "next_page_token": ""}))
    })
    .await
}

pub async fn category_rules(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(p): Query<Params>,
) -> Response {
    let path = format!("/product/202309/categories/{id}/rules");
    let call = Call {
        path: &path,
        params: &p,
        headers: &headers,
        body: Some(&[]),
        cipher: Cipher::Required,
    };
    handle(&sb, call, |_, _| {
        if !CATEGORIES.iter().any(|(c, _, _, leaf)| *c == id && *leaf) {
            return Err(TiktokError::product(
                12_052_024,
                "category is not a leaf category",
            ));
        }
        Ok(json!({
            "product_certifications": [],
            "size_chart": {"is_supported": false, "is_required": false},
            "cod": {"is_supported": false},
            "package_dimension": {"is_required": false},
            "allowed_special_product_types": [],
        }))
    })
    .await
}

/// The product as a create body, so edits can be validated with the create rules.
fn as_body(p: &TiktokProduct) -> Value {
    json!({
        "title": p.title, "description": p.description, "category_id": p.category_id,
        "main_images": p.main_images.iter().map(|u| json!({"uri": u})).collect::<Vec<_>>(),
        "skus": p.skus.iter().map(|s| json!({
            "id": s.id, "seller_sku": s.seller_sku, "sales_attributes": s.sales_attributes,
            "price": {"amount": s.price, "currency": "IDR"},
            "inventory": [{"warehouse_id": WAREHOUSE_ID, "quantity": s.quantity}],
        })).collect::<Vec<_>>(),
        "package_weight": p.package_weight, "package_dimensions": p.package_dimensions,
        "product_attributes": p.product_attributes, "listing_platforms": p.listing_platforms,
    })
}

/// Applies an edited body: validated like a create, SKU ids kept where the body names
/// them, and the product sent back to audit.
fn apply_edit(
    state: &mut TiktokState,
    id: &str,
    mut body: Value,
    audit_ms: u64,
) -> Result<Value, TiktokError> {
    let existing = state
        .products
        .get(id)
        .ok_or_else(|| product_not_found(id))?
        .clone();
    // Omitted price or inventory of a known SKU stays as it was.
    if let Some(skus) = body["skus"].as_array_mut() {
        for sku in skus {
            if let Some(old) = existing
                .skus
                .iter()
                .find(|s| Some(s.id.as_str()) == sku["id"].as_str())
            {
                if sku.get("price").is_none() {
                    sku["price"] = json!({"amount": old.price, "currency": "IDR"});
                }
                if sku.get("inventory").is_none() {
                    sku["inventory"] =
                        json!([{"warehouse_id": WAREHOUSE_ID, "quantity": old.quantity}]);
                }
            }
        }
    }
    validate_product(state, &body)?;
    let mut skus = parse_skus(state, &body)?;
    for (sku, given) in skus
        .iter_mut()
        .zip(body["skus"].as_array().into_iter().flatten())
    {
        if let Some(known) = given["id"]
            .as_str()
            .filter(|i| existing.skus.iter().any(|s| s.id == *i))
        {
            sku.id = known.to_string();
        }
    }
    let product = state
        .products
        .get_mut(id)
        .ok_or_else(|| product_not_found(id))?;
    product.title = body["title"].as_str().unwrap_or_default().to_string();
    product.description = body["description"].as_str().unwrap_or_default().to_string();
    product.category_id = body["category_id"].as_str().unwrap_or_default().to_string();
    product.main_images = body["main_images"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["uri"].as_str().map(str::to_string))
        .collect();
    product.skus = skus;
    product.package_weight = body["package_weight"].clone();
    product.package_dimensions = body.get("package_dimensions").cloned().unwrap_or(json!({}));
    product.product_attributes = body.get("product_attributes").cloned().unwrap_or(json!([]));
    if let Some(platforms) = body["listing_platforms"].as_array() {
        product.listing_platforms = platforms
            .iter()
            .filter_map(|p| p.as_str().map(str::to_string))
            .collect();
    }
    product.audit_ends_ms = now_millis() + u128::from(audit_ms);
    product.update_time = now_secs();
    Ok(json!({
        "product_id": product.id,
        "skus": product.skus.iter().map(|s| json!({"id": s.id, "seller_sku": s.seller_sku, "sales_attributes": s.sales_attributes, "external_sku_id": ""})).collect::<Vec<_>>(),
        "warnings": [],
        "audit": {"status": "AUDITING"},
    }))
}

async fn edit(
    sb: Sandbox,
    headers: HeaderMap,
    p: Params,
    body: Bytes,
    path: String,
    id: String,
    partial: bool,
) -> Response {
    let audit_ms = sb.config.tiktok_audit_ms;
    let call = Call {
        path: &path,
        params: &p,
        headers: &headers,
        body: Some(&body),
        cipher: Cipher::Required,
    };
    handle(&sb, call, |state, _| {
        let given = body_json(&body)?;
        let merged = if partial {
            // Partial edit replaces whole top-level properties and keeps the rest.
            let mut current = as_body(
                state
                    .products
                    .get(&id)
                    .ok_or_else(|| product_not_found(&id))?,
            );
            for (k, v) in given.as_object().into_iter().flatten() {
                current[k] = v.clone();
            }
            current
        } else {
            given
        };
        apply_edit(state, &id, merged, audit_ms)
    })
    .await
}

/// Full edits (`PUT …/products/{id}`) and partial edits (`POST …/partial_edit`), in
/// the 202309 and 202509 versions alike; the request path is the path that was signed.
pub async fn edit_product(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    Query(p): Query<Params>,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let partial = path.ends_with("/partial_edit");
    edit(sb, headers, p, body, path, id, partial).await
}

pub async fn update_inventory(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(p): Query<Params>,
    body: Bytes,
) -> Response {
    let path = format!("/product/202309/products/{id}/inventory/update");
    let call = Call {
        path: &path,
        params: &p,
        headers: &headers,
        body: Some(&body),
        cipher: Cipher::Required,
    };
    handle(&sb, call, |state, _| {
        let body = body_json(&body)?;
        let product = state.products.get_mut(&id).ok_or_else(|| product_not_found(&id))?;
        let updates = body["skus"].as_array().filter(|s| !s.is_empty()).ok_or_else(|| TiktokError::product(12_052_486, "skus are required"))?;
        let mut errors = Vec::new();
        for u in updates {
            let sku_id = u["id"].as_str().unwrap_or_default();
            let inventory = u["inventory"].as_array().cloned().unwrap_or_default();
            let valid = !inventory.is_empty()
                && inventory.iter().all(|i| i["warehouse_id"].as_str() == Some(WAREHOUSE_ID) && i["quantity"].as_i64().is_some_and(|q| (1..=99_999).contains(&q)));
            match product.skus.iter_mut().find(|s| s.id == sku_id) {
                Some(sku) if valid => sku.quantity = inventory.iter().filter_map(|i| i["quantity"].as_i64()).sum(),
                Some(_) => errors.push(json!({"code": 12_019_028, "message": "include every warehouse of the SKU with a quantity from 1 to 99999", "detail": {"sku_id": sku_id}})),
                None => errors.push(json!({"code": 12_052_571, "message": "SKU does not belong to this product", "detail": {"sku_id": sku_id}})),
            }
        }
        product.update_time = now_secs();
        Ok(json!({"errors": errors}))
    })
    .await
}
