//! `/dashboard/settings` (owner only): the shop connections with Connect, Reconnect and
//! Disconnect, and each platform's markup with how many listings a change re-prices.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::{
    get_settings, DisconnectShop, MarkupSetting, Platform, SetMarkup, SettingsView, ShopConnection,
    ShopStatus,
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

fn markup_form(markup: MarkupSetting, save: ServerAction<SetMarkup>) -> impl IntoView {
    let platform = markup.platform;
    let id = format!("markup-{}", platform.as_str());
    let (section_id, label_for) = (id.clone(), id.clone());
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
        </section>
    }
}

fn settings_view(
    view_: SettingsView,
    disconnect: ServerAction<DisconnectShop>,
    save: ServerAction<SetMarkup>,
) -> impl IntoView {
    let shops = Platform::ALL
        .into_iter()
        .map(|p| {
            let shop = view_.shops.iter().find(|s| s.platform == p).cloned();
            shop_card(p, shop, view_.connectable.contains(&p), disconnect)
        })
        .collect_view();
    let markups = view_
        .markups
        .into_iter()
        .map(|m| markup_form(m, save))
        .collect_view();
    view! {
        <h2 class="mb-2 font-semibold">"Shops"</h2>
        <div class="grid gap-4 md:grid-cols-2">{shops}</div>
        <h2 class="mb-2 mt-6 font-semibold">"Markups"</h2>
        <div class="grid gap-4 md:grid-cols-2">{markups}</div>
    }
    .into_any()
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let query = use_query_map();
    let disconnect = ServerAction::<DisconnectShop>::new();
    let save = ServerAction::<SetMarkup>::new();
    let settings = Resource::new(
        move || (disconnect.version().get(), save.version().get()),
        |_| get_settings(),
    );
    let failure = move || {
        let failed = |r: Option<Result<_, ServerFnError>>| r.and_then(|r| r.err());
        failed(save.value().get().map(|r| r.map(|_| ())))
            .or_else(|| failed(disconnect.value().get()))
            .map(|e| e.to_string())
            .or_else(|| query.read().get("error"))
    };
    view! {
        <DashboardLayout>
            <h1 class="mb-1 text-2xl font-semibold tracking-tight">"Settings"</h1>
            <p class="mb-4 text-sm text-neutral-500">
                "Connect the shops SyncStore lists on, and set the markup each platform's prices carry."
            </p>
            {move || query.read().get("connected").map(|m| view! {
                <p class="mb-4 rounded-lg border border-emerald-200 bg-emerald-50 p-3 text-sm text-emerald-900"
                    role="status" data-testid="settings-notice">{m}</p>
            })}
            {move || failure().map(|message| view! { <ErrorPanel message/> })}
            <Transition fallback=|| view! { <Skeleton rows=6/> }>
                <ErrorBoundary fallback=|errors| view! {
                    <ErrorPanel message=errors.get().into_iter().next().map(|(_, e)| e.to_string()).unwrap_or_default()/>
                }>
                    {move || Suspend::new(async move {
                        settings.await.map(|v| settings_view(v, disconnect, save))
                    })}
                </ErrorBoundary>
            </Transition>
        </DashboardLayout>
    }
}
