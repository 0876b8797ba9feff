//! `/dashboard/settings` (owner only): the shop connections with Connect, Reconnect and
//! Disconnect, and each platform's markup with how many listings a change re-prices.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::{
    get_category_tree, get_settings, CategoryMapping, CategoryTree, DisconnectShop, MarkupSetting,
    Platform, ResyncOutdated, SetAttributeDefault, SetCategoryMapping, SetMarkup, SettingsView,
    ShopConnection, ShopStatus,
};
use crate::components::layout::DashboardLayout;
use crate::components::ui::{ErrorPanel, Skeleton, BUTTON, BUTTON_OUTLINE, INPUT};

fn status_badge(status: ShopStatus) -> impl IntoView {
    let tone = match status {
        ShopStatus::Connected => "bg-emerald-50 text-emerald-800 ring-emerald-200",
        ShopStatus::Expiring => "bg-amber-50 text-amber-800 ring-amber-200",
        ShopStatus::Expired | ShopStatus::Revoked => "bg-red-50 text-red-800 ring-red-200",
    };
    view! {
        <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium ring-1 {tone}")
            data-testid="shop-status">{status.as_str()}</span>
    }
}

fn shop_card(
    platform: Platform,
    shop: Option<ShopConnection>,
    connectable: bool,
    disconnect: ServerAction<DisconnectShop>,
) -> impl IntoView {
    let connect_label = match &shop {
        Some(_) => format!("Reconnect {}", platform.label()),
        None => format!("Connect {}", platform.label()),
    };
    let usable = shop.as_ref().is_some_and(|s| s.status.usable());
    let details = shop.map(|s| {
        let expiry = |label: &'static str, at: Option<String>| {
            at.map(|at| view! { <li>{label} ": " <time>{at}</time></li> })
        };
        view! {
            <div class="mt-2 flex flex-wrap items-center gap-2">
                <span class="font-medium" data-testid="shop-name">{s.name}</span>
                {status_badge(s.status)}
                <span class="text-xs text-neutral-500" data-testid="shop-source">
                    {format!("{} · shop {}", s.source, s.shop_id)}
                </span>
            </div>
            {s.status_reason.map(|r| view! { <p class="mt-1 text-sm text-red-700">{r}</p> })}
            <ul class="mt-2 text-xs text-neutral-600">
                {expiry("Access token ends", s.access_token_expires_at)}
                {expiry("Authorization ends", s.refresh_token_expires_at)}
                {expiry("Last refreshed", s.refreshed_at)}
            </ul>
        }
    });
    view! {
        <section class="rounded-xl border border-neutral-200 bg-white p-4"
            data-testid=format!("shop-{}", platform.as_str())>
            <h3 class="font-semibold">{platform.label()}</h3>
            {match details {
                Some(d) => d.into_any(),
                None => view! { <p class="mt-2 text-sm text-neutral-500">"Not connected."</p> }.into_any(),
            }}
            <div class="mt-3 flex flex-wrap gap-2">
                {if connectable {
                    // A full page load: the platform's authorization page is another site.
                    view! {
                        <a class=BUTTON rel="external" href=format!("/oauth/{}/start", platform.as_str())>
                            {connect_label}
                        </a>
                    }.into_any()
                } else {
                    view! {
                        <p class="text-sm text-neutral-500">
                            {format!("Set SyncStore's {} app credentials to connect.", platform.label())}
                        </p>
                    }.into_any()
                }}
                {usable.then(|| view! {
                    <ActionForm action=disconnect>
                        <input type="hidden" name="platform" value=platform.as_str()/>
                        <button type="submit" class=BUTTON_OUTLINE>"Disconnect"</button>
                    </ActionForm>
                })}
            </div>
        </section>
    }
}

fn markup_form(
    markup: MarkupSetting,
    save: ServerAction<SetMarkup>,
    resync: ServerAction<ResyncOutdated>,
) -> impl IntoView {
    let platform = markup.platform;
    let id = format!("markup-{}", platform.as_str());
    let (section_id, label_for) = (id.clone(), id.clone());
    let has_outdated = markup.outdated_listings > 0;
    let outdated = match markup.outdated_listings {
        0 => "Every synced listing is priced at this markup.".to_string(),
        1 => {
            "1 synced listing is priced at another markup; its next sync re-prices it.".to_string()
        }
        n => format!(
            "{n} synced listings are priced at another markup; their next sync re-prices them."
        ),
    };
    view! {
        <section class="rounded-xl border border-neutral-200 bg-white p-4" data-testid=section_id>
            <ActionForm action=save>
                <input type="hidden" name="platform" value=platform.as_str()/>
                <label class="block text-sm font-medium" for=label_for>
                    {format!("{} markup (%)", platform.label())}
                </label>
                <div class="mt-1 flex gap-2">
                    <input id=id name="percent" inputmode="decimal" required maxlength="8"
                        class=format!("{INPUT} w-32") value=markup.percent()/>
                    <button type="submit" class=BUTTON>"Save"</button>
                </div>
            </ActionForm>
            <p class="mt-2 text-xs text-neutral-600">
                "Listing price = product price plus this percent, rounded half up to the rupiah."
            </p>
            <p class="mt-1 text-sm" data-testid="markup-outdated">{outdated}</p>
            {has_outdated.then(|| view! {
                <ActionForm action=resync>
                    <input type="hidden" name="platform" value=platform.as_str()/>
                    <button type="submit" class=format!("{BUTTON_OUTLINE} mt-2")
                        disabled=move || resync.pending().get()>
                        "Re-sync them as a batch"
                    </button>
                </ActionForm>
                <p class="mt-1 text-xs text-neutral-500">"As many as the rollout stage allows in one batch."</p>
            })}
        </section>
    }
}

fn attribute_list(
    platform: Platform,
    mapping: &CategoryMapping,
    defaults: ServerAction<SetAttributeDefault>,
) -> impl IntoView {
    let category_id = mapping.category_id.clone().unwrap_or_default();
    let items = mapping
        .attributes
        .iter()
        .map(|a| {
            let chosen = a
                .default
                .as_ref()
                .and_then(|d| a.choices.iter().find(|c| &c.id == d))
                .map(|c| c.path.clone());
            let (text, tone) = match (&a.filled_with, &chosen) {
                (Some(v), _) => (format!("{}: filled with “{v}”", a.name), "text-neutral-600"),
                (None, Some(v)) => (format!("{}: “{v}”, the default you chose", a.name), "text-neutral-600"),
                (None, None) => (
                    format!("{}: the seller must supply it", a.name),
                    "text-red-700",
                ),
            };
            // Shopee offers values to choose from; a default lets the sync fill it.
            let (category_id, attribute_id) = (category_id.clone(), a.attribute_id.clone());
            let picker = (a.filled_with.is_none() && !a.choices.is_empty()).then(|| {
                let select_id = format!("default-{}-{}-{}", platform.as_str(), category_id, attribute_id);
                let label_for = select_id.clone();
                let label = format!("Default {}", a.name);
                let options = a
                    .choices
                    .iter()
                    .map(|c| {
                        let selected = a.default.as_deref() == Some(c.id.as_str());
                        view! { <option value=c.id.clone() selected=selected>{c.path.clone()}</option> }
                    })
                    .collect_view();
                let unset = a.default.is_none().then(|| view! { <option value="" selected=true>"Choose a value"</option> });
                view! {
                    <ActionForm action=defaults attr:class="mt-1 flex items-center gap-2">
                        <input type="hidden" name="platform" value=platform.as_str()/>
                        <input type="hidden" name="category_id" value=category_id/>
                        <input type="hidden" name="attribute_id" value=attribute_id/>
                        <label class="sr-only" for=label_for>{label}</label>
                        <select id=select_id name="value" required class=format!("{INPUT} h-8 w-40")>
                            {unset}
                            {options}
                        </select>
                        <button type="submit" class=BUTTON_OUTLINE>"Use"</button>
                    </ActionForm>
                }
            });
            view! { <li class=tone>{text}{picker}</li> }
        })
        .collect_view();
    view! { <ul class="text-xs" data-testid="mandatory-attributes">{items}</ul> }
}

fn category_rows(
    tree: CategoryTree,
    save: ServerAction<SetCategoryMapping>,
    defaults: ServerAction<SetAttributeDefault>,
) -> impl IntoView {
    let platform = tree.platform;
    let options = tree.options;
    tree.mappings
        .into_iter()
        .map(|m| {
            let select_id = format!("category-{}-{}", platform.as_str(), m.master_category);
            let label_for = select_id.clone();
            let current = m.category_id.clone();
            let unknown = m.category_id.is_some() && m.path.is_none();
            let choices = options
                .iter()
                .map(|o| {
                    let selected = current.as_deref() == Some(o.id.as_str());
                    view! { <option value=o.id.clone() selected=selected>{o.path.clone()}</option> }
                })
                .collect_view();
            // A mapping to an id the tree no longer has selects nothing, so Save cannot
            // silently move the category to the first leaf.
            let empty_choice = (current.is_none() || unknown).then(|| view! { <option value="" selected=true>"Choose a category"</option> });
            let attributes = attribute_list(platform, &m, defaults);
            let master = m.master_category.clone();
            let stale = m.category_id.clone().unwrap_or_default();
            view! {
                <li class="border-t border-neutral-100 py-3" data-testid="category-row">
                    <ActionForm action=save>
                        <input type="hidden" name="platform" value=platform.as_str()/>
                        <input type="hidden" name="master_category" value=master.clone()/>
                        <label class="block text-sm font-medium" for=label_for>{master.clone()}</label>
                        <div class="mt-1 flex gap-2">
                            <select id=select_id name="category_id" required class=INPUT>
                                {empty_choice}
                                {choices}
                            </select>
                            <button type="submit" class=BUTTON_OUTLINE>"Save"</button>
                        </div>
                    </ActionForm>
                    {unknown.then(|| view! {
                        <p class="mt-1 text-xs text-red-700">
                            {format!("Mapped to {stale}, which is not a leaf of this shop's tree: the next create would be refused.")}
                        </p>
                    })}
                    <div class="mt-1">{attributes}</div>
                </li>
            }
        })
        .collect_view()
        .into_any()
}

#[component]
fn CategoryMappings(platform: Platform) -> impl IntoView {
    let save = ServerAction::<SetCategoryMapping>::new();
    let defaults = ServerAction::<SetAttributeDefault>::new();
    let tree = Resource::new(
        move || (save.version().get(), defaults.version().get()),
        move |_| get_category_tree(platform.as_str().to_string()),
    );
    view! {
        <section class="rounded-xl border border-neutral-200 bg-white p-4"
            data-testid=format!("categories-{}", platform.as_str())>
            <h3 class="font-semibold">{platform.label()}</h3>
            <p class="text-xs text-neutral-500">"Each master category goes to a leaf of the category tree this shop returns."</p>
            {move || save.value().get().map(|r| match r {
                Ok(m) => view! {
                    <p class="mt-2 text-sm text-emerald-800" role="status">
                        {format!("{} now goes to {}.", m.master_category, m.path.unwrap_or_default())}
                    </p>
                }.into_any(),
                Err(e) => view! { <ErrorPanel message=e.to_string()/> }.into_any(),
            })}
            {move || defaults.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorPanel message=e.to_string()/> })}
            <Transition fallback=|| view! { <Skeleton rows=3/> }>
                <ErrorBoundary fallback=|errors| view! {
                    <ErrorPanel message=errors.get().into_iter().next().map(|(_, e)| e.to_string()).unwrap_or_default()/>
                }>
                    {move || Suspend::new(async move {
                        tree.await.map(|t| view! { <ul class="mt-2">{category_rows(t, save, defaults)}</ul> })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
    .into_any()
}

fn settings_view(
    view_: SettingsView,
    disconnect: ServerAction<DisconnectShop>,
    save: ServerAction<SetMarkup>,
    resync: ServerAction<ResyncOutdated>,
) -> impl IntoView {
    let shops = Platform::ALL
        .into_iter()
        .map(|p| {
            let shop = view_.shops.iter().find(|s| s.platform == p).cloned();
            shop_card(p, shop, view_.connectable.contains(&p), disconnect)
        })
        .collect_view();
    let connected: Vec<Platform> = view_
        .shops
        .iter()
        .filter(|s| s.status.usable())
        .map(|s| s.platform)
        .collect();
    let markups = view_
        .markups
        .into_iter()
        .map(|m| markup_form(m, save, resync))
        .collect_view();
    view! {
        <h2 class="mb-2 font-semibold">"Shops"</h2>
        <div class="grid gap-4 md:grid-cols-2">{shops}</div>
        <h2 class="mb-2 mt-6 font-semibold">"Markups"</h2>
        <div class="grid gap-4 md:grid-cols-2">{markups}</div>
        <h2 class="mb-2 mt-6 font-semibold">"Category mappings"</h2>
        <div class="grid gap-4 md:grid-cols-2">
            {connected.contains(&Platform::Shopee).then(|| view! { <CategoryMappings platform=Platform::Shopee/> })}
            {connected.contains(&Platform::Tiktok).then(|| view! { <CategoryMappings platform=Platform::Tiktok/> })}
        </div>
    }
    .into_any()
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let query = use_query_map();
    let disconnect = ServerAction::<DisconnectShop>::new();
    let save = ServerAction::<SetMarkup>::new();
    let resync = ServerAction::<ResyncOutdated>::new();
    let settings = Resource::new(
        move || {
            let q = query.read();
            (
                disconnect.version().get(),
                save.version().get(),
                q.get("connected"),
                q.get("error"),
                q.get("sig"),
            )
        },
        |(_, _, connected, error, sig)| get_settings(connected, error, sig),
    );
    let failure = move || {
        let failed = |r: Option<Result<_, ServerFnError>>| r.and_then(|r| r.err());
        failed(save.value().get().map(|r| r.map(|_| ())))
            .or_else(|| failed(disconnect.value().get()))
            .or_else(|| failed(resync.value().get().map(|r| r.map(|_| ()))))
            .map(|e| e.to_string())
    };
    view! {
        <DashboardLayout>
            <h1 class="mb-1 text-2xl font-semibold tracking-tight">"Settings"</h1>
            <p class="mb-4 text-sm text-neutral-500">
                "Connect the shops SyncStore lists on, and set the markup each platform's prices carry."
            </p>
            {move || failure().map(|message| view! { <ErrorPanel message/> })}
            {move || resync.value().get().and_then(|r| r.ok()).map(|b| view! {
                <p class="mb-4 rounded-lg border border-emerald-200 bg-emerald-50 p-3 text-sm text-emerald-900" role="status">
                    {format!("{} listings queued for re-sync. ", b.total_jobs)}
                    <a class="font-medium underline underline-offset-4" href=format!("/dashboard/batches/{}", b.batch_id)>"Follow the batch"</a>
                </p>
            })}
            <Transition fallback=|| view! { <Skeleton rows=6/> }>
                <ErrorBoundary fallback=|errors| view! {
                    <ErrorPanel message=errors.get().into_iter().next().map(|(_, e)| e.to_string()).unwrap_or_default()/>
                }>
                    {move || Suspend::new(async move {
                        settings.await.map(|v| view! {
                            {v.notice.clone().map(|n| if n.ok {
                                view! {
                                    <p class="mb-4 rounded-lg border border-emerald-200 bg-emerald-50 p-3 text-sm text-emerald-900"
                                        role="status" data-testid="settings-notice">{n.text}</p>
                                }.into_any()
                            } else {
                                view! { <div class="mb-4"><ErrorPanel message=n.text/></div> }.into_any()
                            })}
                            {settings_view(v, disconnect, save, resync)}
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </DashboardLayout>
    }
}
