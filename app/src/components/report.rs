//! Reports as pages a person reads: the Markdown SyncStore generates (`syncstore report …`)
//! shown as headings, tables with status badges and lists, small bar charts drawn as SVG on
//! the server, and the Markdown itself one click away as a download.

use leptos::prelude::*;

use crate::api::ChartDto;

/// One block of a report's Markdown.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Heading(usize, String),
    Paragraph(String),
    List(Vec<String>),
    Table {
        head: Vec<String>,
        rows: Vec<Vec<String>>,
    },
}

fn heading(line: &str) -> Option<Block> {
    let level = line.chars().take_while(|c| *c == '#').count();
    let text = line.get(level..)?.strip_prefix(' ')?;
    (1..=4)
        .contains(&level)
        .then(|| Block::Heading(level, text.trim().to_string()))
}

fn cells(row: &str) -> Vec<String> {
    let row = row.trim();
    let row = row.strip_prefix('|').unwrap_or(row);
    let row = row.strip_suffix('|').unwrap_or(row);
    row.split('|').map(|c| c.trim().to_string()).collect()
}

fn is_rule(row: &[String]) -> bool {
    row.iter()
        .all(|c| !c.is_empty() && c.chars().all(|ch| ch == '-' || ch == ':'))
}

fn starts_block(line: &str) -> bool {
    line.is_empty() || line.starts_with('|') || line.starts_with("- ") || heading(line).is_some()
}

/// The Markdown the reports are written in — headings, pipe tables, `-` lists and
/// paragraphs — as blocks.
pub fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = markdown.lines().map(str::trim).peekable();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        if let Some(h) = heading(line) {
            out.push(h);
        } else if line.starts_with('|') {
            let mut rows = vec![cells(line)];
            while let Some(next) = lines.next_if(|l| l.starts_with('|')) {
                rows.push(cells(next));
            }
            let head = rows.remove(0);
            rows.retain(|r| !is_rule(r));
            out.push(Block::Table { head, rows });
        } else if let Some(item) = line.strip_prefix("- ") {
            let mut items = vec![item.to_string()];
            while let Some(next) = lines.next_if(|l| l.starts_with("- ")) {
                items.push(next[2..].to_string());
            }
            out.push(Block::List(items));
        } else {
            let mut text = line.to_string();
            while let Some(next) = lines.next_if(|l| !starts_block(l)) {
                text.push(' ');
                text.push_str(next);
            }
            out.push(Block::Paragraph(text));
        }
    }
    out
}

/// Text with `code` spans; `**` emphasis marks are dropped (the badges carry the emphasis).
fn inline(text: &str) -> impl IntoView {
    text.replace("**", "")
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                view! { <code class="rounded bg-neutral-100 px-1 text-[0.8em]">{part.to_string()}</code> }.into_any()
            } else {
                part.to_string().into_any()
            }
        })
        .collect_view()
}

const GOOD: &str = "bg-emerald-100 text-emerald-900";
const BAD: &str = "bg-red-100 text-red-900";

/// A result the reports state at the start of a cell ("passed: 3 of 3", "FAILED — …",
/// "yes — rollback …", "NOT PASSED"): its length and its badge's colours. Only these
/// phrases, followed by the end, punctuation or a dash, get a badge — "No category had
/// failed attempts" and "Completed with errors" do not.
fn result_phrase(text: &str) -> Option<(usize, &'static str)> {
    const PHRASES: [(&str, &str); 7] = [
        ("not passed", BAD),
        ("passed", GOOD),
        ("failed", BAD),
        ("ready", GOOD),
        ("signed off", GOOD),
        ("yes", GOOD),
        ("no", BAD),
    ];
    let lower = text.to_lowercase();
    PHRASES.into_iter().find_map(|(phrase, tone)| {
        let rest = lower.strip_prefix(phrase)?;
        let after = rest.trim_start();
        let ends = rest.is_empty()
            || rest.starts_with([':', ',', ';', '.'])
            || (rest.starts_with(' ') && (after.is_empty() || after.starts_with(['—', '-', '('])));
        ends.then_some((phrase.len(), tone))
    })
}

#[cfg(test)]
fn tone(text: &str) -> Option<&'static str> {
    result_phrase(text).map(|(_, tone)| tone)
}

fn cell(text: &str) -> AnyView {
    let text = text.replace("**", "");
    match result_phrase(&text).filter(|(len, _)| text.is_char_boundary(*len)) {
        Some((len, class)) => {
            let (first, rest) = text.split_at(len);
            view! {
                <span class=format!("mr-1 inline-flex rounded-md px-1.5 py-0.5 text-xs font-semibold {class}") data-badge=first.to_lowercase()>{first.to_string()}</span>
                {inline(rest)}
            }
            .into_any()
        }
        None => inline(&text).into_any(),
    }
}

fn block_view(block: Block) -> AnyView {
    match block {
        Block::Heading(1, text) => view! { <h2 class="mt-6 text-lg font-semibold first:mt-0">{inline(&text)}</h2> }.into_any(),
        Block::Heading(_, text) => view! { <h3 class="mt-5 font-semibold">{inline(&text)}</h3> }.into_any(),
        Block::Paragraph(text) => view! { <p class="mt-2 text-sm text-neutral-700">{inline(&text)}</p> }.into_any(),
        Block::List(items) => view! {
            <ul class="mt-2 list-disc space-y-1 pl-5 text-sm">
                {items.into_iter().map(|i| view! { <li>{cell(&i)}</li> }).collect_view()}
            </ul>
        }
        .into_any(),
        Block::Table { head, rows } => view! {
            <div class="mt-2 overflow-x-auto rounded-lg border border-neutral-200">
                <table class="w-full text-sm">
                    <thead class="border-b border-neutral-200 bg-neutral-50 text-left text-neutral-500">
                        <tr>{head.into_iter().map(|h| view! { <th class="h-9 px-3 font-medium">{inline(&h)}</th> }).collect_view()}</tr>
                    </thead>
                    <tbody>
                        {rows.into_iter().map(|r| view! {
                            <tr class="border-b border-neutral-100 last:border-0">
                                {r.into_iter().map(|c| view! { <td class="px-3 py-2 align-top">{cell(&c)}</td> }).collect_view()}
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any(),
    }
}

/// A report: its charts, its Markdown as a page, and the Markdown as a download.
#[component]
pub fn Report(
    markdown: String,
    charts: Vec<ChartDto>,
    /// Where `Download Markdown` fetches it from.
    download: String,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div class="mt-3 flex flex-wrap gap-2">
            <a href=download download="" class="text-sm underline underline-offset-4" data-testid="report-download">"Download Markdown"</a>
        </div>
        {(!charts.is_empty()).then(|| view! {
            <div class="mt-3 grid gap-3 lg:grid-cols-2">
                {charts.into_iter().map(|chart| view! { <BarChart chart/> }).collect_view()}
            </div>
        })}
        <article class="mt-3 rounded-xl border border-neutral-200 bg-white p-4" data-testid=testid>
            {blocks(&markdown).into_iter().map(block_view).collect_view()}
        </article>
    }
}

/// Horizontal bars, one per label, scaled to the largest value.
#[component]
pub fn BarChart(chart: ChartDto) -> impl IntoView {
    const ROW: i64 = 20;
    const LABEL: i64 = 130;
    const BAR: i64 = 330;
    let max = chart.bars.iter().map(|b| b.1).max().unwrap_or(1).max(1);
    let height = ROW * chart.bars.len() as i64 + 4;
    let unit = chart.unit.clone();
    view! {
        <figure class="rounded-xl border border-neutral-200 bg-white p-4" data-testid="report-chart">
            <figcaption class="mb-2 text-sm font-medium">{chart.title.clone()}</figcaption>
            <svg viewBox=format!("0 0 560 {height}") class="w-full" role="img" aria-label=chart.title>
                {chart.bars.into_iter().enumerate().map(|(i, (label, value))| {
                    let y = i as i64 * ROW;
                    let width = (value * BAR / max).max(1);
                    view! {
                        <text x="0" y=(y + 14).to_string() font-size="11" fill="#525252">{label}</text>
                        <rect x=LABEL.to_string() y=(y + 3).to_string() width=width.to_string() height="14" rx="2" fill="#171717"></rect>
                        <text x=(LABEL + width + 6).to_string() y=(y + 14).to_string() font-size="11" fill="#171717">{format!("{value} {unit}")}</text>
                    }
                }).collect_view()}
            </svg>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_reads_as_headings_tables_lists_and_paragraphs() {
        let md = "# Batch test report\n\nBatch `abc` to both.\nSecond line.\n\n| Metric | Value |\n|---|---|\n| Success rate | 100.0% (20 of 20) |\n| Spot checks | passed: 3 of 3 |\n\n## Errors\n\n- No attempt failed.\n- Dead letters: 0\n";
        assert_eq!(
            blocks(md),
            vec![
                Block::Heading(1, "Batch test report".into()),
                Block::Paragraph("Batch `abc` to both. Second line.".into()),
                Block::Table {
                    head: vec!["Metric".into(), "Value".into()],
                    rows: vec![
                        vec!["Success rate".into(), "100.0% (20 of 20)".into()],
                        vec!["Spot checks".into(), "passed: 3 of 3".into()],
                    ],
                },
                Block::Heading(2, "Errors".into()),
                Block::List(vec!["No attempt failed.".into(), "Dead letters: 0".into()]),
            ]
        );
    }

    #[test]
    fn results_get_badges_and_other_words_do_not() {
        for (text, badge) in [
            ("passed: 3 of 3", Some(GOOD)),
            ("FAILED — pricing: 3 failing", Some(BAD)),
            ("yes — rollback 1f2e undid 4 listings", Some(GOOD)),
            ("NOT PASSED", Some(BAD)),
            ("no", Some(BAD)),
            ("Completed with errors", None),
            ("No category had failed attempts.", None),
            ("No batch to both platforms has finished yet", None),
            ("not verified", None),
            ("Success", None),
            ("100.0% (20 of 20)", None),
        ] {
            assert_eq!(tone(text), badge, "{text}");
        }
    }
}
