//! `/dashboard/products/{id}`: the master product and its Shopee and TikTok mappings.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use leptos::form::ActionForm;

use crate::api::{
    get_product, CheckDto, MappingDto, Platform, ProductDetail, SetTitleOverride, SyncOutcome,
    SyncProduct, SyncStatus, VerifyProduct,
};
use crate::components::layout::DashboardLayout;
use crate::components::rollback::RollbackPanel;
use crate::components::ui::{
    Card, ErrorPanel, Field, Skeleton, StatusBadge, BUTTON, BUTTON_OUTLINE, INPUT,
};
use crate::domain::check_title;
use crate::pages::not_found::NotFoundBody;

#[component]
pub fn ProductPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let sync = ServerAction::<SyncProduct>::new();
    // Reload the product (and its mappings) whenever a sync finishes.
    let product = Resource::new(
        move || (id(), sync.version().get()),
        |(id, _)| get_product(id),
    );

    view! {
        <DashboardLayout>
            <A href="/dashboard/products" attr:class="text-sm text-neutral-500 hover:text-neutral-900">
                "← Products"
            </A>
            <Suspense fallback=|| view! { <Skeleton rows=8/> }>
                <ErrorBoundary fallback=|errors| view! {
                    <ErrorPanel message=errors.get().into_iter().next().map(|(_, e)| e.to_string()).unwrap_or_default()/>
                }>
                    {move || Suspend::new(async move {
                        product.await.map(|found| match found {
                            Some(p) => view! { <ProductView p sync/> }.into_any(),
                            None => view! { <NotFoundBody what="product"/> }.into_any(),
                        })
                    })}
                </ErrorBoundary>
            </Suspense>
        </DashboardLayout>
    }
}

#[component]
fn ProductView(p: ProductDetail, sync: ServerAction<SyncProduct>) -> impl IntoView {
    let dims = p
        .dimensions_cm
        .map(|[l, w, h]| format!("{l} × {w} × {h} cm"))
        .unwrap_or_else(|| "—".to_string());
    let has_variants = !p.variants.is_empty();
    let tiers = p.tier_names.clone();
    view! {
        <h1 class="mt-2 text-2xl font-semibold tracking-tight" data-testid="product-title">{p.title.clone()}</h1>
        <p class="text-sm text-neutral-500">"#" {p.id} " · SKU " {p.sku.clone()}</p>
        <SyncButtons id=p.id action=sync/>
        <VerifyButton id=p.id/>
        <div class="mt-4 grid gap-4 lg:grid-cols-3">
            <div class="space-y-4 lg:col-span-2">
                <Card title="Master product">
                    <div class="mb-4 grid grid-cols-3 gap-2 sm:grid-cols-6" data-testid="gallery">
                        {p.images.iter().enumerate().map(|(i, url)| view! {
                            <img src=url.clone() alt=format!("Image {}", i + 1) loading="lazy"
                                class="aspect-square w-full rounded-md border border-neutral-200 object-cover"/>
                        }).collect_view()}
                    </div>
                    <dl class="grid grid-cols-2 gap-4 sm:grid-cols-4">
                        <Field label="Base price"><span data-testid="base-price">{p.base_price.to_string()}</span></Field>
                        <Field label="Weight">{format!("{} kg", p.weight_kg)}</Field>
                        <Field label="Dimensions">{dims}</Field>
                        <Field label="Stock">{p.stock}</Field>
                        <Field label="Category">{p.category.clone()}</Field>
                    </dl>
                    <p class="mt-4 whitespace-pre-line text-sm text-neutral-700">{p.description.clone()}</p>
                </Card>
                {has_variants.then(|| view! {
                    <Card title="Variants">
                        <div class="overflow-x-auto">
                            <table class="w-full text-sm" data-testid="variants-table">
                                <thead class="border-b border-neutral-200 text-left text-neutral-500">
                                    <tr>
                                        <th class="h-9 px-2 font-medium">"SKU"</th>
                                        {tiers.iter().map(|t| view! { <th class="h-9 px-2 font-medium">{t.clone()}</th> }).collect_view()}
                                        <th class="h-9 px-2 text-right font-medium">"Base price"</th>
                                        <th class="h-9 px-2 text-right font-medium">"Stock"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {p.variants.iter().map(|v| view! {
                                        <tr class="border-b border-neutral-100">
                                            <td class="px-2 py-1.5 text-neutral-500">{v.sku.clone()}</td>
                                            {v.options.iter().map(|o| view! { <td class="px-2 py-1.5">{o.clone()}</td> }).collect_view()}
                                            <td class="px-2 py-1.5 text-right tabular-nums">{v.base_price.to_string()}</td>
                                            <td class="px-2 py-1.5 text-right tabular-nums">{v.stock}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    </Card>
                })}
            </div>
            <div class="space-y-4">
                <MappingCard product_id=p.id platform=Platform::Shopee mapping=p.mappings.shopee.clone() master_title=p.title.clone()/>
                <MappingCard product_id=p.id platform=Platform::Tiktok mapping=p.mappings.tiktok.clone() master_title=p.title.clone()/>
            </div>
        </div>
        {(p.mappings.shopee.is_some() || p.mappings.tiktok.is_some())
            .then(|| view! { <RollbackPanel product_ids=p.id.to_string()/> })}
    }
}

#[component]
fn MappingCard(
    product_id: i64,
    platform: Platform,
    mapping: Option<MappingDto>,
    master_title: String,
) -> impl IntoView {
    let current_override = mapping.as_ref().and_then(|m| m.title_override.clone());
    let generated = mapping.as_ref().and_then(|m| m.seo_title.clone());
    let status = mapping
        .as_ref()
        .map(|m| m.sync_status)
        .unwrap_or(SyncStatus::NotSynced);
    let field = |f: fn(&MappingDto) -> Option<String>| {
        mapping
            .as_ref()
            .and_then(f)
            .unwrap_or_else(|| "—".to_string())
    };
    let last_synced = match mapping.as_ref().and_then(|m| m.last_synced_at.clone()) {
        Some(t) => format!("Last synced {t}"),
        None => "Not synced yet".to_string(),
    };
    let external_id = field(|m| m.external_id.clone());
    let final_price = field(|m| m.final_price.map(|p| p.to_string()));
    // The same similarity the sync enforces (0.70–0.80), computed here in the browser too.
    let seo_title = match mapping.as_ref().and_then(|m| m.seo_title.clone()) {
        Some(t) => format!(
            "{t} ({:.0}% similar)",
            crate::domain::similarity(&master_title, &t) * 100.0
        ),
        None => "—".to_string(),
    };
    let (extra_label, extra_value) = match platform {
        Platform::Shopee => ("Category", field(|m| m.category.clone())),
        Platform::Tiktok => ("Tokopedia status", field(|m| m.tokopedia_status.clone())),
    };
    let id_label = match platform {
        Platform::Shopee => "Item ID",
        Platform::Tiktok => "Product ID",
    };
    let last_error = mapping.as_ref().and_then(|m| m.last_error.clone());
    view! {
        <Card title=platform.label()>
            <div class="mb-3 flex items-center justify-between" data-testid=format!("mapping-{}", platform.as_str())>
                <StatusBadge status/>
                <span class="text-xs text-neutral-500">{last_synced}</span>
            </div>
            <dl class="space-y-3">
                <Field label=id_label>{external_id}</Field>
                <Field label="Final price">{final_price}</Field>
                <Field label="SEO title">{seo_title}</Field>
                <Field label=extra_label>{extra_value}</Field>
                {last_error.map(|e| view! {
                    <div role="alert" class="rounded-md bg-red-50 p-2 text-xs text-red-800">{e}</div>
                })}
            </dl>
            <TitleOverrideForm product_id platform master_title current=current_override generated/>
        </Card>
    }
    .into_any()
}

/// The owner's own title for this platform, checked as it is typed with the same rules
/// the server applies: the platform's length limits, and the 70–80% similarity band
/// (outside it the title is still saved, and validation reports it).
#[component]
fn TitleOverrideForm(
    product_id: i64,
    platform: Platform,
    master_title: String,
    current: Option<String>,
    generated: Option<String>,
) -> impl IntoView {
    let save = ServerAction::<SetTitleOverride>::new();
    let initial = current.unwrap_or_default();
    let text = RwSignal::new(initial.clone());
    let input_id = format!("title-override-{}", platform.as_str());
    let label_for = input_id.clone();
    let check = Memo::new(move |_| {
        let typed = text.get();
        (!typed.trim().is_empty()).then(|| check_title(&master_title, &typed, platform))
    });
    let tone = |ok: bool| {
        if ok {
            "text-emerald-700"
        } else {
            "text-red-700"
        }
    };
    view! {
        <div class="mt-4 border-t border-neutral-100 pt-3" data-testid=format!("title-override-{}", platform.as_str())>
            <ActionForm action=save>
                <input type="hidden" name="id" value=product_id/>
                <input type="hidden" name="platform" value=platform.as_str()/>
                <label class="block text-xs font-medium text-neutral-500" for=label_for>"Title override"</label>
                <input id=input_id name="title" maxlength="300" autocomplete="off"
                    class=format!("{INPUT} mt-1")
                    placeholder=generated.unwrap_or_else(|| "The generated SEO title".into())
                    value=initial
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))/>
                <p class="mt-1 text-xs" data-testid="title-check" aria-live="polite">
                    {move || match check.get() {
                        None => view! {
                            <span class="text-neutral-500">"Empty: the generated SEO title is used."</span>
                        }.into_any(),
                        Some(c) => view! {
                            <span class=tone(c.length_ok) data-testid="title-length">
                                {format!("{} characters ({}–{})", c.chars, c.limits.min_chars, c.limits.max_chars)}
                            </span>
                            " · "
                            <span class=tone(c.similarity_ok) data-testid="title-similarity">
                                {format!("{}% similar to the master title (70–80%)", c.similarity_percent)}
                            </span>
                        }.into_any(),
                    }}
                </p>
                <button type="submit" class=format!("{BUTTON_OUTLINE} mt-2")
                    disabled=move || save.pending().get() || check.get().is_some_and(|c| !c.length_ok)>
                    "Save title"
                </button>
            </ActionForm>
            {move || save.value().get().map(|r| match r {
                Ok(Some(_)) => view! {
                    <p class="mt-1 text-xs text-emerald-700" role="status">"Saved: the next sync uses this title."</p>
                }.into_any(),
                Ok(None) => view! {
                    <p class="mt-1 text-xs text-emerald-700" role="status">"Cleared: the next sync uses the generated title."</p>
                }.into_any(),
                Err(e) => view! { <ErrorPanel message=e.to_string()/> }.into_any(),
            })}
        </div>
    }
    .into_any()
}

/// "Sync to Shopee", "Sync to TikTok", "Sync to Both": plain forms, so they work before
/// hydration too; while one runs, all are disabled and it says "Syncing…".
#[component]
fn SyncButtons(id: i64, action: ServerAction<SyncProduct>) -> impl IntoView {
    let pending = action.pending();
    let running = move |target: &str| {
        pending.get() && action.input().get().is_some_and(|i| i.target == target)
    };
    let button = move |target: &'static str, label: &'static str, class: &'static str| {
        view! {
            <ActionForm action=action attr:class="inline">
                <input type="hidden" name="id" value=id.to_string()/>
                <input type="hidden" name="target" value=target/>
                <button type="submit" class=class disabled=move || pending.get() data-sync=target>
                    {move || if running(target) { "Syncing…" } else { label }}
                </button>
            </ActionForm>
        }
    };
    view! {
        <div class="mt-4 flex flex-wrap gap-2" data-testid="sync-buttons">
            {button("shopee", "Sync to Shopee", BUTTON_OUTLINE)}
            {button("tiktok", "Sync to TikTok", BUTTON_OUTLINE)}
            {button("both", "Sync to Both", BUTTON)}
        </div>
        {move || action.value().get().map(|result| match result {
            Ok(outcomes) => view! {
                <ul class="mt-3 space-y-2" data-testid="sync-outcomes">
                    {outcomes.into_iter().map(|o| view! { <OutcomeLine o product_id=id/> }).collect_view()}
                </ul>
            }.into_any(),
            Err(e) => view! { <div class="mt-3"><ErrorPanel message=e.to_string()/></div> }.into_any(),
        })}
    }
}

#[component]
fn OutcomeLine(o: SyncOutcome, product_id: i64) -> impl IntoView {
    let platform = o.platform.label();
    let log_href = format!(
        "/dashboard/sync-logs?product={product_id}&platform={}",
        o.platform.as_str()
    );
    if o.ok {
        let what = format!(
            "{platform}: {} ({})",
            o.action.clone().unwrap_or_default(),
            o.external_id.clone().unwrap_or_default()
        );
        view! { <li role="status" class="rounded-md border border-emerald-200 bg-emerald-50 p-2 text-sm text-emerald-900">{what}</li> }.into_any()
    } else {
        let hint = o.hint().unwrap_or_default();
        let code = o.error_code.clone().unwrap_or_default();
        let message = o.error_message.clone().unwrap_or_default();
        view! {
            <li role="alert" class="rounded-md border border-red-200 bg-red-50 p-2 text-sm text-red-900">
                <p class="font-medium">{format!("{platform}: {code}")}</p>
                <p>{message}</p>
                <p class="text-red-700">{hint}</p>
                <a href=log_href class="text-red-900 underline underline-offset-4">"See the sync log"</a>
            </li>
        }.into_any()
    }
}

/// "Verify on marketplace": reads the listings back and shows every comparison.
#[component]
fn VerifyButton(id: i64) -> impl IntoView {
    let action = ServerAction::<VerifyProduct>::new();
    let pending = action.pending();
    view! {
        <ActionForm action=action attr:class="mt-2">
            <input type="hidden" name="id" value=id.to_string()/>
            <button type="submit" class=BUTTON_OUTLINE disabled=move || pending.get()>
                {move || if pending.get() { "Verifying…" } else { "Verify on marketplace" }}
            </button>
        </ActionForm>
        {move || action.value().get().map(|result| match result {
            Ok(checks) if checks.is_empty() => view! {
                <p class="mt-2 text-sm text-neutral-500">"Not listed on any platform yet."</p>
            }.into_any(),
            Ok(checks) => {
                let failed = checks.iter().filter(|c| !c.ok).count();
                let summary = if failed == 0 {
                    format!("All {} checks match what SyncStore intended.", checks.len())
                } else {
                    format!("{failed} of {} checks differ.", checks.len())
                };
                view! {
                    <div class="mt-2" data-testid="verify-result">
                        <p class="text-sm font-medium">{summary}</p>
                        <ul class="mt-1 space-y-1 text-xs">
                            {checks.into_iter().map(|c| view! { <CheckLine c/> }).collect_view()}
                        </ul>
                    </div>
                }.into_any()
            }
            Err(e) => view! { <div class="mt-2"><ErrorPanel message=e.to_string()/></div> }.into_any(),
        })}
    }
}

#[component]
fn CheckLine(c: CheckDto) -> impl IntoView {
    let mark = if c.ok { "✓" } else { "✗" };
    let tone = if c.ok {
        "text-emerald-800"
    } else {
        "text-red-800"
    };
    let detail = if c.ok {
        String::new()
    } else {
        format!(" — expected {}, found {}", c.expected, c.actual)
    };
    view! { <li class=tone>{format!("{mark} {} · {}{detail}", c.platform.label(), c.name)}</li> }
}
