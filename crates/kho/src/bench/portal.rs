//! `kho bench portal` — the open data portal at the size of a province's catalogue.
//! It seeds a data directory with open datasets (10,000 by default) from 30 agencies,
//! with Vietnamese titles, keywords and themes, and a table in some of them; then a
//! `kho serve` on that directory answers, over one kept-alive connection:
//!
//! - `package_search` (CKAN Action API) with words typed without diacritics and four
//!   facets, and with a facet filter (`fq`);
//! - the dataset page (`/dataset/{slug}`) of datasets that hold a table: metadata,
//!   versions, a preview table and download links.
//!
//! The reference is CKAN with Solr; neither is installable from the package
//! registries this benchmark may use, so no reference runs beside it and the report
//! says so: Kho's figures are judged against the targets alone.

use super::{dataset::Rng, grouped, http, ms, percentile, verdict, Workdir};
use anyhow::{bail, Context};
use kho_core::agency::{AgencyCode, AgencyKind, NewAgency};
use kho_core::audit::AuditContext;
use kho_core::identity::Subject;
use kho_server::services::{Kho, Load, OnError};
use kho_server::Settings;
use std::path::Path;
use std::time::{Duration, Instant};

const SEARCH_P50_TARGET_MS: f64 = 10.0;
const PAGE_P50_TARGET_MS: f64 = 20.0;
/// Requests sent before timing starts (each measure).
const WARMUP: usize = 10;
/// Rows of each dataset's table.
const TABLE_ROWS: usize = 500;
const AGENCIES: usize = 30;

/// Subjects of datasets: (title words, theme, keywords).
const SUBJECTS: &[(&str, &str, &[&str])] = &[
    ("Danh sách trường học", "giáo dục", &["trường học", "học sinh"]),
    ("Số học sinh theo cấp học", "giáo dục", &["học sinh", "giáo dục phổ thông"]),
    ("Cơ sở y tế", "y tế", &["y tế", "bệnh viện"]),
    ("Số giường bệnh", "y tế", &["bệnh viện", "giường bệnh"]),
    ("Bảng giá đất", "đất đai", &["giá đất", "đất đai"]),
    ("Quy hoạch sử dụng đất", "đất đai", &["quy hoạch", "đất đai"]),
    ("Điểm du lịch", "du lịch", &["du lịch", "di tích"]),
    ("Lượt khách du lịch", "du lịch", &["du lịch", "lưu trú"]),
    ("Doanh nghiệp đăng ký mới", "kinh tế", &["doanh nghiệp", "đăng ký kinh doanh"]),
    ("Chỉ số giá tiêu dùng", "kinh tế", &["giá cả", "thống kê"]),
    ("Hồ sơ thủ tục hành chính", "hành chính công", &["thủ tục hành chính", "dịch vụ công"]),
    ("Chợ và trung tâm thương mại", "công thương", &["chợ", "thương mại"]),
    ("Tuyến xe buýt", "giao thông", &["xe buýt", "giao thông công cộng"]),
    ("Điểm đo chất lượng không khí", "môi trường", &["không khí", "quan trắc"]),
    ("Lượng mưa", "môi trường", &["khí tượng", "mưa"]),
    ("Hộ nghèo và cận nghèo", "lao động xã hội", &["hộ nghèo", "an sinh xã hội"]),
    ("Cơ sở văn hóa, thể thao", "văn hóa", &["văn hóa", "thể thao"]),
    ("Diện tích gieo trồng lúa", "nông nghiệp", &["lúa", "trồng trọt"]),
    ("Trang trại chăn nuôi", "nông nghiệp", &["chăn nuôi", "trang trại"]),
    ("Dân số theo xã, phường", "dân số", &["dân số", "thống kê"]),
];
const LICENCES: &[&str] = &["CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "ODC-BY-1.0"];
const FREQUENCIES: &[&str] = &["annual", "quarterly", "monthly", "irregular"];
/// What people type, without diacritics.
const QUERIES: &[&str] =
    &["truong hoc", "y te", "gia dat", "du lich", "doanh nghiep", "xe buyt", "dan so", "ho ngheo", "lua", "khong khi"];
const FACETS: &[&str] = &["organization", "groups", "tags", "res_format"];

/// What `seed` made.
struct Seeded {
    slugs_with_tables: Vec<String>,
    seconds: f64,
}

/// Seeds the data directory through Kho's own services, as `kho serve` would.
fn seed(data: &Path, files: &Path, datasets: usize, with_tables: usize, seed: u64) -> anyhow::Result<Seeded> {
    let started = Instant::now();
    tokio::runtime::Handle::current().block_on(async {
        let settings = Settings { demo: false, demo_datasets: false, ..Settings::for_data_dir(data) };
        let kho = Kho::open(settings).await?;
        let (operator, ctx) = (Subject::operator(), AuditContext::operator());
        let units = super::dataset::admin_units();
        let mut rng = Rng::new(seed);
        let province = kho
            .create_agency(
                &operator,
                &ctx,
                NewAgency {
                    code: AgencyCode::parse("000.00.00.H24")?,
                    name: "UBND tỉnh Bắc Ninh".into(),
                    name_en: None,
                    kind: AgencyKind::Province,
                    parent_id: None,
                    admin_unit_code: None,
                },
            )
            .await?;
        let mut agencies = Vec::new();
        for i in 1..=AGENCIES {
            let (name, kind) = if i <= 20 {
                (format!("Sở {} tỉnh Bắc Ninh", SUBJECTS[i - 1].1), AgencyKind::Department)
            } else {
                let u = &units[rng.below(units.len() as u64) as usize];
                (format!("UBND {}", u.ward_name), AgencyKind::Commune)
            };
            let new = NewAgency {
                code: AgencyCode::parse(&format!("000.{i:02}.00.H24"))?,
                name,
                name_en: None,
                kind,
                parent_id: Some(province.id.clone()),
                admin_unit_code: None,
            };
            agencies.push(kho.create_agency(&operator, &ctx, new).await?);
        }
        std::fs::create_dir_all(files)?;
        let mut slugs_with_tables = Vec::new();
        for n in 0..datasets {
            let (subject, theme, keywords) = SUBJECTS[n % SUBJECTS.len()];
            let unit = &units[rng.below(units.len() as u64) as usize];
            let year = 2015 + rng.below(11);
            let agency = &agencies[rng.below(AGENCIES as u64) as usize];
            let draft: kho_catalog::ResourceDraft = serde_json::from_value(serde_json::json!({
                "title": format!("{subject} {} năm {year}", unit.ward_name),
                "description": format!(
                    "{subject} trên địa bàn {}, {}, số liệu năm {year} do {} công bố.",
                    unit.ward_name, unit.province_name, agency.name
                ),
                "theme": theme,
                "keywords": keywords,
                "publisher_agency_id": agency.id,
                "sharing_scope": "open",
                "personal_data": "none",
                "licence": LICENCES[rng.below(LICENCES.len() as u64) as usize],
                "update_frequency": FREQUENCIES[rng.below(FREQUENCIES.len() as u64) as usize],
                "spatial": [unit.ward_code],
            }))?;
            let r = kho.create_resource(&operator, &ctx, draft).await?;
            if n < with_tables {
                let path = files.join(format!("{}.csv", r.slug));
                std::fs::write(&path, table_csv(&units, &mut rng))?;
                let load = Load {
                    resource: &r.id,
                    table: "main",
                    path: &path,
                    source_name: format!("{}.csv", r.slug),
                    mode: kho_lake::LoadMode::Replace,
                    key: vec![],
                    format: None,
                    sheet: None,
                    header_row: None,
                    schema: vec![("Mã xã".into(), "text".into())],
                    on_error: OnError::Fail,
                };
                kho.load_table(&operator, &ctx, load, |_| {}).await?;
                // Published through the service: the personal-data rules read the table.
                kho.set_resource_status(&operator, &ctx, &r.id, kho_catalog::Status::Published).await?;
                slugs_with_tables.push(r.slug);
            } else {
                // Metadata only: published in the store, indexed once at the end.
                kho.store.set_resource_status(&ctx, &r.id, kho_catalog::Status::Published).await?;
            }
            if (n + 1) % 1000 == 0 {
                eprint!("\r  seeded {} of {} datasets", grouped(n as u64 + 1), grouped(datasets as u64));
            }
        }
        eprintln!();
        let indexed = kho.reindex_search().await?;
        if indexed != datasets {
            bail!("the search index holds {indexed} datasets, not {datasets}");
        }
        Ok(Seeded { slugs_with_tables, seconds: started.elapsed().as_secs_f64() })
    })
}

/// A small table of a dataset: a row a commune.
fn table_csv(units: &[kho_core::admin_units::AdminUnit], rng: &mut Rng) -> String {
    let mut csv = String::from("Mã xã,Tên xã,Số lượng,Giá trị (đồng),Ngày cập nhật\n");
    for _ in 0..TABLE_ROWS {
        let u = &units[rng.below(units.len() as u64) as usize];
        csv.push_str(&format!("{},{},{},\"", u.ward_code, u.ward_name, rng.below(900)));
        super::dataset::push_grouped(&mut csv, 1_000 * (1 + rng.below(5_000)), '.');
        csv.push_str(&format!("\",{:02}/06/2025\n", 1 + rng.below(28)));
    }
    csv
}

/// Times `paths` (after warming up on `warm`) and checks each answer with `ok`.
fn time_requests(
    client: &mut http::Client,
    warm: &[String],
    paths: &[String],
    ok: impl Fn(&http::Response) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<Duration>> {
    for path in warm {
        let r = client.send("GET", path, &[], b"")?;
        ok(&r).with_context(|| format!("GET {path}"))?;
    }
    let mut times = Vec::with_capacity(paths.len());
    for path in paths {
        let t = Instant::now();
        let r = client.send("GET", path, &[], b"")?;
        times.push(t.elapsed());
        ok(&r).with_context(|| format!("GET {path}"))?;
    }
    times.sort();
    Ok(times)
}

fn search_answered(r: &http::Response) -> anyhow::Result<()> {
    if r.status != 200 {
        bail!("answered {}: {}", r.status, r.text());
    }
    let answer = r.json()?;
    if answer["success"] != true || answer["result"]["count"].as_u64().unwrap_or(0) == 0 {
        bail!("found nothing: {}", r.text());
    }
    Ok(())
}

fn page_answered(r: &http::Response) -> anyhow::Result<()> {
    if r.status != 200 {
        bail!("answered {}: {}", r.status, r.text());
    }
    if !String::from_utf8_lossy(&r.body).contains("<table") {
        bail!("the page has no preview table");
    }
    Ok(())
}

/// Runs the portal benchmark in `work`.
pub fn run(
    work: &mut Workdir,
    kho: &super::Kho,
    datasets: usize,
    requests: usize,
    rng_seed: u64,
) -> anyhow::Result<()> {
    let with_tables = (datasets / 100).clamp(1, 100);
    println!(
        "\n== portal: {} open datasets from {} agencies, {} of them with a table of {} rows ==",
        grouped(datasets as u64),
        AGENCIES,
        with_tables,
        TABLE_ROWS
    );
    let files = work.file("portal-tables");
    let seeded = seed(&kho.data, &files, datasets, with_tables, rng_seed)?;
    println!("  seeded through Kho's services in {:.1} s (then one search reindex)", seeded.seconds);

    let server = http::Server::start(kho.command(Vec::<&str>::new()), &work.file("serve-portal.log"))?;
    let mut client = http::Client::new(&server.address);
    // The agencies' organization names, as CKAN clients learn them (not timed).
    let listed = client.send("GET", "/api/3/action/organization_list", &[], b"")?.json()?;
    let organizations: Vec<String> = serde_json::from_value(listed["result"].clone())
        .map_err(|e| anyhow::anyhow!("organization_list answered something else ({e}): {listed}"))?;
    if organizations.is_empty() {
        bail!("organization_list lists no publishing agency");
    }
    let mut rng = Rng::new(rng_seed ^ 0x0090_47A1);
    let facets: String = FACETS.iter().map(|f| format!("&facet.field={f}")).collect();
    let search = |rng: &mut Rng| {
        let q = QUERIES[rng.below(QUERIES.len() as u64) as usize];
        format!("/api/3/action/package_search?q={}&rows=10{facets}", http::encode(q))
    };
    let filtered = |rng: &mut Rng| {
        let org = &organizations[rng.below(organizations.len() as u64) as usize];
        format!("/api/3/action/package_search?fq={}&rows=10{facets}", http::encode(&format!("organization:{org}")))
    };
    let page = |rng: &mut Rng| {
        let slug = &seeded.slugs_with_tables[rng.below(seeded.slugs_with_tables.len() as u64) as usize];
        format!("/dataset/{slug}")
    };

    // The first request after a change reads the catalogue into memory.
    let t = Instant::now();
    let first = client.send("GET", &search(&mut rng), &[], b"")?;
    let first_time = t.elapsed();
    search_answered(&first).context("the first package_search")?;

    let mut rows = Vec::new();
    for (what, make, check) in [
        ("package_search: words + 4 facets", &search as &dyn Fn(&mut Rng) -> String, search_answered as fn(&_) -> _),
        ("package_search: fq organization + 4 facets", &filtered, search_answered),
        ("dataset page /dataset/{slug}", &page, page_answered),
    ] {
        let warm: Vec<String> = (0..WARMUP).map(|_| make(&mut rng)).collect();
        let paths: Vec<String> = (0..requests).map(|_| make(&mut rng)).collect();
        rows.push((what, time_requests(&mut client, &warm, &paths, check)?));
    }
    let rss = server.stop();

    println!("  reference: CKAN with Solr was not run (neither installs from the package registries here);");
    println!("             Kho's figures are judged against the targets alone");
    println!("  {:<46}{:>10}{:>10}{:>10}", "", "p50", "p95", "requests");
    for (what, times) in &rows {
        println!(
            "  {what:<46}{:>10}{:>10}{:>10}",
            ms(percentile(times, 0.5)),
            ms(percentile(times, 0.95)),
            times.len()
        );
    }
    println!("  {:<46}{:>10}", "first package_search (reads the catalogue)", ms(first_time));
    println!("  server peak RSS: {}", rss.map(super::mb).unwrap_or_else(|| "unknown".into()));
    println!("  times are to the whole answer over a kept-alive local connection (server time and transfer)");
    println!("targets:");
    let p50 = |i: usize| percentile(&rows[i].1, 0.5).as_secs_f64() * 1e3;
    let search_p50 = p50(0).max(p50(1));
    super::target(
        &format!("package_search p50 < {SEARCH_P50_TARGET_MS} ms"),
        &format!("{} ({search_p50:.1} ms, the slower of the two)", verdict(search_p50 < SEARCH_P50_TARGET_MS)),
    );
    super::target(
        &format!("dataset page p50 < {PAGE_P50_TARGET_MS} ms"),
        &format!("{} ({:.1} ms)", verdict(p50(2) < PAGE_P50_TARGET_MS), p50(2)),
    );
    Ok(())
}
