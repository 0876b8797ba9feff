//! `/dashboard/products`: the master catalog, 50 per page, searchable by title; products
//! selected here (across pages) are synced together as a batch.

use std::collections::BTreeSet;

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::{Form, A};
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{list_products, ProductList, ProductSummary, StartBatch, MAX_BATCH_PRODUCTS};
use crate::components::layout::DashboardLayout;
use crate::components::ui::{ErrorPanel, Skeleton, StatusBadge, BUTTON, BUTTON_OUTLINE, INPUT};
use crate::domain::Rupiah;

fn price(p: Option<Rupiah>) -> String {
    p.map(|p| p.to_string()).unwrap_or_else(|| "—".to_string())
}

fn page_href(page: u32, q: &str) -> String {
    if q.is_empty() {
        format!("/dashboard/products?page={page}")
    } else {
        format!(
            "/dashboard/products?page={page}&q={}",
            urlencoding::encode(q)
        )
    }
}

#[component]
pub fn ProductsPage() -> impl IntoView {
    let query = use_query_map();
    let page = move || query.read().get("page");
    let q = move || query.read().get("q");
    let products = Resource::new(move || (page(), q()), |(page, q)| list_products(page, q));
    let selected = RwSignal::new(BTreeSet::<i64>::new());

    view! {
        <DashboardLayout>
            <div class="mb-4 flex flex-col gap-3 sm:flex-row sm:items-center sm:justify-between">
                <h1 class="text-2xl font-semibold tracking-tight">"Products"</h1>
                <Form method="GET" action="/dashboard/products" attr:class="flex w-full gap-2 sm:w-96" attr:role="search">
                    <input
                        type="search"
                        name="q"
                        placeholder="Search by title"
                        aria-label="Search by title"
                        maxlength="200"
                        class=INPUT
                        prop:value=move || q().unwrap_or_default()
                    />
                    <button type="submit" class=BUTTON>"Search"</button>
                </Form>
            </div>
            <BatchBar selected/>
            <Transition fallback=|| view! { <Skeleton rows=10/> }>
                <ErrorBoundary fallback=|errors| view! {
                    <ErrorPanel message=errors.get().into_iter().next().map(|(_, e)| e.to_string()).unwrap_or_default()/>
                }>
                    {move || Suspend::new(async move {
                        products.await.map(|list| view! { <ProductTable list selected/> })
                    })}
                </ErrorBoundary>
            </Transition>
        </DashboardLayout>
    }
}

/// The selection and the buttons that start a batch with it.
#[component]
fn BatchBar(selected: RwSignal<BTreeSet<i64>>) -> impl IntoView {
    let start = ServerAction::<StartBatch>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(created)) = start.value().get() {
            navigate(
                &format!("/dashboard/batches/{}", created.batch_id),
                Default::default(),
            );
        }
    });
    let count = move || selected.read().len();
    let too_many = move || count() > MAX_BATCH_PRODUCTS;
    let ids = move || {
        selected
            .read()
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    let button = move |platform: &'static str, label: &'static str, class: &'static str| {
        view! {
            <ActionForm action=start attr:class="inline">
                <input type="hidden" name="ids" prop:value=ids/>
                <input type="hidden" name="platform" value=platform/>
                <button type="submit" class=class disabled=move || too_many() || start.pending().get() data-batch=platform>
                    {label}
                </button>
            </ActionForm>
        }
    };
    view! {
        <Show when=move || { count() > 0 }>
            <div class="sticky top-2 z-10 mb-3 flex flex-wrap items-center gap-2 rounded-xl border border-neutral-200 bg-white p-3 shadow-md" data-testid="batch-bar">
                <span class="text-sm font-medium" data-testid="selected-count">{move || format!("{} selected", count())}</span>
                {button("shopee", "Sync to Shopee", BUTTON_OUTLINE)}
                {button("tiktok", "Sync to TikTok", BUTTON_OUTLINE)}
                {button("both", "Sync to Both", BUTTON)}
                <button type="button" class="text-sm text-neutral-600 underline-offset-4 hover:underline" on:click=move |_| selected.set(BTreeSet::new())>
                    "Clear"
                </button>
                {move || too_many().then(|| view! {
                    <p class="w-full text-sm text-red-700">{format!("A batch holds at most {MAX_BATCH_PRODUCTS} products; deselect some.")}</p>
                })}
                {move || start.value().get().and_then(Result::err).map(|e| view! {
                    <p class="w-full text-sm text-red-700" role="alert">{e.to_string()}</p>
                })}
            </div>
        </Show>
    }
}

#[component]
fn SelectBox(id: i64, label: String, selected: RwSignal<BTreeSet<i64>>) -> impl IntoView {
    view! {
        <input
            type="checkbox"
            class="size-4 accent-neutral-900"
            aria-label=format!("Select {label}")
            data-select=id.to_string()
            prop:checked=move || selected.read().contains(&id)
            on:change=move |_| selected.update(|s| {
                if !s.remove(&id) {
                    s.insert(id);
                }
            })
        />
    }
}

#[component]
fn ProductTable(list: ProductList, selected: RwSignal<BTreeSet<i64>>) -> impl IntoView {
    let page_ids: Vec<i64> = list.items.iter().map(|p| p.id).collect();
    let all_ids = page_ids.clone();
    let page_selected = move || {
        let s = selected.read();
        !all_ids.is_empty() && all_ids.iter().all(|id| s.contains(id))
    };
    let select_page = move |_| {
        let everything = page_ids
            .iter()
            .all(|id| selected.read_untracked().contains(id));
        selected.update(|s| {
            for id in &page_ids {
                if everything {
                    s.remove(id);
                } else {
                    s.insert(*id);
                }
            }
        });
    };
    let query = use_query_map();
    let q = query.read_untracked().get("q").unwrap_or_default();
    let pages = list.page_count();
    let page = list.page;
    let summary = format!("{} products · page {} of {}", list.total, page, pages);
    let empty = list.items.is_empty();
    view! {
        <div class="mb-2 flex flex-wrap items-center justify-between gap-2">
            <p class="text-sm text-neutral-500" data-testid="result-summary">{summary}</p>
            <label class="flex items-center gap-2 text-sm text-neutral-700">
                <input type="checkbox" class="size-4 accent-neutral-900" data-testid="select-page" prop:checked=page_selected on:change=select_page/>
                "Select this page"
            </label>
        </div>
        {empty.then(|| view! {
            <div class="rounded-xl border border-dashed border-neutral-300 bg-white p-10 text-center text-sm text-neutral-500">
                "No products match this search."
            </div>
        })}
        // One row per product, laid out as a table from `md` up and as a card on phones:
        // the page renders and hydrates each product once.
        <div class="md:overflow-x-auto md:rounded-xl md:border md:border-neutral-200 md:bg-white">
            <table class="block w-full text-sm md:table" data-testid="products-table">
                <thead class="hidden border-b border-neutral-200 text-left text-neutral-500 md:table-header-group">
                    <tr>
                        <th class="h-10 w-8 px-3 font-medium"><span class="sr-only">"Selected"</span></th>
                        <th class="h-10 px-3 font-medium">"ID"</th>
                        <th class="h-10 px-3 font-medium">"Title"</th>
                        <th class="h-10 px-3 text-right font-medium">"Master Price"</th>
                        <th class="h-10 px-3 text-right font-medium">"Shopee Price"</th>
                        <th class="h-10 px-3 text-right font-medium">"TikTok Price"</th>
                        <th class="h-10 px-3 font-medium">"Status"</th>
                    </tr>
                </thead>
                <tbody class="block space-y-2 md:table-row-group md:space-y-0">
                    {list.items.into_iter().map(|p| view! { <ProductRow p selected/> }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="mt-4 flex items-center justify-between" aria-label="Pagination">
            {(page > 1).then(|| view! {
                <A href=page_href(page - 1, &q) attr:class=BUTTON_OUTLINE attr:rel="prev">"Previous"</A>
            })}
            <span class="text-sm text-neutral-500">{format!("Page {page} of {pages}")}</span>
            {(page < pages).then(|| view! {
                <A href=page_href(page + 1, &q) attr:class=BUTTON_OUTLINE attr:rel="next">"Next"</A>
            })}
        </nav>
    }
}

// The rows link with plain `<a>`: the router still takes their clicks (it listens for
// every same-site link), and a page of 100 links renders without a router component each.
// On a phone the row wraps as a card: selection, title and status, then the three prices,
// then the id and SKU (`order` places them; a table row ignores it). The `product-*`
// classes are defined in `style/input.css`.
#[component]
fn ProductRow(p: ProductSummary, selected: RwSignal<BTreeSet<i64>>) -> impl IntoView {
    let href = format!("/dashboard/products/{}", p.id);
    view! {
        <tr class="product-row">
            <td class="product-select"><SelectBox id=p.id label=p.sku.clone() selected/></td>
            <td class="product-id">
                <span class="md:hidden">"#"</span>{p.id}<span class="md:hidden">" · " {p.sku}</span>
            </td>
            <td class="product-title">
                <a href=href class="font-medium leading-snug hover:underline">{p.title}</a>
                {p.has_variants.then(|| view! { <span class="ml-2 text-xs text-neutral-500">"variants"</span> })}
            </td>
            <td class="product-price" data-label="Master">{p.base_price.to_string()}</td>
            <td class="product-price" data-label="Shopee">{price(p.shopee_price)}</td>
            <td class="product-price" data-label="TikTok">{price(p.tiktok_price)}</td>
            <td class="product-status"><StatusBadge status=p.status/></td>
        </tr>
    }
}
